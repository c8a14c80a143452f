"""Waiting for a first reply: a page that checks by itself, with an HTML refresh (no script).

Young people who leave after reporting are hard to reach again; staff who answer within
minutes keep many more of them in contact (issue 12). The page reloads itself every
REFRESH_SECONDS for at most the instance's wait_minutes from the first visit after a report,
then stops, so waiting never keeps a session alive for longer than the instance allows.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from math import ceil

from flask import Blueprint, g, redirect, render_template, url_for
from werkzeug.wrappers import Response

from seethesigns.encryption import DecryptionFailed
from seethesigns.instance_settings import reply_promise
from seethesigns.models.base import utcnow
from seethesigns.replies import DecryptedReply, read_replies
from seethesigns.web.setup import db, services
from source_interface.reply_times import longest_wait, usual_reply_time
from source_interface.session_state import report_sent_at, waiting_since
from source_interface.views.reports import login_required

bp = Blueprint("waiting", __name__)
# Often enough that a reply shows within half a minute; seldom enough for Tor and the server.
REFRESH_SECONDS = 20


def _new_replies(since: datetime) -> tuple[list[DecryptedReply], bool]:
    """Replies sent since then, decrypted as the report page does; and whether that failed."""
    found = services()
    try:
        return read_replies(
            db(), found.store, found.gpg, g.source.source, g.source.key_secret, since
        ), False
    except DecryptionFailed:
        return [], True


def _refresh_after(started: datetime, minutes: int, now: datetime) -> int | None:
    """Seconds until the next check, or None once the wait is over (the last check lands then)."""
    left = started + timedelta(minutes=minutes) - now
    if left <= timedelta(0):
        return None
    return min(REFRESH_SECONDS, max(1, ceil(left.total_seconds())))


@bp.get("/wait")
@login_required
def wait() -> Response | str:
    """Check for a reply; while none has come and time is left, check again by itself."""
    promise = reply_promise(db())
    if not promise.wait_offered:
        return redirect(url_for("reports.lookup"))
    now = utcnow()
    started = waiting_since(now)
    replies, unreadable = _new_replies(report_sent_at() or started)
    refresh = None
    if not replies and not unreadable:
        refresh = _refresh_after(started, promise.wait_minutes, now)
    return render_template(
        "wait.html",
        replies=replies,
        unreadable=unreadable,
        refresh=refresh,
        longest_wait=longest_wait(promise.wait_minutes),
        reply_time=usual_reply_time(promise.reply_within_hours),
    )
