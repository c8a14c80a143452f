"""The list of sources, one source's conversation, replying, and deleting a source."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from journalist_interface.audit_trail import of_item, of_source, record
from journalist_interface.inbox import Item, items_of, mark_seen
from journalist_interface.list_query import ListQuery
from journalist_interface.source_list import source_page
from journalist_interface.staff_reach import owned_source_or_404, reach, visible_source_or_404
from journalist_interface.staff_session import login_required
from seethesigns.alerts.outbox import urgent_unacknowledged
from seethesigns.audit.actions import REPLY_SEND, SOURCE_DELETE
from seethesigns.cases import (
    MAX_LABEL_CHARS,
    MAX_NOTE_CHARS,
    STATUS_NAMES,
    case_of,
    staff_choices,
)
from seethesigns.encryption import OutOfSpace
from seethesigns.models import Source
from seethesigns.recipients import encrypted_to, key_names
from seethesigns.replies import MAX_REPLY_CHARS, AccountDeleted, ReplyError, send_reply
from seethesigns.safeguarding_record import recorded_items
from seethesigns.sources import delete_source
from seethesigns.storage import StorageFull
from seethesigns.teams.handover import case_teams
from seethesigns.web.request_body import SMALL_BODY_BYTES, URLENCODED, BodyLimit, takes_body
from seethesigns.web.setup import db, services

bp = Blueprint("sources", __name__)
# A reply of MAX_REPLY_CHARS characters, each up to 4 bytes of UTF-8 percent-encoded as 12.
REPLY_FORM = BodyLimit(max_bytes=12 * MAX_REPLY_CHARS + SMALL_BODY_BYTES, mimetype=URLENCODED)


def conversation_page(source: Source, status: int = 200, **context: Any) -> tuple[str, int]:
    """A source's page: the conversation, the case, and the forms, with any outcome shown.

    A team the case was only shared with sees the shared copies and nothing to work with.
    """
    items = items_of(db(), source, g.staff, reach())
    teams = case_teams(db(), source)
    return render_template(
        "source.html",
        source=source,
        owns=reach().owns(source),
        teams=teams,
        team_names={team.id: team.name for team in [*teams.others, teams.owner] if team},
        items=items,
        keys=_keys_of(source, items),
        case=case_of(db(), source),
        recorded=recorded_items(db(), source) if source.deleted_at else [],
        staff=staff_choices(db()),
        statuses=STATUS_NAMES,
        limits={"reply": MAX_REPLY_CHARS, "note": MAX_NOTE_CHARS, "label": MAX_LABEL_CHARS},
        notice=request.args.get("notice"),
        **context,
    ), status


def _keys_of(source: Source, items: list[Item]) -> dict[str, list[str]]:
    """Who each stored item is encrypted to, read from its session-key packets (issue 14)."""
    names, store = key_names(db()), services().store
    return {
        item.row.uuid: encrypted_to(store.path(source.filesystem_id, item.row.filename), names)
        for item in items
    }


@bp.get("/")
@login_required
def index() -> str:
    """A page of sources, urgent then starred first, then by latest activity, as filtered."""
    query = ListQuery.from_args(request.args)
    return render_template(
        "index.html",
        page=source_page(db(), g.staff, query, reach()),
        urgent_waiting=urgent_unacknowledged(db(), reach()),
        query=query,
        statuses=STATUS_NAMES,
        notice=request.args.get("notice"),
    )


@bp.get("/sources/<source_uuid>")
@login_required
def source(source_uuid: str) -> tuple[str, int]:
    """One source's submissions and replies, in order, with the reply form."""
    return conversation_page(visible_source_or_404(source_uuid))


@bp.post("/sources/<source_uuid>/reply")
@takes_body(REPLY_FORM)
@login_required
def reply(source_uuid: str) -> Response | tuple[str, int]:
    """Encrypt and store a reply; on failure keep what was typed."""
    found = owned_source_or_404(source_uuid)
    text = request.form.get("message", "")
    try:
        sent = send_reply(db(), services().store, services().gpg, found, g.staff, text)
    except AccountDeleted as exc:  # issue 13: a stub has no key to reply to
        return conversation_page(found, 410, error=str(exc))
    except ReplyError as exc:
        return conversation_page(found, 400, error=str(exc), message=text)
    except (StorageFull, OutOfSpace):
        return conversation_page(found, 507, full=True, message=text)
    mark_seen(db(), g.staff, sent)
    record(REPLY_SEND, of_item(sent), source=found.designation)
    return redirect(url_for("sources.source", source_uuid=found.uuid, notice="reply_sent"))


@bp.post("/sources/<source_uuid>/delete")
@login_required
def delete(source_uuid: str) -> Response | tuple[str, int]:
    """Destroy every file and row of a source, once confirmed."""
    found = owned_source_or_404(source_uuid)
    if request.form.get("confirm") != "yes":
        return conversation_page(found, 400, unconfirmed=True)
    delete_source(db(), services().store, found)
    record(SOURCE_DELETE, of_source(found), designation=found.designation)
    return redirect(url_for("sources.index", notice="source_deleted"))
