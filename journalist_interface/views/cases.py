"""Case handling on a source's page: status, assignee and note; labels added and removed."""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for
from werkzeug.wrappers import Response

from journalist_interface.audit_trail import of_source, record, record_case_changes
from journalist_interface.staff_reach import owned_source_or_404
from journalist_interface.staff_session import login_required
from journalist_interface.views.sources import conversation_page
from seethesigns.audit.actions import LABEL_ADD, LABEL_REMOVE
from seethesigns.cases import CaseError, add_label, case_of, remove_label, update_case
from seethesigns.web.setup import db

bp = Blueprint("cases", __name__, url_prefix="/sources/<source_uuid>")


def _back(source_uuid: str, notice: str) -> Response:
    return redirect(url_for("sources.source", source_uuid=source_uuid, notice=notice) + "#case")


@bp.post("/case")
@login_required
def update(source_uuid: str) -> Response | tuple[str, int]:
    """Save status, assignee and note together; on a refusal keep what was typed."""
    source = owned_source_or_404(source_uuid)
    form = request.form
    before = case_of(db(), source)
    try:
        update_case(
            db(),
            source,
            status=form.get("status", ""),
            assignee=form.get("assignee", ""),
            note=form.get("note", ""),
        )
    except CaseError as exc:
        return conversation_page(source, 400, case_error=str(exc), note=form.get("note", ""))
    record_case_changes(source, before)
    return _back(source.uuid, "case_saved")


@bp.post("/labels")
@login_required
def label(source_uuid: str) -> Response | tuple[str, int]:
    """Add a label."""
    source = owned_source_or_404(source_uuid)
    text = request.form.get("label", "")
    try:
        add_label(db(), source, text)
    except CaseError as exc:
        return conversation_page(source, 400, label_error=str(exc), label_text=text)
    record(LABEL_ADD, of_source(source), source=source.designation)
    return _back(source.uuid, "label_added")


@bp.post("/labels/remove")
@login_required
def unlabel(source_uuid: str) -> Response | tuple[str, int]:
    """Remove a label."""
    source = owned_source_or_404(source_uuid)
    try:
        remove_label(db(), source, request.form.get("label", ""))
    except CaseError as exc:
        return conversation_page(source, 400, label_error=str(exc))
    record(LABEL_REMOVE, of_source(source), source=source.designation)
    return _back(source.uuid, "label_removed")
