"""Sending one stored, encrypted file exactly as it is on disk."""

from __future__ import annotations

from flask import Response, abort, send_file

from journalist_interface.api.guard import current_staff
from journalist_interface.api.records import mark_seen
from journalist_interface.audit_trail import of_item, record
from seethesigns.audit.actions import ITEM_DOWNLOAD
from seethesigns.models import Reply, Source, Submission
from seethesigns.web.setup import db, services


def send_stored(source: Source, item: Submission | Reply) -> Response:
    """The ciphertext as an attachment, with SecureDrop's Etag, and count it as seen.

    The Etag is the stored checksum, "sha256:<hex>", unquoted, as SecureDrop sends it and its
    client parses it: a client checks its download against it.
    """
    path = services().store.path(source.filesystem_id, item.filename)
    if not path.is_file():
        abort(404)
    if isinstance(item, Submission):
        mark_seen(db(), current_staff(), [item], [])
    else:
        mark_seen(db(), current_staff(), [], [item])
    record(ITEM_DOWNLOAD, of_item(item), source=source.designation, via="api")
    response = send_file(
        path,
        mimetype="application/pgp-encrypted",
        as_attachment=True,
        download_name=item.filename,
        etag=False,
    )
    # Spelled "Etag" as SecureDrop sends it: securedrop-sdk copies the headers into a plain dict
    # and reads headers["Etag"], so Werkzeug's "ETag" fails every download with a KeyError.
    # Headers.__setitem__ keeps this spelling (and would replace any "ETag").
    response.headers["Etag"] = item.checksum
    return response
