"""Sending one stored, encrypted file exactly as it is on disk, with SecureDrop's Etag."""

from __future__ import annotations

from flask import Response

from journalist_interface.audit_trail import of_item, record
from journalist_interface.sending import send_item
from seethesigns.audit.actions import ITEM_DOWNLOAD
from seethesigns.models import Reply, Source, Submission


def send_stored(source: Source, item: Submission | Reply) -> Response:
    """The ciphertext as an attachment, with SecureDrop's Etag; it does not count as seen.

    Clients mark an item seen with POST /seen once it is opened (issue 13). The Etag is the
    stored checksum, "sha256:<hex>", unquoted, as SecureDrop sends it and its client parses
    it: a client checks its download against it.
    """
    response = send_item(source, item)
    record(ITEM_DOWNLOAD, of_item(item), source=source.designation, via="api")
    # Spelled "Etag" as SecureDrop sends it: securedrop-sdk copies the headers into a plain dict
    # and reads headers["Etag"], so Werkzeug's "ETag" fails every download with a KeyError.
    # Headers.__setitem__ keeps this spelling (and would replace any "ETag").
    response.headers["Etag"] = item.checksum
    return response
