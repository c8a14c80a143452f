"""The partnership's figures, on a real database file with arrival, download and reply times
chosen so that every median and 90th percentile below is known exactly."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from seethesigns.figures import Spread, case_statuses, weekly_figures
from seethesigns.models import Case, Reply, SeenSubmission, Source, Staff, Submission
from seethesigns.spreadsheet import csv_text, safe_cell

MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0


class Instance:
    """Rows written straight to the database with the times a test needs."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self.sources = 0
        self.items = 0
        self.staff = [Staff(username=name, passphrase_hash="x", totp_secret="x") for name in "xy"]
        db.add_all(self.staff)
        db.flush()

    def source(self, status: str | None = None) -> Source:
        """A source; with a case row in that status if one is given."""
        self.sources += 1
        n = self.sources
        source = Source(
            filesystem_id=f"fs{n}",
            designation=f"source {n}",
            pgp_fingerprint="f",
            pgp_public_key="k",
            pgp_secret_key="k",
        )
        self.db.add(source)
        self.db.flush()
        if status is not None:
            self.db.add(Case(source_id=source.id, status=status))
        return source

    def report(
        self, source: Source, at: str, *, kinds: str = "msg", urgent: bool = False
    ) -> list[Submission]:
        """What a source sent together at one time: one item per kind."""
        items = []
        for kind in kinds.split():
            self.items += 1
            items.append(
                Submission(
                    source_id=source.id,
                    filename=f"{self.items}-x-{kind}.gpg",
                    size=1,
                    checksum="sha256:x",
                    created_at=datetime.fromisoformat(at),
                    urgent=urgent,
                )
            )
        self.db.add_all(items)
        self.db.flush()
        return items

    def download(self, item: Submission, at: str, by: int = 0) -> None:
        """A staff member downloaded an item (the first download is what is kept)."""
        when = datetime.fromisoformat(at)
        if item.downloaded_at is None or when < item.downloaded_at:
            item.downloaded_at = when
        # Opening it is another matter: a seen mark alone does not count as a download.
        self.db.add(SeenSubmission(submission_id=item.id, staff_id=self.staff[by].id, seen_at=when))

    def reply(self, source: Source, at: str) -> None:
        """Staff replied to a source."""
        self.items += 1
        self.db.add(
            Reply(
                source_id=source.id,
                staff_id=self.staff[0].id,
                filename=f"{self.items}-x-reply.gpg",
                size=1,
                checksum="sha256:x",
                created_at=datetime.fromisoformat(at),
            )
        )


@pytest.fixture
def instance(db: Session) -> Instance:
    """Three ISO weeks: W45 with four reports, W46 with none, W47 with eleven."""
    made = Instance(db)
    # W45 (Monday 2 November 2026).
    one = made.source("in_review")
    first = made.report(one, "2026-11-02 09:00:00", kinds="msg doc", urgent=True)
    made.download(first[1], "2026-11-02 09:30:00")  # 30 min
    made.download(first[0], "2026-11-02 10:00:00", by=1)  # later, by someone else: not first
    made.reply(one, "2026-11-02 11:00:00")  # 2 h
    again = made.report(one, "2026-11-04 08:00:00")  # returning
    made.download(again[0], "2026-11-04 08:10:00")  # 10 min
    made.reply(one, "2026-11-05 08:00:00")  # 1 day after the second report
    two = made.source("closed")
    second = made.report(two, "2026-11-03 10:00:00", kinds="doc doc")
    made.download(second[0], "2026-11-03 12:00:00")  # 2 h
    made.reply(two, "2026-11-03 20:00:00")  # 10 h
    three = made.source()
    late = made.report(three, "2026-11-08 23:30:00")  # Sunday night: still W45
    made.download(late[0], "2026-11-09 00:30:00")  # 1 h; never replied to
    # W47 (Monday 16 November): one report never downloaded, ten downloaded after 1..10 min.
    four = made.source("referred")
    made.report(four, "2026-11-16 12:00:00")
    for minutes in range(1, 11):
        source = made.source()
        arrived = datetime(2026, 11, 16) + timedelta(hours=minutes - 1)  # the first at 00:00
        items = made.report(source, arrived.isoformat(" "), urgent=minutes <= 2)
        made.download(items[0], (arrived + timedelta(minutes=minutes)).isoformat(" "))
    made.source()  # a codename that never sent anything
    made.source("closed")  # a case whose items were all deleted: still a case
    db.commit()
    return made


def test_reports_are_counted_per_iso_week_with_empty_weeks_shown(
    db: Session, instance: Instance
) -> None:
    weeks = weekly_figures(db)
    assert [week.label for week in weeks] == ["2026-W47", "2026-W46", "2026-W45"]
    assert [week.monday for week in weeks] == [
        date(2026, 11, 16),
        date(2026, 11, 9),
        date(2026, 11, 2),
    ]
    w47, w46, w45 = weeks
    assert (w45.reports, w45.first_reports, w45.returning_reports) == (4, 3, 1)
    assert (w45.urgent, w45.urgent_share) == (1, 0.25)
    assert (w46.reports, w46.urgent_share) == (0, None)
    assert (w47.reports, w47.first_reports, w47.urgent) == (11, 11, 2)


def test_median_and_90th_percentile_of_the_wait_for_a_first_download(
    db: Session, instance: Instance
) -> None:
    w47, w46, w45 = weekly_figures(db)
    # W45: 10 min, 30 min, 1 h, 2 h: the median is halfway between the middle two.
    assert w45.to_download == Spread(4, 0, (30 * MINUTE + HOUR) / 2, 2 * HOUR)
    # W47: 1..10 min and one not yet: median 5.5 min; 90th percentile 9 min (rank 9 of 10).
    assert w47.to_download == Spread(10, 1, 5.5 * MINUTE, 9 * MINUTE)
    assert w46.to_download == Spread(0, 0, None, None)


def test_median_and_90th_percentile_of_the_wait_for_a_first_reply(
    db: Session, instance: Instance
) -> None:
    w47, _, w45 = weekly_figures(db)
    # W45: 2 h, 10 h, 1 day (the returning report's own wait); the Sunday one still waits.
    assert w45.to_reply == Spread(3, 1, 10 * HOUR, DAY)
    assert w47.to_reply == Spread(0, 11, None, None)


def test_cases_by_status_count_every_source_that_sent_something(
    db: Session, instance: Instance
) -> None:
    assert case_statuses(db) == [
        ("new", 11),
        ("new_activity", 0),
        ("in_review", 1),
        ("referred", 1),
        ("closed", 2),
    ]


def test_no_reports_no_weeks(db: Session) -> None:
    assert weekly_figures(db) == []
    assert case_statuses(db) == [
        ("new", 0),
        ("new_activity", 0),
        ("in_review", 0),
        ("referred", 0),
        ("closed", 0),
    ]


def test_a_cell_a_spreadsheet_would_run_is_made_text() -> None:
    for formula in ("=1+1", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(formula) == "'" + formula
    assert safe_cell(None) == "" and safe_cell(12) == "12" and safe_cell("2026-W45") == "2026-W45"
    assert (
        csv_text(["a", "=b"], [[1, '=HYPERLINK("x")']]) == 'a,\'=b\r\n1,"\'=HYPERLINK(""x"")"\r\n'
    )
