"""Pages that explain: the signs of exploitation, and hiding a visit to this site."""

from __future__ import annotations

from flask import Blueprint, render_template

from seethesigns.instance_settings import UrgentHelp, urgent_help
from seethesigns.web.setup import database_reachable, db

bp = Blueprint("advice", __name__)


@bp.app_context_processor
def _urgent_help() -> dict[str, object]:
    """Every page names the instance's urgent-help services."""
    return {"urgent_help": urgent_help(db()) if database_reachable() else UrgentHelp()}


@bp.get("/signs")
def signs() -> str:
    """The signs that someone is being exploited, for young people and for those around them."""
    return render_template("signs.html")


@bp.get("/hide-your-visit")
def hide_your_visit() -> str:
    """How to clear history, and how Tor Browser's New Identity helps."""
    return render_template("hide.html")
