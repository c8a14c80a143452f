"""Sending one stored, encrypted file exactly as it is on disk."""

from __future__ import annotations

from flask import Response, abort, send_file

from journalist_interface.api.guard import current_staff
from journalist_interface.api.records import mark_seen
from seethesigns.models import Reply, Source, Submission
from seethesigns.web.setup import db, services


def send_stored(source: Source, item: Submission | Reply) -> Response:
    """The ciphertext as an attachment, with SecureDrop's ETag, and count it as seen.

    The ETag is the stored checksum, "sha256:<hex>", unquoted, as SecureDrop sends it and its
    client parses it: a client checks its download against it.
    """
    path = services().store.path(source.filesystem_id, item.filename)
    if not path.is_file():
        abort(404)
    if isinstance(item, Submission):
        mark_seen(db(), current_staff(), [item], [])
    else:
        mark_seen(db(), current_staff(), [], [item])
    response = send_file(
        path,
        mimetype="application/pgp-encrypted",
        as_attachment=True,
        download_name=item.filename,
        etag=False,
    )
    response.headers["ETag"] = item.checksum
    return response
