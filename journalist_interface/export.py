"""Bulk downloads: which stored files to put in the zip, and the streamed response itself."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from flask import Response
from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from journalist_interface.source_list import unseen_reply, unseen_submission
from seethesigns.export import ExportEntry, zip_stream
from seethesigns.models import Reply, Source, Staff, Submission
from seethesigns.models.base import utcnow
from seethesigns.safeguarding_record import record_exported
from seethesigns.storage import Store
from seethesigns.teams.reach import Reach

BATCH = 500


@dataclass(frozen=True)
class Selection:
    """Which submissions and which replies to export (each a WHERE clause on its table)."""

    submissions: ColumnElement[bool]
    replies: ColumnElement[bool]

    def within(self, reach: Reach) -> Selection:
        """Only what this staff member may see (issue 14): their teams' and shared copies."""
        return Selection(
            and_(self.submissions, reach.visible_submissions()),
            and_(self.replies, reach.visible_replies()),
        )


def of_sources(source_ids: list[int]) -> Selection:
    """Everything of these sources."""
    return Selection(Submission.source_id.in_(source_ids), Reply.source_id.in_(source_ids))


def of_items(source: Source, item_uuids: list[str]) -> Selection:
    """These items of one source (uuids of other sources' items match nothing)."""
    return Selection(
        (Submission.source_id == source.id) & Submission.uuid.in_(item_uuids),
        (Reply.source_id == source.id) & Reply.uuid.in_(item_uuids),
    )


def unread_by(staff: Staff) -> Selection:
    """Everything this staff member has not seen, across all sources."""
    return Selection(unseen_submission(staff.id), unseen_reply(staff.id))


def _batches(db: Session, store: Store, kind: str, statement: Select[Any]) -> Iterator[ExportEntry]:
    """The rows of statement as entries, fetched BATCH at a time by keyset on the item id."""
    model = Submission if kind == "submission" else Reply
    last = 0
    while True:
        rows = db.execute(statement.where(model.id > last).order_by(model.id).limit(BATCH)).all()
        for id_, filename, created_at, filesystem_id, designation in rows:
            path = store.path(filesystem_id, filename)
            yield ExportEntry(kind, id_, path, designation, filename, created_at)
        if len(rows) < BATCH:
            return
        last = rows[-1][0]


def entries(db: Session, store: Store, selection: Selection) -> Iterator[ExportEntry]:
    """The selected files, submissions first; never more than BATCH rows in memory."""
    for kind, model, where in (
        ("submission", Submission, selection.submissions),
        ("reply", Reply, selection.replies),
    ):
        statement = (
            select(model.id, model.filename, model.created_at, Source.filesystem_id)
            .add_columns(Source.designation)
            .join(Source, Source.id == model.source_id)
            .where(where)
        )
        yield from _batches(db, store, kind, statement)


def zip_response(
    factory: sessionmaker[Session], store: Store, staff_id: int, selection: Selection, name: str
) -> Response:
    """The selected files as one streamed zip; each counts as downloaded once sent.

    Downloading is not seen (issue 13): staff mark items seen once read on the workstation.

    The stream outlives the request, so it runs on a database session of its own.
    """

    def chunks() -> Iterator[bytes]:
        with factory() as db:
            staff = db.get(Staff, staff_id)
            if staff is None:
                return
            yield from zip_stream(entries(db, store, selection), _marker(db, store))

    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    return Response(
        chunks(),
        mimetype="application/zip",
        headers={"Content-Disposition": f"attachment; filename={name}-{stamp}.zip"},
    )


def _marker(db: Session, store: Store) -> Callable[[list[ExportEntry]], None]:
    def exported(done: list[ExportEntry]) -> None:
        record_exported(db, store, [entry.id for entry in done if entry.kind == "submission"])

    return exported
