"""Who is calling, and who is on the team."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from journalist_interface.api.guard import current_staff
from journalist_interface.api.records import all_staff, has_replies_of_deleted_staff
from journalist_interface.api.representations import deleted_user_json, user_json
from seethesigns.web.setup import db

bp = Blueprint("users", __name__)


@bp.get("/user")
def current_user() -> tuple[Response, int]:
    """The staff member whose token this is, with admin flag and last login."""
    return jsonify(user_json(current_staff(), all_info=True)), 200


@bp.get("/users")
def all_users() -> tuple[Response, int]:
    """Every staff member, and the "deleted" placeholder once a reply's author is gone."""
    users = [user_json(staff) for staff in all_staff(db())]
    if has_replies_of_deleted_staff(db()):
        users.append(deleted_user_json())
    return jsonify({"users": users}), 200
