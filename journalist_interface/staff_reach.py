"""The signed-in staff member's reach (seethesigns/teams/reach.py), for web and API views."""

from __future__ import annotations

from flask import abort, g

from journalist_interface.inbox import find_source
from seethesigns.models import Source
from seethesigns.teams.reach import Reach
from seethesigns.web.setup import db


def reach() -> Reach:
    """What the signed-in staff member may see: worked out once per request."""
    found: Reach | None = g.get("reach")
    if found is None:
        found = Reach.of(db(), g.staff)
        g.reach = found
    return found


def visible_source(source_uuid: str) -> Source | None:
    """The source named, if it exists for this staff member; None as for an unknown one."""
    source = find_source(db(), source_uuid)
    if source is None or not reach().may_see(db(), source):
        return None
    return source


def visible_source_or_404(source_uuid: str) -> Source:
    """The source named if this staff member may see it; else the 404 of an unknown source.

    A case of another team is not there for them at all: a 403 would tell them it exists.
    """
    return visible_source(source_uuid) or abort(404)


def owned_source_or_404(source_uuid: str) -> Source:
    """The source named if this staff member's team owns it (or they are an admin).

    A case only shared with their team is visible but not theirs to work: 403.
    """
    source = visible_source_or_404(source_uuid)
    if not reach().owns(source):
        abort(403)
    return source
