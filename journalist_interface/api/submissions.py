"""Submissions: list all or one source's, get, download and delete one."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify, request

from journalist_interface import audit_trail
from journalist_interface.api import records
from journalist_interface.api.downloads import send_stored
from journalist_interface.api.representations import sources_url, submission_json
from journalist_interface.api.sources import owned_or_403, source_or_404
from journalist_interface.api.sync import conditional_list
from journalist_interface.staff_reach import reach
from seethesigns.audit.actions import ITEM_DELETE
from seethesigns.models import Source, Submission
from seethesigns.submissions import delete_submission
from seethesigns.web.setup import db, services

bp = Blueprint("submissions", __name__)


def _submission_or_404(source: Source, submission_uuid: str) -> Submission:
    return records.find_submission(db(), source, submission_uuid, reach()) or abort(404)


@bp.get("/submissions")
def all_submissions() -> tuple[Response, int]:
    """Every submission of every source, in two queries; or a 304 if the client's is current."""

    def build() -> list[dict[str, Any]]:
        base = sources_url()
        return [submission_json(item, base) for item in records.submission_records(db(), reach())]

    return conditional_list("submissions", build)


@bp.get("/sources/<source_uuid>/submissions")
def source_submissions(source_uuid: str) -> tuple[Response, int]:
    """One source's submissions, oldest first."""
    found = records.submission_records(db(), reach(), source=source_or_404(source_uuid))
    base = sources_url()
    return jsonify({"submissions": [submission_json(item, base) for item in found]}), 200


@bp.route("/sources/<source_uuid>/submissions/<submission_uuid>", methods=["GET", "DELETE"])
def single_submission(source_uuid: str, submission_uuid: str) -> tuple[Response, int]:
    """One submission; DELETE overwrites and removes its file, then its row."""
    source = source_or_404(source_uuid)
    submission = _submission_or_404(source, submission_uuid)
    if request.method == "DELETE":
        owned_or_403(source)
        delete_submission(db(), services().store, source, submission)
        audit_trail.record(
            ITEM_DELETE, audit_trail.of_item(submission), source=source.designation, via="api"
        )
        return jsonify({"message": "Submission deleted"}), 200
    (record,) = records.submission_records(db(), reach(), submission=submission)
    return jsonify(submission_json(record, sources_url())), 200


@bp.get("/sources/<source_uuid>/submissions/<submission_uuid>/download")
def download_submission(source_uuid: str, submission_uuid: str) -> Response:
    """The encrypted file as stored; POST /seen marks it seen."""
    source = source_or_404(source_uuid)
    return send_stored(source, _submission_or_404(source, submission_uuid))
