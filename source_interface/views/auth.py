"""Coming back with a codename, leaving, and deleting everything."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from seethesigns.codename_reading import WordNotOnList, WrongWordCount
from seethesigns.codenames import DerivationBusy
from seethesigns.safeguarding_record import delete_account as keep_stub
from seethesigns.sources import find_source
from seethesigns.web.setup import db, services
from source_interface.busy import busy_page
from source_interface.session_state import current_source, log_in, log_out

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    """Log in with a codename; every failure looks and takes the same."""
    if request.method == "GET":
        return render_template("login.html")
    try:
        found = find_source(db(), services().deriver, request.form.get("codename", ""))
    except DerivationBusy:
        return busy_page("login.html")  # never with the codename: it is not put in a page
    except WordNotOnList as unknown:
        # Which word, by number: no word of a codename is put in a page that could be kept.
        return render_template("login.html", unknown_word=unknown.position), 401
    except WrongWordCount:
        return render_template("login.html", word_count=True), 401
    if found is None:
        return render_template("login.html", failed=True), 401
    log_in(found)
    return redirect(url_for("reports.lookup"))


@bp.get("/logout")
def logged_out() -> str:
    """How to leave no trace; offers the logout button if still logged in."""
    return render_template("logout.html", logged_in=current_source() is not None)


@bp.post("/logout")
def logout() -> Response:
    """End the session."""
    log_out()
    return redirect(url_for("auth.logged_out"))


@bp.route("/delete-account", methods=["GET", "POST"])
def delete_account() -> Response | str | tuple[str, int]:
    """Delete the account after they confirm; staff keep a content-free stub (issue 13)."""
    found = current_source()
    if found is None:
        return redirect(url_for("auth.login"))
    if request.method == "GET":
        return render_template("delete_account.html")
    if request.form.get("confirm") != "yes":
        return render_template("delete_account.html", unconfirmed=True), 400
    keep_stub(db(), services().store, found.source)
    log_out()
    return render_template("deleted.html")
