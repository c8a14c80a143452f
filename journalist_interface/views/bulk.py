"""Bulk actions: star, download as one zip, or delete the sources or items ticked on a page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from journalist_interface.audit_trail import of_item, of_source, record
from journalist_interface.export import Selection, of_items, of_sources, unread_by, zip_response
from journalist_interface.inbox import (
    delete_items,
    items_by_uuid,
    mark_many_seen,
    mark_unseen,
    sources_by_uuid,
)
from journalist_interface.list_query import ListQuery
from journalist_interface.staff_reach import reach, visible_source_or_404
from journalist_interface.staff_session import login_required
from seethesigns.audit.actions import (
    EXPORT_ZIP,
    ITEM_DELETE,
    SEEN_MARK,
    SOURCE_DELETE,
    STAR,
    UNSEEN_MARK,
    UNSTAR,
)
from seethesigns.cases import set_starred
from seethesigns.models import Reply, Source, Submission
from seethesigns.sources import delete_source
from seethesigns.storage import designation_slug
from seethesigns.web.setup import db, services

bp = Blueprint("bulk", __name__)
# Bounds the work one request can ask for; a page shows 50 sources.
MAX_SELECTED = 1000


def _ticked(name: str) -> list[str]:
    return request.form.getlist(name)[:MAX_SELECTED]


def _list(notice: str) -> Response:
    """Back to the list as it was searched and filtered, with a notice."""
    query = ListQuery.from_args(request.form)
    arguments: dict[str, Any] = {**query.filters(), "notice": notice}
    return redirect(url_for("sources.index", **arguments))


def _zip(selection: Selection, name: str, whose: Source | None = None) -> Response:
    # The uuids ticked (the zip holds those of them that exist); "unread" ticks none. A zip
    # from a source's page names that source, or the log would not say whose reports went out.
    target = of_source(whose) if whose is not None else None
    record(EXPORT_ZIP, target, name=name, sources=_ticked("source"), items=_ticked("item"))
    found = services()
    return zip_response(found.db, found.store, g.staff.id, selection.within(reach()), name)


@bp.post("/bulk/sources")
@login_required
def sources() -> Response | str:
    """Star, unstar, download or (once confirmed) delete the ticked sources."""
    action = request.form.get("action", "")
    chosen = sources_by_uuid(db(), _ticked("source"), reach())
    if not chosen:
        return _list("nothing_selected")
    if action in ("star", "unstar", "delete"):
        # Only the owning team works a case; one only shared with this team is left as it is.
        chosen = [source for source in chosen if reach().owns(source)]
        if not chosen:
            return _list("not_your_team")
    if action in ("star", "unstar"):
        set_starred(db(), [source.uuid for source in chosen], action == "star")
        for source in chosen:
            record(STAR if action == "star" else UNSTAR, of_source(source))
        return _list(f"{action}red")
    if action == "download":
        return _zip(of_sources([source.id for source in chosen]), "sources")
    if action != "delete":
        abort(400)
    if request.form.get("confirm") != "yes":
        query = ListQuery.from_args(request.form)
        return render_template("confirm_delete.html", sources=chosen, query=query)
    for source in chosen:
        delete_source(db(), services().store, source)
        record(SOURCE_DELETE, of_source(source), designation=source.designation)
    return _list("sources_deleted")


@bp.post("/bulk/unread")
@login_required
def unread() -> Response:
    """Everything this person has not yet seen, from every source, as one zip."""
    return _zip(unread_by(g.staff), "unread")


def _mark(items: list[Submission | Reply], seen: bool) -> None:
    """Mark items seen (read on the workstation) or unseen, for this staff member only."""
    if not seen:
        mark_unseen(db(), g.staff, items)
        return
    submissions = [item.id for item in items if isinstance(item, Submission)]
    replies = [item.id for item in items if isinstance(item, Reply)]
    mark_many_seen(db(), g.staff, submissions, replies)


@bp.post("/sources/<source_uuid>/items/bulk")
@login_required
def items(source_uuid: str) -> Response | str:
    """Download all items; or download, mark seen or unseen, or delete the ticked ones."""
    source = visible_source_or_404(source_uuid)
    action = request.form.get("action", "")
    if action == "download_all":
        return _zip(of_sources([source.id]), designation_slug(source.designation), source)
    chosen = items_by_uuid(db(), source, _ticked("item"), reach())
    back = url_for("sources.source", source_uuid=source.uuid, notice="nothing_selected")
    if not chosen:
        return redirect(back)
    if action == "download":
        selection = of_items(source, [item.uuid for item in chosen])
        return _zip(selection, designation_slug(source.designation), source)
    if action in ("seen", "unseen"):
        _mark(chosen, action == "seen")
        for item in chosen:
            record(
                SEEN_MARK if action == "seen" else UNSEEN_MARK,
                of_item(item),
                source=source.designation,
            )
        done = url_for("sources.source", source_uuid=source.uuid, notice=f"marked_{action}")
        return redirect(done)
    if action != "delete":
        abort(400)
    if not reach().owns(source):
        abort(403)
    if request.form.get("confirm") != "yes":
        return render_template("confirm_delete.html", source=source, items=chosen)
    delete_items(db(), services().store, source, chosen)
    for item in chosen:
        record(ITEM_DELETE, of_item(item), source=source.designation)
    return redirect(url_for("sources.source", source_uuid=source.uuid, notice="items_deleted"))
