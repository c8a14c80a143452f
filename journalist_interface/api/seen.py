"""Marking files, messages and replies as seen by the calling staff member."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify

from journalist_interface.api import records
from journalist_interface.api.guard import current_staff, json_object
from journalist_interface.audit_trail import record
from journalist_interface.staff_reach import reach
from seethesigns.audit.actions import SEEN_MARK
from seethesigns.web.setup import db

bp = Blueprint("seen", __name__)
KINDS = ("files", "messages", "replies")
# Bounds the IN (...) lists below, under SQLite's limit on bound parameters.
MAX_ITEMS = 10_000


def _uuid_list(body: dict[str, Any], kind: str) -> list[str]:
    value = body.get(kind, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        abort(400, f"{kind} must be a list of UUIDs")
    return value


@bp.post("/seen")
def seen() -> tuple[Response, int]:
    """Mark the listed items seen; if any one is not found (404), none are marked."""
    body = json_object()
    if not any(body.get(kind) for kind in KINDS):
        abort(400, "Please specify the resources to mark seen.")
    files, messages, replies = (_uuid_list(body, kind) for kind in KINDS)
    if len(files) + len(messages) + len(replies) > MAX_ITEMS:
        abort(400, f"at most {MAX_ITEMS} items can be marked seen at once")
    submissions = records.submissions_by_uuid(db(), files + messages, reach())
    for item_uuid in files:
        found = submissions.get(item_uuid)
        if found is None or found.is_message:
            abort(404, f"file not found: {item_uuid}")
    for item_uuid in messages:
        found = submissions.get(item_uuid)
        if found is None or not found.is_message:
            abort(404, f"message not found: {item_uuid}")
    found_replies = records.replies_by_uuid(db(), replies, reach())
    for item_uuid in replies:
        if item_uuid not in found_replies:
            abort(404, f"reply not found: {item_uuid}")
    records.mark_seen(db(), current_staff(), submissions.values(), found_replies.values())
    # Counts, not uuids: a client may mark 10,000 items at once.
    record(SEEN_MARK, None, submissions=len(submissions), replies=len(found_replies), via="api")
    return jsonify({"message": "resources marked seen"}), 200
