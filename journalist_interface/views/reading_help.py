"""How to read reports: the steps on the offline workstation, with the exact command."""

from __future__ import annotations

from flask import Blueprint, render_template

from journalist_interface.staff_session import login_required

bp = Blueprint("reading_help", __name__)


@bp.get("/help/reading")
@login_required
def reading() -> str:
    """The workstation steps, from download to marking items seen."""
    return render_template("reading_help.html")
