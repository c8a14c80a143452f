"""Recording staff actions in the audit log from the staff interface and its API.

Each view calls one function here after its action is committed. The entry holds who, what,
and the random identifiers staff already see; never content, codenames, the client's address
or its user agent (docs/threat-model.md, "The audit log").
"""

from __future__ import annotations

from typing import Any

from flask import g
from sqlalchemy import select

from seethesigns.audit.actions import (
    CASE_ASSIGN,
    CASE_NOTE,
    CASE_STATUS,
    LOGIN_FAILURE,
    LOGOUT,
    UNKNOWN_USERNAME,
)
from seethesigns.audit.chain import Actor, Target, append
from seethesigns.cases import CaseView, case_of
from seethesigns.models import Reply, Source, Staff, Submission
from seethesigns.settings import Settings, SettingsError
from seethesigns.web.setup import db, services


def check_audit_key(settings: Settings) -> None:
    """Refuse to build the staff app without the chain's key: every action must be logged."""
    if settings.audit_key is None:
        raise SettingsError(
            "settings: [audit] key is missing: run `seethesigns migrate` to add one"
        )


def actor_of(staff: Staff | None) -> Actor:
    """The staff member as they are now, or nobody."""
    if staff is None:
        return Actor(None, UNKNOWN_USERNAME)
    return Actor(staff.id, staff.username)


def record(
    action: str, target: Target | None = None, *, staff: Staff | None = None, **detail: Any
) -> None:
    """Append an entry for the logged-in staff member (g.staff), or for staff if given."""
    _append(actor_of(staff if staff is not None else g.get("staff")), action, target, detail)


def _append(who: Actor, action: str, target: Target | None, detail: dict[str, Any]) -> None:
    key = services().settings.audit_key
    assert key is not None  # check_audit_key refused to start without it
    append(services().db, key, who, action, target, detail or None)


def record_login_failure(username: str, via: str) -> None:
    """A failed login: the account tried if it exists, else "unknown". Never the secrets."""
    found = db().scalar(select(Staff).where(Staff.username == username))
    _append(actor_of(found), LOGIN_FAILURE, None, {"via": via})


def record_logout(staff: Staff | None) -> None:
    """A logout by a logged-in staff member (a logout without a session is nobody's)."""
    if staff is not None:
        record(LOGOUT, staff=staff, via="web")


def of_source(source: Source) -> Target:
    """A source, by its uuid (its designation goes in the detail)."""
    return Target("source", source.uuid)


def of_item(item: Submission | Reply) -> Target:
    """A submission or a reply, by its uuid."""
    return Target("submission" if isinstance(item, Submission) else "reply", item.uuid)


def of_staff(staff: Staff) -> Target:
    """A staff account, by its uuid."""
    return Target("staff", staff.uuid)


def record_case_changes(source: Source, before: CaseView) -> None:
    """One entry per part of the case that changed: status, assignee, note (never its text)."""
    after = case_of(db(), source)
    target, designation = of_source(source), source.designation
    if after.status != before.status:
        record(CASE_STATUS, target, source=designation, status=after.status, was=before.status)
    if after.assignee_id != before.assignee_id:
        assignee = db().get(Staff, after.assignee_id) if after.assignee_id else None
        name = assignee.username if assignee else None
        record(
            CASE_ASSIGN, target, source=designation, assignee_id=after.assignee_id, assignee=name
        )
    if after.note != before.note:
        record(CASE_NOTE, target, source=designation, cleared=not after.note)
