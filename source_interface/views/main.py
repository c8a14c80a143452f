"""The landing page, and getting a codename."""

from __future__ import annotations

import hashlib
import hmac
import time

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from seethesigns.codenames import generate_codename
from seethesigns.sources import SourceError, create_source
from seethesigns.web.setup import db, services
from source_interface.session_state import current_source, log_in

bp = Blueprint("main", __name__)
CODENAME_VALID_SECONDS = 6 * 3600


def _codename_mac(codename: str, issued: str) -> str:
    """Binds a codename to this server, so /create only accepts codenames it generated."""
    key = current_app.config["SECRET_KEY"]
    message = f"codename|{issued}|{codename}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@bp.get("/")
def index() -> str:
    """Say what this is, and offer the two ways in."""
    return render_template("index.html", logged_in=current_source() is not None)


@bp.get("/generate")
def generate() -> str:
    """Show a fresh codename; each page load (each tab) gets its own, stored nowhere."""
    codename = generate_codename()
    issued = str(int(time.time()))
    return render_template(
        "generate.html", codename=codename, issued=issued, mac=_codename_mac(codename, issued)
    )


def _genuine(codename: str, issued: str, mac: str) -> bool:
    if not issued.isdigit() or time.time() - int(issued) > CODENAME_VALID_SECONDS:
        return False
    return hmac.compare_digest(_codename_mac(codename, issued), mac)


@bp.post("/create")
def create() -> Response | tuple[str, int]:
    """Create the source for the codename shown on /generate, and log them in."""
    codename = request.form.get("codename", "")
    if not _genuine(codename, request.form.get("issued", ""), request.form.get("mac", "")):
        return render_template("generate_again.html"), 400
    found = services()
    try:
        created = create_source(db(), found.deriver, found.gpg, codename)
    except SourceError:
        return render_template("generate_again.html"), 409
    log_in(created)
    return redirect(url_for("reports.lookup", new=1))
