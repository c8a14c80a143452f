"""Sources: list, get, delete, star and unstar, and deleting a whole conversation."""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, request

from journalist_interface import audit_trail
from journalist_interface.api import records
from journalist_interface.api.representations import source_json, sources_url
from journalist_interface.api.source_fragments import source_fragments
from journalist_interface.api.sync import conditional_body
from journalist_interface.staff_reach import reach, visible_source
from seethesigns.audit.actions import CONVERSATION_DELETE, SOURCE_DELETE, STAR, UNSTAR
from seethesigns.models import Source
from seethesigns.sources import delete_source
from seethesigns.web.setup import db, services

bp = Blueprint("sources", __name__)


def source_or_404(source_uuid: str) -> Source:
    """The source named in the URL if it exists for this staff member, or a JSON 404."""
    return visible_source(source_uuid) or abort(404)


def owned_or_403(source: Source) -> Source:
    """The source if their team owns its case (or they are an admin); else a JSON 403.

    A team a case was only shared with may read the shared copies, and do nothing else.
    """
    if not reach().owns(source):
        abort(403, "Only the team that owns this case can do that.")
    return source


@bp.get("/sources")
def all_sources() -> tuple[Response, int]:
    """Every source that has sent something, with counts and public key.

    Built from each source's kept JSON (journalist_interface/api/source_fragments.py); or a
    304 if the client's Etag is current (journalist_interface/api/sync.py).
    """
    return conditional_body(
        "sources", lambda: source_fragments().body(db(), reach(), sources_url()), keep=False
    )


@bp.route("/sources/<source_uuid>", methods=["GET", "DELETE"])
def single_source(source_uuid: str) -> tuple[Response, int]:
    """One source; DELETE destroys it with every file and row."""
    source = source_or_404(source_uuid)
    if request.method == "DELETE":
        owned_or_403(source)
        delete_source(db(), services().store, source)
        audit_trail.record(
            SOURCE_DELETE, audit_trail.of_source(source), designation=source.designation, via="api"
        )
        return jsonify({"message": "Source and submissions deleted"}), 200
    (record,) = records.source_records(db(), reach(), source.uuid)
    return jsonify(source_json(record, sources_url())), 200


def _star(source_uuid: str, starred: bool) -> tuple[Response, int]:
    source = owned_or_403(source_or_404(source_uuid))
    records.set_starred(db(), source, starred)
    audit_trail.record(STAR if starred else UNSTAR, audit_trail.of_source(source), via="api")
    if starred:
        return jsonify({"message": "Star added"}), 201
    return jsonify({"message": "Star removed"}), 200


@bp.post("/sources/<source_uuid>/add_star")
def add_star(source_uuid: str) -> tuple[Response, int]:
    """Star a source for the whole team (the path in a source's add_star_url)."""
    return _star(source_uuid, True)


@bp.delete("/sources/<source_uuid>/remove_star")
def remove_star(source_uuid: str) -> tuple[Response, int]:
    """Unstar a source (the path in a source's remove_star_url)."""
    return _star(source_uuid, False)


@bp.route("/sources/<source_uuid>/star", methods=["POST", "DELETE"])
def star(source_uuid: str) -> tuple[Response, int]:
    """Star (POST) or unstar (DELETE): the paths SecureDrop's API documentation gives."""
    return _star(source_uuid, request.method == "POST")


@bp.post("/sources/<source_uuid>/flag")
def flag(source_uuid: str) -> tuple[Response, int]:
    """Kept for old clients: replies never needed a flag here."""
    source_or_404(source_uuid)
    return jsonify({"message": "Sources no longer need to be flagged for reply"}), 200


@bp.delete("/sources/<source_uuid>/conversation")
def conversation(source_uuid: str) -> tuple[Response, int]:
    """Destroy every submission and reply of a source, keeping the source."""
    source = owned_or_403(source_or_404(source_uuid))
    records.delete_conversation(db(), services().store, source)
    audit_trail.record(
        CONVERSATION_DELETE,
        audit_trail.of_source(source),
        designation=source.designation,
        via="api",
    )
    return jsonify({"message": "Source data deleted"}), 200
