"""Storing what a source sends: messages and documents, encrypted, durably, all or nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from seethesigns.alerts.outbox import note_report
from seethesigns.cases import reopen_if_closed
from seethesigns.encryption import GpgService
from seethesigns.models import Source, Submission
from seethesigns.models.base import utcnow
from seethesigns.recipients import active_fingerprints
from seethesigns.sources import reserve_number
from seethesigns.storage import Store, checksum, document_name, message_name
from seethesigns.uploads import EncryptingUpload, GzipReader


@dataclass(frozen=True)
class Document:
    """An uploaded file: its stream (spooled encrypted, or EncryptingUpload) and its name."""

    stream: IO[bytes] | EncryptingUpload
    filename: str


def _stored(
    store: Store, source: Source, name: str, arrived: datetime, urgent: bool, digest: str = ""
) -> Submission:
    path = store.path(source.filesystem_id, name)
    return Submission(
        source_id=source.id,
        filename=name,
        size=path.stat().st_size,
        checksum=digest or checksum(path),
        created_at=arrived,
        urgent=urgent,
    )


def submit(
    db: Session,
    store: Store,
    gpg: GpgService,
    source: Source,
    message: str | None,
    documents: list[Document],
    *,
    urgent: bool = False,
    alert: bool = False,
) -> list[Submission]:
    """Encrypt and store a message and documents; keep all of them or none.

    Each file is fsynced and renamed into place before its row is written, and the rows
    are committed together, with the child's urgent mark and, when alert (the instance has
    [alerts]), the alert outbox's row. If
    anything fails, the files already written are destroyed, so a failed submission leaves
    nothing behind.
    """
    written: list[Path] = []
    rows: list[Submission] = []
    # One time for everything sent together: the figures count one report per source and
    # arrival time (seethesigns/figures.py).
    arrived = utcnow()
    # Issue 14: every active key of the team that owns the case, in one message.
    recipients = active_fingerprints(db, gpg, source.team_id)
    try:
        if message:
            name = message_name(reserve_number(db, source), source.designation)
            with store.arriving(source.filesystem_id, name) as partial:
                gpg.encrypt_to_submission_key(message.encode("utf-8"), partial, recipients)
            written.append(store.path(source.filesystem_id, name))
            rows.append(_stored(store, source, name, arrived, urgent))
        for document in documents:
            name = document_name(reserve_number(db, source), source.designation)
            digest = ""  # known already for a file encrypted as it arrived
            if isinstance(document.stream, EncryptingUpload):
                partial, digest = document.stream.ciphertext(recipients)
                store.adopt(partial, source.filesystem_id, name)
            else:
                with store.arriving(source.filesystem_id, name) as partial:
                    gpg.encrypt_to_submission_key(
                        GzipReader(document.stream, document.filename), partial, recipients
                    )
            written.append(store.path(source.filesystem_id, name))
            rows.append(_stored(store, source, name, arrived, urgent, digest))
        db.add_all(rows)
        if urgent:
            source.urgent = True
        if alert:
            note_report(db, urgent=urgent, team_id=source.team_id)
        db.commit()
    except BaseException:
        db.rollback()
        for path in written:
            store.destroy(path)
        raise
    reopen_if_closed(db, source)  # issue 13: a Closed case must not hide a new message
    return rows


def submissions_of(db: Session, source: Source) -> list[Submission]:
    """A source's submissions, oldest first."""
    return list(
        db.scalars(
            select(Submission).where(Submission.source_id == source.id).order_by(Submission.id)
        )
    )


def delete_submission(db: Session, store: Store, source: Source, item: Submission) -> None:
    """Destroy one submission's file, then its row."""
    store.destroy(store.path(source.filesystem_id, item.filename))
    # A statement, not db.delete(): the row may be gone already (the same deletion at once).
    db.execute(delete(Submission).where(Submission.id == item.id))
    refresh_urgent(db, source)
    db.commit()


def refresh_urgent(db: Session, source: Source) -> None:
    """Keep the source's urgent mark true exactly while one of its submissions has it."""
    source.urgent = (
        db.scalar(
            select(Submission.id)
            .where(Submission.source_id == source.id, Submission.urgent.is_(True))
            .limit(1)
        )
        is not None
    )
