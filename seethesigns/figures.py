"""Figures for the partnership's board, per ISO week, from metadata alone (issue 13).

Nothing here reads a report: only the times the server keeps anyway (when items arrived, when
staff first downloaded them, when staff replied), the urgent mark the child chose, and case
statuses. The definitions, shown on the page too:

- A *report* is one sending action of a young person: everything one source sent together
  (a message, files, or both), which `submissions.submit` stamps with one arrival time. It is
  a *first* report when it is the source's earliest one still held, else a *returning* one.
- A report is *urgent* if the child marked it so.
- *Time to first download* runs from a report's arrival to the first time any staff member
  downloaded any of its items; *time to first reply*, to the first reply to that source sent
  at or after the arrival. Reports not yet downloaded (or answered) are counted apart and
  left out of the median and the 90th percentile.
- The *median* is the middle value (the mean of the two middle values for an even count);
  the *90th percentile* is the nearest-rank one: the smallest value at least 90 % of the
  values are at or below.
- A week is an ISO week, Monday to Sunday in UTC, and a report belongs to the week it
  arrived in.

Each figure is a few aggregate queries, whatever the number of sources: reports are grouped,
ranked and picked out in SQL, and only a handful of rows per week come back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from seethesigns.models import CASE_STATUSES, Case, Reply, Source, Submission

REPORTS = "reports"
DOWNLOAD = "download"
REPLY = "reply"


@dataclass(frozen=True)
class Spread:
    """How long reports waited for something: how many did, the median and the 90th percentile.

    `waiting` counts the reports of the week for which it has not happened yet.
    """

    measured: int
    waiting: int
    median_seconds: float | None
    p90_seconds: float | None


@dataclass(frozen=True)
class WeekFigures:
    """One ISO week's reports and how quickly staff reached them."""

    monday: date
    reports: int
    first_reports: int
    urgent: int
    to_download: Spread
    to_reply: Spread

    @property
    def label(self) -> str:
        """The ISO week, e.g. "2026-W49"."""
        year, week, _ = self.monday.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def returning_reports(self) -> int:
        """Reports from sources who had reported before."""
        return self.reports - self.first_reports

    @property
    def urgent_share(self) -> float | None:
        """The share of the week's reports marked urgent, 0 to 1; None with no reports."""
        return self.urgent / self.reports if self.reports else None


@dataclass(frozen=True)
class Figures:
    """Every week from the first report held to the last, newest first, and today's cases."""

    weeks: list[WeekFigures]
    statuses: list[tuple[str, int]]


def _week_start(db: Session, moment: Any) -> ColumnElement[Any]:
    """The Monday of moment's ISO week, as a date (text on SQLite)."""
    if db.get_bind().dialect.name == "postgresql":
        return func.date(func.date_trunc("week", moment))
    # 'weekday 0' moves forward to the Sunday ending the ISO week (or stays on a Sunday).
    return func.date(moment, "weekday 0", "-6 days")


def _seconds(db: Session, later: Any, earlier: Any) -> ColumnElement[Any]:
    """The seconds from earlier to later (NULL if either is)."""
    if db.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    # Rounded to the millisecond: a julianday is a double of about 2.46 million days, whose
    # last bits would otherwise show as 3600.00003 seconds.
    return func.round((func.julianday(later) - func.julianday(earlier)) * 86400.0, 3)


def _reports(db: Session) -> Any:
    """One row per report: its week, whether it is urgent, first, and its two waits."""
    grouped = (
        select(
            Submission.source_id.label("source_id"),
            Submission.created_at.label("arrived"),
            func.max(cast(Submission.urgent, Integer)).label("urgent"),
            # The first download of any of the report's items (issue 13: not "seen", which
            # now means opened on the workstation).
            func.min(Submission.downloaded_at).label("downloaded"),
        )
        .group_by(Submission.source_id, Submission.created_at)
        .cte("grouped")
    )
    first_reply = (
        select(func.min(Reply.created_at))
        .where(Reply.source_id == grouped.c.source_id, Reply.created_at >= grouped.c.arrived)
        .scalar_subquery()
    )
    earliest = func.min(grouped.c.arrived).over(partition_by=grouped.c.source_id)
    return (
        select(
            _week_start(db, grouped.c.arrived).label("week"),
            grouped.c.urgent.label("urgent"),
            cast(grouped.c.arrived == earliest, Integer).label("first"),
            _seconds(db, grouped.c.downloaded, grouped.c.arrived).label(DOWNLOAD),
            _seconds(db, first_reply, grouped.c.arrived).label(REPLY),
        )
        .cte("reports")
        .prefix_with("MATERIALIZED")
    )  # worked out once, read three times


