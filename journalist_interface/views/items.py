"""Downloading, marking seen or unseen, and deleting one submission or reply."""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, url_for
from werkzeug.wrappers import Response

from journalist_interface.audit_trail import of_item, record
from journalist_interface.inbox import find_item, mark_seen, mark_unseen
from journalist_interface.sending import send_item
from journalist_interface.staff_reach import owned_source_or_404, reach, visible_source_or_404
from journalist_interface.staff_session import login_required
from seethesigns.audit.actions import ITEM_DELETE, ITEM_DOWNLOAD, SEEN_MARK, UNSEEN_MARK
from seethesigns.models import Reply, Source, Submission
from seethesigns.replies import delete_reply
from seethesigns.submissions import delete_submission
from seethesigns.web.setup import db, services

bp = Blueprint("items", __name__, url_prefix="/sources/<source_uuid>/items")


def _item_or_404(source: Source, item_uuid: str) -> Submission | Reply:
    return find_item(db(), source, item_uuid, reach()) or abort(404)


@bp.get("/<item_uuid>/download")
@login_required
def download(source_uuid: str, item_uuid: str) -> Response:
    """Send the encrypted file exactly as stored; reading it on the workstation is "seen"."""
    source = visible_source_or_404(source_uuid)
    item = _item_or_404(source, item_uuid)
    response = send_item(source, item)
    record(ITEM_DOWNLOAD, of_item(item), source=source.designation)
    return response


@bp.post("/<item_uuid>/seen")
@login_required
def seen(source_uuid: str, item_uuid: str) -> Response:
    """Mark one item as seen by this staff member: they have read it on the workstation."""
    source = visible_source_or_404(source_uuid)
    item = _item_or_404(source, item_uuid)
    mark_seen(db(), g.staff, item)
    record(SEEN_MARK, of_item(item), source=source.designation)
    return redirect(url_for("sources.source", source_uuid=source.uuid, notice="marked_seen"))


@bp.post("/<item_uuid>/unseen")
@login_required
def unseen(source_uuid: str, item_uuid: str) -> Response:
    """Mark one item as not yet seen by this staff member."""
    source = visible_source_or_404(source_uuid)
    item = _item_or_404(source, item_uuid)
    mark_unseen(db(), g.staff, [item])
    record(UNSEEN_MARK, of_item(item), source=source.designation)
    return redirect(url_for("sources.source", source_uuid=source.uuid, notice="marked_unseen"))


@bp.post("/<item_uuid>/delete")
@login_required
def delete(source_uuid: str, item_uuid: str) -> Response:
    """Overwrite and remove one item's file, then its row."""
    source = owned_source_or_404(source_uuid)
    item = _item_or_404(source, item_uuid)
    if isinstance(item, Submission):
        delete_submission(db(), services().store, source, item)
    else:
        delete_reply(db(), services().store, source, item)
    record(ITEM_DELETE, of_item(item), source=source.designation)
    return redirect(url_for("sources.source", source_uuid=source.uuid, notice="item_deleted"))
