"""Reading the audit log for admins: filters, pages newest first, and CSV rows."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from seethesigns.audit.actions import ACTIONS
from seethesigns.models import AuditEntry

PAGE_SIZE = 50
CSV_BATCH = 1000
CSV_HEADER = [
    "id",
    "occurred_at_utc",
    "staff_id",
    "staff_username",
    "action",
    "object_type",
    "object_id",
    "detail",
    "prev_hash",
    "entry_hash",
]
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@dataclass(frozen=True)
class AuditFilter:
    """What an admin asked to see: one staff member, one action, a range of days (UTC)."""

    username: str = ""
    action: str = ""
    since: date | None = None
    until: date | None = None
    page: int = 1

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> AuditFilter:
        """From the query string; an unknown action or a malformed date is ignored."""
        action = args.get("action", "")
        page = args.get("page", "1")
        return cls(
            username=args.get("staff", "")[:64],
            action=action if action in ACTIONS else "",
            since=_day(args.get("since")),
            until=_day(args.get("until")),
            page=int(page) if page.isascii() and page.isdigit() and len(page) < 7 else 1,
        )

    def arguments(self) -> dict[str, str]:
        """The filters as query-string arguments (for links and the CSV export)."""
        found = {
            "staff": self.username,
            "action": self.action,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }
        return {name: value for name, value in found.items() if value}

    def apply(self, query: Select[Any]) -> Select[Any]:
        """The query narrowed to these filters."""
        if self.username:
            query = query.where(AuditEntry.staff_username == self.username)
        if self.action:
            query = query.where(AuditEntry.action == self.action)
        if self.since:
            query = query.where(AuditEntry.occurred_at >= datetime.combine(self.since, time()))
        if self.until:
            end = datetime.combine(self.until + timedelta(days=1), time())
            query = query.where(AuditEntry.occurred_at < end)
        return query


@dataclass(frozen=True)
class AuditPage:
    """One page of entries, newest first."""

    entries: list[AuditEntry]
    page: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages the filtered log fills."""
        return max(1, -(-self.total // PAGE_SIZE))


def audit_page(db: Session, wanted: AuditFilter) -> AuditPage:
    """The page of entries the filter asks for."""
    total = db.scalar(wanted.apply(select(func.count(AuditEntry.id)))) or 0
    page = min(wanted.page, max(1, -(-total // PAGE_SIZE)))
    entries = db.scalars(
        wanted.apply(select(AuditEntry))
        .order_by(AuditEntry.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return AuditPage(list(entries), page, total)


def usernames(db: Session) -> list[str]:
    """Every username the log names, for the staff filter."""
    return list(db.scalars(select(AuditEntry.staff_username).distinct().order_by("staff_username")))


def safe_cell(value: object) -> object:
    """A cell a spreadsheet shows as text: a leading ' before what it would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_rows(db: Session, wanted: AuditFilter) -> Iterator[list[object]]:
    """The header, then every filtered entry newest first, a batch at a time."""
    yield list(CSV_HEADER)
    before: int | None = None
    while True:
        query = wanted.apply(select(AuditEntry)).order_by(AuditEntry.id.desc()).limit(CSV_BATCH)
        if before is not None:
            query = query.where(AuditEntry.id < before)
        batch = db.scalars(query).all()
        for entry in batch:
            cells = [
                entry.id,
                entry.occurred_at.isoformat(timespec="seconds") + "Z",
                entry.staff_id,
                entry.staff_username,
                entry.action,
                entry.object_type,
                entry.object_id,
                entry.detail,
                entry.prev_hash,
                entry.entry_hash,
            ]
            yield [safe_cell(cell) for cell in cells]
        if len(batch) < CSV_BATCH:
            return
        before = batch[-1].id
        db.expunge_all()
