"""The logged-in source's page: replies, and sending more."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from seethesigns.codenames import DerivationBusy
from seethesigns.encryption import DecryptionFailed, EncryptionError, OutOfSpace
from seethesigns.instance_settings import (
    instance_config,
    reply_promise,
    urgent_help,
    who_reads,
)
from seethesigns.models.base import utcnow
from seethesigns.replies import (
    count_deleted_by_source,
    delete_for_source,
    read_replies,
    visible_to_source,
)
from seethesigns.settings import Settings
from seethesigns.storage import StorageFull
from seethesigns.submission_rules import SubmissionRefused, check_submission
from seethesigns.submissions import Document
from seethesigns.submissions import submit as store_submission
from seethesigns.web.request_body import (
    SMALL_BODY_BYTES,
    UPLOAD_FRAMING_BYTES,
    BodyLimit,
    takes_body,
)
from seethesigns.web.setup import db, services
from source_interface.busy import RETRY_AFTER
from source_interface.guided_report import CHOICES, GuidedReport
from source_interface.languages import language_for_staff
from source_interface.reply_times import usual_reply_time
from source_interface.session_state import current_source, remember_report, report_about

bp = Blueprint("reports", __name__)
F = TypeVar("F", bound=Callable[..., Any])
# The form's fields, old and new, and the files of one report: a few dozen, not Werkzeug's 1,000.
MAX_PARTS = 64
# Who the report is about, as the page's two links choose it and the form's `who` posts it.
ABOUT = {"me": "me", "other": "other", "both": "other"}


def submission_body(settings: Settings) -> BodyLimit:
    """A report: files up to the instance's limit, text fields up to the message limit."""
    return BodyLimit(
        max_bytes=settings.max_upload_bytes + UPLOAD_FRAMING_BYTES,
        max_parts=MAX_PARTS,
        # Up to 4 bytes of UTF-8 a character.
        max_field_bytes=SMALL_BODY_BYTES + 4 * settings.max_message_chars,
    )


def login_required(view: F) -> F:
    """Send anyone not logged in to the login page."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        g.source = current_source()
        if g.source is None:
            return redirect(url_for("auth.login"))
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def _about(answers: dict[str, str]) -> str | None:
    """Whose report this is: what the form posted, else the link chosen; None until then."""
    return ABOUT.get(answers.get("who") or request.args.get("about", ""))


def _page(
    status: int = 200, answers: dict[str, str] | None = None, **context: Any
) -> tuple[str, int]:
    found = services()
    answers = answers or {}
    try:
        replies = read_replies(db(), found.store, found.gpg, g.source.source, g.source.key_secret)
        unreadable = False
    except DecryptionFailed:
        replies, unreadable = [], True
    return render_template(
        "lookup.html",
        replies=replies,
        deleted=count_deleted_by_source(db(), g.source.source),
        unreadable=unreadable,
        max_message=found.settings.max_message_chars,
        max_bytes=found.settings.max_upload_bytes,
        new=request.args.get("new") == "1",
        config=instance_config(db()),
        choices=CHOICES,
        answers=answers,
        about=_about(answers),
        **context,
    ), status


@bp.get("/lookup")
@login_required
def lookup() -> tuple[str, int]:
    """Show replies and the form to send more."""
    return _page()


@bp.post("/submit")
@takes_body(submission_body)
@login_required
def submit() -> Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    """Encrypt and store the report and files; acknowledge only once they are on disk."""
    report = GuidedReport.from_form(request.form)
    message = report.message(language_for_staff())
    documents = [
        Document(f.stream, f.filename or "") for f in request.files.getlist("fh") if f.filename
    ]
    if report.is_empty() and not documents:
        return _page(400, error="empty", answers=report.form_answers())
    if len(message) > services().settings.max_message_chars:
        return _page(400, error="too_long", answers=report.form_answers())
    found = services()
    config = instance_config(db())
    try:
        check_submission(
            db(), found.deriver, config, g.source.source, report.content(), bool(documents)
        )
    except SubmissionRefused as refused:
        # A codename is not put back into the page: it should not be sent or shown anywhere.
        answers = report.form_answers()
        kept = {"who": answers.get("who", "")} if refused.reason == "codename" else answers
        return _page(400, error=refused.reason, answers=kept)
    except DerivationBusy:
        # Not known to be their codename (that check is what could not run), and losing a
        # report someone dared to write is worse: the words go back into the form.
        body, status = _page(503, error="busy", answers=report.form_answers())
        return body, status, RETRY_AFTER
    try:
        store_submission(
            db(),
            found.store,
            found.gpg,
            g.source.source,
            message or None,
            documents,
            urgent=request.form.get("urgent") == "1",
            alert=found.settings.alerts is not None,
        )
    except (StorageFull, OutOfSpace):
        return _page(507, error="full", answers=report.form_answers())
    except EncryptionError:
        # gpg failed, or the case's keys changed while a file was arriving (it was encrypted
        # to the old ones as it came, and its plaintext is gone). Nothing was kept: the words
        # go back into the form, and the file must be chosen again.
        error = "file_again" if documents else "busy"
        body, status = _page(503, error=error, answers=report.form_answers())
        return body, status, RETRY_AFTER
    # Who it was about decides what the confirmation says ("You are not in trouble" is for
    # a child about themselves); kept in the server-side session, never in the address.
    remember_report(report.answers.get("who"), utcnow())
    return redirect(url_for("reports.sent"))


@bp.get("/sent")
@login_required
def sent() -> str:
    """A calm confirmation: what will happen, who may be told, when a reply comes."""
    promise = reply_promise(db())
    return render_template(
        "sent.html",
        about=report_about(),
        promise=promise,
        reply_time=usual_reply_time(promise.reply_within_hours),
        adult_help=urgent_help(db()),
        who=who_reads(db()),
    )


@bp.get("/delete-reply")
@login_required
def confirm_delete_reply() -> Response | str:
    """Ask before deleting one reply: a tap by mistake must not lose it."""
    reply_uuid = request.args.get("reply", "")
    if reply_uuid not in {r.uuid for r in visible_to_source(db(), g.source.source)}:
        return redirect(url_for("reports.lookup"))
    return render_template("delete_replies.html", reply_uuid=reply_uuid)


@bp.post("/delete-reply")
@login_required
def delete_one_reply() -> Response:
    """Hide one reply from the source once they have confirmed; staff keep it."""
    reply_uuid = request.form.get("reply_uuid", "")
    if request.form.get("confirm") != "yes":
        return redirect(url_for("reports.confirm_delete_reply", reply=reply_uuid), 303)
    delete_for_source(db(), g.source.source, [reply_uuid])
    return redirect(url_for("reports.lookup"))


@bp.get("/delete-all-replies")
@login_required
def confirm_delete_all_replies() -> Response | str:
    """Ask before deleting every reply."""
    if not visible_to_source(db(), g.source.source):
        return redirect(url_for("reports.lookup"))
    return render_template("delete_replies.html", reply_uuid=None)


@bp.post("/delete-all-replies")
@login_required
def delete_all_replies() -> Response:
    """Hide every reply from the source once they have confirmed; staff keep them."""
    if request.form.get("confirm") != "yes":
        return redirect(url_for("reports.confirm_delete_all_replies"), 303)
    delete_for_source(db(), g.source.source)
    return redirect(url_for("reports.lookup"))
