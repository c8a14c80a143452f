"""Replies: list, get, download, delete, and post one that the client has encrypted."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, Response, abort, jsonify, request

from journalist_interface import audit_trail
from journalist_interface.api import records
from journalist_interface.api.downloads import send_stored
from journalist_interface.api.guard import current_staff, json_object
from journalist_interface.api.representations import reply_json, sources_url
from journalist_interface.api.sources import owned_or_403, source_or_404
from journalist_interface.api.sync import conditional_list
from journalist_interface.staff_reach import reach
from seethesigns.audit.actions import ITEM_DELETE, REPLY_SEND
from seethesigns.models import Reply, Source
from seethesigns.replies import (
    AccountDeleted,
    NotEncryptedForSource,
    ReplyError,
    ReplyUuidTaken,
    delete_reply,
    store_prepared_reply,
)
from seethesigns.storage import StorageFull
from seethesigns.web.setup import db, services

bp = Blueprint("replies", __name__)


def _reply_or_404(source: Source, reply_uuid: str) -> Reply:
    return records.find_reply(db(), source, reply_uuid, reach()) or abort(404)


def _requested_uuid(value: object) -> str | None:
    """The reply uuid a client chose, normalised, or None; 400 if it is not a uuid."""
    if value is None:
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        abort(400, "'uuid' was not a valid UUID")


@bp.get("/replies")
def all_replies() -> tuple[Response, int]:
    """Every reply to every source, in two queries; or a 304 if the client's is current."""

    def build() -> list[dict[str, Any]]:
        base = sources_url()
        return [reply_json(item, base) for item in records.reply_records(db(), reach())]

    return conditional_list("replies", build)


@bp.route("/sources/<source_uuid>/replies", methods=["GET", "POST"])
def source_replies(source_uuid: str) -> tuple[Response, int]:
    """One source's replies; POST stores a reply the client has already encrypted."""
    source = source_or_404(source_uuid)
    if request.method == "GET":
        found = records.reply_records(db(), reach(), source=source)
        return jsonify({"replies": [reply_json(item, sources_url()) for item in found]}), 200
    owned_or_403(source)
    data = json_object()
    if "reply" not in data:
        abort(400, "reply not found in request body")
    if not data["reply"] or not isinstance(data["reply"], str):
        abort(400, "reply should not be empty")
    chosen = _requested_uuid(data.get("uuid"))
    store, gpg = services().store, services().gpg
    try:
        reply = store_prepared_reply(
            db(), store, gpg, source, current_staff(), data["reply"], chosen
        )
    except AccountDeleted:
        abort(410, "The source deleted their account; replies cannot reach them.")
    except NotEncryptedForSource:
        abort(400, "You must encrypt replies client side")
    except ReplyUuidTaken:
        abort(409, "That UUID is already in use.")
    except ReplyError as exc:
        abort(400, str(exc))
    except StorageFull:
        abort(507, "The server's disk is full; the reply was not stored.")
    records.mark_seen(db(), current_staff(), [], [reply])
    audit_trail.record(REPLY_SEND, audit_trail.of_item(reply), source=source.designation, via="api")
    body = {"message": "Your reply has been stored", "uuid": reply.uuid, "filename": reply.filename}
    return jsonify(body), 201


@bp.route("/sources/<source_uuid>/replies/<reply_uuid>", methods=["GET", "DELETE"])
def single_reply(source_uuid: str, reply_uuid: str) -> tuple[Response, int]:
    """One reply; DELETE overwrites and removes its file, then its row."""
    source = source_or_404(source_uuid)
    reply = _reply_or_404(source, reply_uuid)
    if request.method == "DELETE":
        owned_or_403(source)
        delete_reply(db(), services().store, source, reply)
        audit_trail.record(
            ITEM_DELETE, audit_trail.of_item(reply), source=source.designation, via="api"
        )
        return jsonify({"message": "Reply deleted"}), 200
    (record,) = records.reply_records(db(), reach(), reply=reply)
    return jsonify(reply_json(record, sources_url())), 200


@bp.get("/sources/<source_uuid>/replies/<reply_uuid>/download")
def download_reply(source_uuid: str, reply_uuid: str) -> Response:
    """The encrypted reply as stored; POST /seen marks it seen."""
    source = source_or_404(source_uuid)
    return send_stored(source, _reply_or_404(source, reply_uuid))