def _ranks_picked(reports: Any, metric: str) -> Any:
    """The values of metric at the median's and the 90th percentile's ranks, per week."""
    value = reports.c[metric]
    ranked = (
        select(
            reports.c.week.label("week"),
            value.label("seconds"),
            func.row_number().over(partition_by=reports.c.week, order_by=value).label("rank"),
            func.count().over(partition_by=reports.c.week).label("n"),
        )
        .where(value.is_not(None))
        .subquery()
    )
    n, rank = ranked.c.n, ranked.c["rank"]
    # Without division (whose result type differs between databases): the median's ranks
    # are (n+1)//2 and (n+2)//2, the ranks r with n <= 2r <= n+2; the 90th percentile's is
    # ceil(0.9 n), the r with 9n <= 10r < 9n + 10.
    median = (2 * rank).between(n, n + 2)
    p90 = and_(10 * rank >= 9 * n, 10 * rank < 9 * n + 10)
    return select(literal(metric).label("metric"), ranked.c.week, rank, n, ranked.c.seconds).where(
        or_(median, p90)
    )


def _spread(picked: dict[int, float], n: int, waiting: int) -> Spread:
    """Median and nearest-rank 90th percentile from the values at the ranks picked in SQL."""
    if not n:
        return Spread(0, waiting, None, None)
    median = (picked[(n + 1) // 2] + picked[(n + 2) // 2]) / 2
    return Spread(n, waiting, median, picked[(9 * n + 9) // 10])


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _totals(reports: Any) -> Any:
    """Per week: the number of reports, of first reports and of urgent ones."""
    return select(
        literal(REPORTS).label("metric"),
        reports.c.week,
        func.count(),
        func.sum(reports.c.first),
        func.sum(reports.c.urgent),
    ).group_by(reports.c.week)


def weekly_figures(db: Session) -> list[WeekFigures]:
    """Every week from the first report held to the last, newest first; empty weeks included.

    One statement: the weekly totals and the values at the ranks wanted, for both waits.
    """
    reports = _reports(db)
    statement = union_all(
        _totals(reports), _ranks_picked(reports, DOWNLOAD), _ranks_picked(reports, REPLY)
    )
    totals: dict[date, tuple[int, int, int]] = {}
    measured: dict[tuple[str, date], int] = {}
    picked: dict[tuple[str, date], dict[int, float]] = {}
    for metric, week, first, second, third in db.execute(statement):
        monday = _day(week)
        if metric == REPORTS:
            totals[monday] = (int(first), int(second or 0), int(third or 0))
        else:  # rank, n, seconds
            measured[metric, monday] = int(second)
            picked.setdefault((metric, monday), {})[int(first)] = float(third)
    if not totals:
        return []
    by_week = {}
    for monday, (count, first_reports, urgent) in totals.items():
        spreads = []
        for metric in (DOWNLOAD, REPLY):
            n = measured.get((metric, monday), 0)
            spreads.append(_spread(picked.get((metric, monday), {}), n, count - n))
        by_week[monday] = WeekFigures(monday, count, first_reports, urgent, *spreads)
    weeks = []
    monday, last = min(by_week), max(by_week)
    while monday <= last:
        empty = Spread(0, 0, None, None)
        weeks.append(by_week.get(monday, WeekFigures(monday, 0, 0, 0, empty, empty)))
        monday += timedelta(days=7)
    return weeks[::-1]


def case_statuses(db: Session) -> list[tuple[str, int]]:
    """How many cases are in each status now: every source that has sent something.

    A source nobody has touched has no case row yet: it counts as "new".
    """
    status = func.coalesce(Case.status, "new")
    has_sent = exists().where(Submission.source_id == Source.id)
    rows = db.execute(
        select(status, func.count())
        .select_from(Source)
        .outerjoin(Case, Case.source_id == Source.id)
        .where(or_(Case.source_id.is_not(None), has_sent))
        .group_by(status)
    ).all()
    counts = {name: 0 for name in CASE_STATUSES} | {name: count for name, count in rows}
    known = list(CASE_STATUSES)
    return [(name, counts[name]) for name in known + sorted(set(counts) - set(known))]


def partnership_figures(db: Session) -> Figures:
    """The weekly figures and today's case statuses."""
    return Figures(weekly_figures(db), case_statuses(db))
