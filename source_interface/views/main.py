"""The landing page, and getting a codename."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from seethesigns.codename_check import FIRST_FIELD, SECOND_FIELD, check_positions, typed_back
from seethesigns.codenames import DerivationBusy, is_genuine, issue_codename
from seethesigns.instance_settings import who_reads
from seethesigns.sources import SourceError, create_source
from seethesigns.web.setup import db, services
from source_interface.busy import busy_page
from source_interface.session_state import current_source, log_in

bp = Blueprint("main", __name__)


def _mac_key() -> bytes:
    key: bytes = current_app.config["SECRET_KEY"]
    return key


@bp.get("/")
def index() -> str:
    """Say what this is, who reads a report, and offer the two ways in."""
    return render_template(
        "index.html", logged_in=current_source() is not None, who=who_reads(db())
    )


@bp.get("/generate")
def generate() -> str:
    """Show a fresh codename; each page load (each tab) gets its own, stored nowhere."""
    issued = issue_codename(_mac_key(), time.time())
    return render_template("generate.html", **_shown(issued.codename, issued.issued, issued.mac))


def _shown(codename: str, issued: str, mac: str) -> dict[str, object]:
    """What the codename page shows: the codename, its MAC, and the two words it asks for."""
    first, second = check_positions(mac)
    return {"codename": codename, "issued": issued, "mac": mac, "first": first, "second": second}


@bp.post("/create")
def create() -> Response | tuple[str, int]:
    """Create the source for the codename shown on /generate, and log them in."""
    form = request.form
    codename = form.get("codename", "")
    if not is_genuine(
        _mac_key(), codename, form.get("issued", ""), form.get("mac", ""), time.time()
    ):
        return render_template("generate_again.html"), 400
    if not typed_back(codename, form["mac"], form.get(FIRST_FIELD, ""), form.get(SECOND_FIELD, "")):
        # The same codename again, with a kind word: nothing they were shown is lost.
        shown = _shown(codename, form["issued"], form["mac"])
        return render_template("generate.html", wrong_words=True, **shown), 400
    found = services()
    try:
        created = create_source(db(), found.deriver, found.gpg, codename)
    except SourceError:
        return render_template("generate_again.html"), 409
    except DerivationBusy:
        # The same codename again: they may have written it down already.
        return busy_page("generate.html", **_shown(codename, form["issued"], form["mac"]))
    log_in(created)
    return redirect(url_for("reports.lookup", new=1))
