"""Sending one stored item exactly as stored, for the web page and the Journalist API alike.

Downloading is not reading (issue 13): it records the first download, never a seen mark. An
item of a deleted account is kept only until its first download, so it is destroyed once the
whole file has gone out; a download cut short leaves it for another try.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from flask import Response, abort, send_file
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.models import Reply, Source, Submission
from seethesigns.safeguarding_record import destroy_if_kept_only_for_download, record_download
from seethesigns.storage import Store
from seethesigns.web.setup import db, services

CHUNK = 64 * 1024


def send_item(source: Source, item: Submission | Reply) -> Response:
    """The ciphertext as an attachment; a 404 if its file is gone."""
    store = services().store
    path = store.path(source.filesystem_id, item.filename)
    if not path.is_file():
        abort(404)
    record_download(db(), item)
    if source.deleted_at is None or not isinstance(item, Submission):
        return send_file(
            path,
            mimetype="application/pgp-encrypted",
            as_attachment=True,
            download_name=item.filename,
            etag=False,
        )
    response = Response(
        _then_destroy(path, services().db, store, item.id),
        mimetype="application/pgp-encrypted",
        headers={"Content-Disposition": f"attachment; filename={item.filename}"},
    )
    response.content_length = path.stat().st_size
    return response


def _then_destroy(
    path: Path, factory: sessionmaker[Session], store: Store, submission_id: int
) -> Iterator[bytes]:
    """The file's chunks; once the last has been taken, destroy the item (own session)."""
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk
    # Reached only when the server asks past the last chunk: the whole file went out.
    with factory() as session:
        found = session.execute(
            select(Submission, Source)
            .join(Source, Source.id == Submission.source_id)
            .where(Submission.id == submission_id)
        ).first()
        if found is not None:
            destroy_if_kept_only_for_download(session, store, found[1], found[0])
