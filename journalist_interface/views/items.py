"""Downloading and deleting one submission or reply."""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, send_file, url_for
from werkzeug.wrappers import Response

from journalist_interface.audit_trail import of_item, record
from journalist_interface.inbox import find_item, mark_seen
from journalist_interface.staff_session import login_required
from journalist_interface.views.sources import source_or_404
from seethesigns.audit.actions import ITEM_DELETE, ITEM_DOWNLOAD
from seethesigns.models import Submission
from seethesigns.replies import delete_reply
from seethesigns.submissions import delete_submission
from seethesigns.web.setup import db, services

bp = Blueprint("items", __name__, url_prefix="/sources/<source_uuid>/items")


@bp.get("/<item_uuid>/download")
@login_required
def download(source_uuid: str, item_uuid: str) -> Response:
    """Send the encrypted file exactly as stored, and count it as seen by this person."""
    source = source_or_404(source_uuid)
    item = find_item(db(), source, item_uuid) or abort(404)
    path = services().store.path(source.filesystem_id, item.filename)
    if not path.is_file():
        abort(404)
    mark_seen(db(), g.staff, item)
    record(ITEM_DOWNLOAD, of_item(item), source=source.designation)
    return send_file(
        path, mimetype="application/pgp-encrypted", as_attachment=True, download_name=item.filename
    )


@bp.post("/<item_uuid>/delete")
@login_required
def delete(source_uuid: str, item_uuid: str) -> Response:
    """Overwrite and remove one item's file, then its row."""
    source = source_or_404(source_uuid)
    item = find_item(db(), source, item_uuid) or abort(404)
    if isinstance(item, Submission):
        delete_submission(db(), services().store, source, item)
    else:
        delete_reply(db(), services().store, source, item)
    record(ITEM_DELETE, of_item(item), source=source.designation)
    return redirect(url_for("sources.source", source_uuid=source.uuid, notice="item_deleted"))
