"""Case handling: status, assignee, labels, a note and the star. Staff-only, never the source's.

These rows sit beside the encrypted content, never inside it: nothing here is encrypted to the
submission key, so it must stay short working metadata, not a second copy of the report.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm import Session

from seethesigns.db import forget_deleted
from seethesigns.models import CASE_STATUSES, Case, CaseLabel, Source, Staff
from seethesigns.models.base import utcnow

STATUS_NAMES = {
    "new": "New",
    "new_activity": "New activity",
    "in_review": "In review",
    "referred": "Referred",
    "closed": "Closed",
}
# What the "New" filter finds: untouched cases, and Closed ones the young person wrote to again.
NEW_STATUSES = ("new", "new_activity")
MAX_NOTE_CHARS = 1000
MAX_LABEL_CHARS = 64
MAX_LABELS = 20


class CaseError(ValueError):
    """A case change was refused; the message says why, for the person who made it."""


@dataclass(frozen=True)
class CaseView:
    """A source's case as staff see it."""

    status: str
    assignee_id: int | None
    note: str
    labels: list[str]
    updated_at: datetime | None

    @property
    def status_name(self) -> str:
        """The status as shown, e.g. "In review"."""
        return STATUS_NAMES[self.status]


def case_of(db: Session, source: Source) -> CaseView:
    """The case of a source; a source nobody has touched yet is "new", unassigned, unlabelled."""
    row = db.get(Case, source.id)
    labels = labels_of(db, [source.id]).get(source.id, [])
    if row is None:
        return CaseView("new", None, "", labels, None)
    return CaseView(row.status, row.assignee_id, row.note or "", labels, row.updated_at)


def labels_of(db: Session, source_ids: Collection[int]) -> dict[int, list[str]]:
    """The labels of several sources at once, sorted, keyed by source id."""
    found: dict[int, list[str]] = {}
    if not source_ids:
        return found
    rows = db.execute(
        select(CaseLabel.source_id, CaseLabel.label)
        .where(CaseLabel.source_id.in_(source_ids))
        .order_by(CaseLabel.source_id, CaseLabel.label)
    )
    for source_id, label in rows:
        found.setdefault(source_id, []).append(label)
    return found


def _row(db: Session, source: Source) -> Case:
    row = db.get(Case, source.id)
    if row is None:
        row = Case(source_id=source.id, status="new")
        db.add(row)
    row.updated_at = utcnow()
    return row


def update_case(db: Session, source: Source, *, status: str, assignee: str, note: str) -> None:
    """Set status, assignee (a staff uuid, "" for nobody) and note together, or change nothing."""
    if status not in CASE_STATUSES:
        raise CaseError("choose one of the listed statuses")
    assignee_id = db.scalar(select(Staff.id).where(Staff.uuid == assignee)) if assignee else None
    if assignee and assignee_id is None:
        raise CaseError("that staff member no longer exists")
    note = note.replace("\r\n", "\n").strip()
    if len(note) > MAX_NOTE_CHARS:
        raise CaseError(f"a note can be at most {MAX_NOTE_CHARS} characters")
    row = _row(db, source)
    replaced = row.note is not None and row.note != note
    row.status, row.assignee_id, row.note = status, assignee_id, note or None
    db.commit()
    if replaced:
        forget_deleted(db)  # the old note is still in the WAL until then


def reopen_if_closed(db: Session, source: Source) -> None:
    """A new message on a Closed case makes it "New activity", so the "New" filter finds it."""
    db.execute(
        update(Case)
        .where(Case.source_id == source.id, Case.status == "closed")
        .values(status="new_activity", updated_at=utcnow())
    )
    db.commit()


def normalize_label(text: str) -> str:
    """ "  Knife   CRIME " -> "knife crime"; raises CaseError for an empty or unusable label."""
    label = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    if not label:
        raise CaseError("a label cannot be empty")
    if len(label) > MAX_LABEL_CHARS:
        raise CaseError(f"a label can be at most {MAX_LABEL_CHARS} characters")
    if not label.isprintable():
        raise CaseError("a label can hold only printable characters")
    return label


def add_label(db: Session, source: Source, text: str) -> str:
    """Label a source (adding a label it already has changes nothing); returns the label."""
    label = normalize_label(text)
    if db.get(CaseLabel, (source.id, label)) is not None:
        return label
    count = db.scalar(select(func.count()).where(CaseLabel.source_id == source.id)) or 0
    if count >= MAX_LABELS:
        raise CaseError(f"a source can have at most {MAX_LABELS} labels")
    db.add(CaseLabel(source_id=source.id, label=label))
    _row(db, source)
    db.commit()
    return label


def remove_label(db: Session, source: Source, text: str) -> None:
    """Take a label off a source; removing one it does not have changes nothing."""
    db.execute(
        delete(CaseLabel).where(
            CaseLabel.source_id == source.id, CaseLabel.label == normalize_label(text)
        )
    )
    db.commit()
    forget_deleted(db)


def set_starred(db: Session, source_uuids: Collection[str], starred: bool) -> int:
    """Star or unstar sources for the whole team; returns how many exist. Activity is untouched."""
    if not source_uuids:
        return 0
    result = db.execute(
        update(Source).where(Source.uuid.in_(source_uuids)).values(is_starred=starred)
    )
    db.commit()
    return cast(CursorResult[Any], result).rowcount


def staff_choices(db: Session) -> list[Staff]:
    """Everyone a case can be assigned to, by username."""
    return list(db.scalars(select(Staff).order_by(Staff.username)))
