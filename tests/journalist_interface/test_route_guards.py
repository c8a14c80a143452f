"""Every route of the staff interface, enumerated from app.url_map, refuses whoever may not use it.

Refused: an anonymous browser, everywhere but the few public routes; a staff member who is not
an admin, on every admin route; a powerful action (managing staff, changing one's own secrets)
without a recent re-authentication; a state change without a valid CSRF token (web) or without
an API token (API). URLs carry the uuids of real rows and forms carry values that would act, so a
missing guard would really delete, reply or grant; each test then compares the database and the
store with how they were before.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from journalist_interface.staff_session import admin_required, reauthentication_required
from seethesigns.cases import add_label, set_starred, update_case
from seethesigns.codenames import generate_codename
from seethesigns.instance_settings import set_logo
from seethesigns.models import Base, Staff
from seethesigns.recipients import add_recipient
from seethesigns.replies import send_reply
from seethesigns.settings import Settings
from seethesigns.sources import create_source
from seethesigns.staff_accounts import NewStaff
from seethesigns.submissions import Document, submit
from seethesigns.teams.membership import create_team
from seethesigns.web.setup import EXTENSION, Services
from tests.conftest import OfflineKey, SpareKeys, csrf_token
from tests.journalist_interface.api.conftest import API, auth, client_encrypt, token_of
from tests.journalist_interface.conftest import (
    MESSAGE,
    add_staff,
    log_in,
    page_of,
    reauthenticate,
)
from tests.seethesigns.test_logos import png

# Reachable without logging in: the login form, the stylesheet, and the logo it shows.
PUBLIC_WEB = frozenset({"auth.login", "static", "branding.logo"})
# SecureDrop's API answers these without a token: the list of resources, and getting a token.
PUBLIC_API = frozenset({("GET", f"{API}/"), ("POST", f"{API}/token")})
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Columns of an audit entry as snapshot() holds it (the order of models/audit_entry.py).
AUDIT_USERNAME, AUDIT_ACTION, AUDIT_DETAIL = 3, 4, 7
PLACEHOLDER = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")
# The function admin_required wraps around a view: every admin view shares its code object,
# which is how the tests below find the admin routes in the app rather than in a list.
ADMIN_GUARD = admin_required(lambda: None).__code__
# The same for the re-authentication check, found anywhere in a view's chain of wrappers.
REAUTH_GUARD = reauthentication_required("sources.index")(lambda: None).__code__

# Whatever else the app grows, at least these must be found, so no test passes on an empty set.
MIN_ADMIN = frozenset(
    {
        "admin_staff.index",
        "admin_staff.add",
        "admin_staff.manage",
        "admin_staff.change_admin",
        "admin_staff.reset_passphrase",
        "admin_staff.reset_two_factor",
        "admin_staff.confirm_two_factor",
        "admin_staff.delete",
        "admin_settings.index",
        "admin_settings.logo",
        "admin_settings.delete_logo",
        "alerts.timing",
        "admin_audit.index",
        "admin_audit.export",
        "admin_audit.retention",
        "admin_recipients.index",
        "admin_recipients.add",
        "admin_recipients.retire",
        "admin_teams.index",
        "admin_teams.add",
        "admin_teams.rename",
        "admin_teams.front",
        "admin_teams.membership",
    }
)
# Powerful actions: an open session is not enough (SecureDrop audit SEC-01-010).
MIN_POWERFUL = frozenset(
    {
        "admin_staff.add",
        "admin_staff.change_admin",
        "admin_staff.reset_passphrase",
        "admin_staff.reset_two_factor",
        "admin_staff.confirm_two_factor",
        "admin_staff.delete",
        "account.new_passphrase",
        "account.new_two_factor",
        "admin_recipients.add",
        "admin_recipients.retire",
        "admin_teams.add",
        "admin_teams.rename",
        "admin_teams.front",
        "admin_teams.membership",
        "account.confirm_two_factor",
        "alerts.choose",
    }
)
MIN_WEB = MIN_ADMIN | {
    "auth.logout",
    "reauth.reauthenticate",
    "sources.index",
    "sources.source",
    "sources.reply",
    "sources.delete",
    "items.download",
    "items.delete",
    "cases.update",
    "cases.label",
    "cases.unlabel",
    "bulk.sources",
    "bulk.unread",
    "bulk.items",
    "account.index",
    "account.change_name",
    "account.new_passphrase",
    "account.new_two_factor",
    "account.confirm_two_factor",
    "alerts.acknowledge",
    "alerts.choose",
    "case_teams.handover",
    "case_teams.share",
    "case_teams.team_keys",
}
# Pages that only show something: no state-changing method to check.
NO_STATE_CHANGE = frozenset(
    {
        "sources.index",
        "sources.source",
        "items.download",
        "account.index",
        "admin_staff.index",
        "admin_staff.manage",
        "admin_audit.index",
        "admin_audit.export",
        "admin_recipients.index",
        "admin_teams.index",
        "case_teams.team_keys",
    }
)
# Forms shown below to change the database or the store when an admin sends them with a token.
MIN_ACTING = frozenset(
    {
        "auth.login",
        "reauth.reauthenticate",
        "sources.reply",
        "sources.delete",
        "items.delete",
        "items.seen",
        "items.unseen",
        "cases.update",
        "cases.label",
        "cases.unlabel",
        "bulk.sources",
        "bulk.items",
        "account.change_name",
        "account.new_passphrase",
        "account.new_two_factor",
        "admin_staff.add",
        "admin_staff.change_admin",
        "admin_staff.reset_passphrase",
        "admin_staff.reset_two_factor",
        "admin_staff.delete",
        "admin_settings.index",
        "admin_settings.logo",
        "admin_settings.delete_logo",
        "admin_settings.urgent_help_services",
        "admin_settings.disguise_settings",
        "admin_settings.reply_settings",
        "admin_audit.retention",
        "admin_recipients.add",
        "admin_recipients.retire",
        "alerts.choose",
        "alerts.timing",
        "admin_teams.add",
        "admin_teams.rename",
        "admin_teams.front",
        "admin_teams.membership",
        "case_teams.handover",
        "auth.logout",
    }
)
SOURCE = f"{API}/sources/<source_uuid>"
MIN_API_CHANGES = frozenset(
    {
        ("POST", f"{API}/logout"),
        ("POST", f"{API}/seen"),
        ("DELETE", SOURCE),
        ("POST", f"{SOURCE}/add_star"),
        ("DELETE", f"{SOURCE}/remove_star"),
        ("POST", f"{SOURCE}/star"),
        ("DELETE", f"{SOURCE}/star"),
        ("DELETE", f"{SOURCE}/conversation"),
        ("DELETE", f"{SOURCE}/submissions/<submission_uuid>"),
        ("POST", f"{SOURCE}/replies"),
        ("DELETE", f"{SOURCE}/replies/<reply_uuid>"),
    }
)
MIN_API = MIN_API_CHANGES | {
    ("GET", f"{API}/user"),
    ("GET", f"{API}/users"),
    ("GET", f"{API}/sources"),
    ("GET", SOURCE),
    ("GET", f"{SOURCE}/submissions/<submission_uuid>/download"),
    ("GET", f"{SOURCE}/replies/<reply_uuid>/download"),
}


@dataclass(frozen=True)
class OnFile:
    """Real rows for the URL placeholders and the forms: what a missing guard would act on."""

    source: str
    message: str
    document: str
    reply: str
    staff: str  # carol: not the person making the requests
    label: str
    encrypted_reply: str
    recipient: str  # a second recipient's fingerprint: retiring it would work
    new_key: str  # a public key that is not a recipient yet
    team: str  # a second team ("Police liaison"), holding that second key

    def placeholders(self) -> dict[str, str]:
        """Values for every placeholder the staff interface's rules use."""
        return {
            "source_uuid": self.source,
            "item_uuid": self.document,
            "submission_uuid": self.message,
            "reply_uuid": self.reply,
            "staff_uuid": self.staff,
            "fingerprint": self.recipient,
            "team_uuid": self.team,
            "filename": "style.css",
        }


@dataclass(frozen=True)
class Route:
    """One method of one rule, with its placeholders filled in."""

    method: str
    rule: str
    endpoint: str
    path: str

    @property
    def is_api(self) -> bool:
        """Under the Journalist API."""
        return self.rule.startswith(f"{API}/")

    @property
    def is_public(self) -> bool:
        """Meant to answer without a login or a token."""
        return self.endpoint in PUBLIC_WEB or (self.method, self.rule) in PUBLIC_API

    @property
    def changes_state(self) -> bool:
        """A method that may change something."""
        return self.method in STATE_CHANGING


def routes(app: Flask, on_file: OnFile) -> Iterator[Route]:
    """Every method of every rule in the app (but HEAD and OPTIONS), aimed at the rows on file."""
    values = on_file.placeholders()
    for rule in app.url_map.iter_rules():
        # An unknown placeholder is a KeyError: a new kind of URL must get a real row here.
        path = PLACEHOLDER.sub(lambda match: values[match.group(1)], rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield Route(method, rule.rule, rule.endpoint, path)


def admin_endpoints(app: Flask) -> set[str]:
    """The endpoints whose view is wrapped in admin_required."""
    return {
        endpoint
        for endpoint, view in app.view_functions.items()
        if getattr(view, "__code__", None) is ADMIN_GUARD
    }


def powerful_endpoints(app: Flask) -> set[str]:
    """The endpoints with reauthentication_required somewhere among their view's wrappers."""
    found = set()
    for endpoint, view in app.view_functions.items():
        while view is not None:
            if getattr(view, "__code__", None) is REAUTH_GUARD:
                found.add(endpoint)
                break
            view = getattr(view, "__wrapped__", None)
    return found


def acting_form(route: Route, on_file: OnFile, me: NewStaff) -> dict[str, Any]:
    """A form for this route that would make it act on the rows on file, as `me`."""
    code = pyotp.TOTP(me.totp_secret).at(time.time() + 30)  # a step not yet used
    forms: dict[str, dict[str, Any]] = {
        "auth.login": {"username": me.staff.username, "passphrase": me.passphrase, "token": code},
        "reauth.reauthenticate": {"passphrase": me.passphrase, "token": code},
        "sources.reply": {"message": "a reply that must not be sent"},
        "sources.delete": {"confirm": "yes"},
        "cases.update": {"status": "closed", "assignee": "", "note": "changed"},
        "cases.label": {"label": "another label"},
        "cases.unlabel": {"label": on_file.label},
        "bulk.sources": {"action": "delete", "confirm": "yes", "source": [on_file.source]},
        "bulk.items": {"action": "delete", "confirm": "yes", "item": [on_file.document]},
        "account.change_name": {"display_name": "Renamed"},
        "account.confirm_two_factor": {"token": code},
        "admin_staff.add": {"username": "mallory", "is_admin": "yes"},
        "admin_staff.change_admin": {"is_admin": "yes"},
        "admin_staff.delete": {"confirm": "yes"},
        "admin_settings.index": {
            "organization_name": "Taken over",
            "min_message_length": "500",
            "retention": "days",
            "retention_days": "1",
        },
        "admin_settings.logo": {"logo": (io.BytesIO(png((4, 4))), "logo.png")},
        "alerts.choose": {"alerts_enabled": "1", "alert_address": "mallory@example.org"},
        "alerts.timing": {"batch_minutes": "1"},
        "admin_settings.urgent_help_services": {
            "emergency_number": "112",
            "helpline_name": "Taken over",
            "helpline_contact": "0800 000 000",
            "anonymous_service_name": "Other",
            "anonymous_service_contact": "example.org",
            "adult_helpline_name": "Other adults",
            "adult_helpline_contact": "0800 111 111",
        },
        "admin_settings.disguise_settings": {
            "site_title": "Homework",
            "exit_url": "https://example.org/",
        },
        "admin_settings.reply_settings": {
            "reply_within_hours": "48",
            "wait_minutes": "5",
            "readers": "a team of social workers",
            "shared_with": "the police",
        },
        "admin_audit.retention": {"audit_retention_days": "31"},
        "admin_recipients.add": {"name": "Mallory", "public_key": on_file.new_key},
        "admin_teams.add": {"name": "Mallory's team"},
        "admin_teams.rename": {"name": "Renamed team"},
        "admin_teams.membership": {"team": [on_file.team]},
        "case_teams.handover": {"team": on_file.team, "confirm": "yes"},
        "case_teams.share": {"team": on_file.team, "package": (io.BytesIO(b"PK junk"), "p.zip")},
    }
    return forms.get(route.endpoint, {})


def acting_json(route: Route, on_file: OnFile) -> dict[str, Any] | None:
    """An API body that would make this route act on the rows on file."""
    if (route.method, route.rule) == ("POST", f"{API}/seen"):
        return {
            "files": [on_file.document],
            "messages": [on_file.message],
            "replies": [on_file.reply],
        }
    if (route.method, route.rule) == ("POST", f"{SOURCE}/replies"):
        return {"reply": on_file.encrypted_reply}
    return None


def snapshot(open_db: sessionmaker[Session], settings: Settings) -> dict[str, Any]:
    """Every row of every table but the web sessions, and the digest of every stored file.

    Web sessions are left out: a request may renew its own. Whether a refused request ended
    or opened one is checked by what the browser can do afterwards.
    """
    with open_db() as db:
        rows = {
            table.name: [
                tuple(row) for row in db.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in Base.metadata.sorted_tables
            if table.name != "web_sessions"
        }
    files = {
        str(path.relative_to(settings.store_dir)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(settings.store_dir.rglob("*"))
        if path.is_file()
    }
    return {"rows": rows, "files": files}


@pytest.fixture
def carol(open_db: sessionmaker[Session], settings: Settings) -> NewStaff:
    """A staff member whom the refused requests aim at."""
    return add_staff(open_db, settings, "carol")


@pytest.fixture
def on_file(
    journalist_app: Flask,
    open_db: sessionmaker[Session],
    root: NewStaff,
    carol: NewStaff,
    offline_key: OfflineKey,
    spare_keys: SpareKeys,
) -> OnFile:
    """A source with a message, a document, a reply, a case, a label and a star; a logo; and
    a second recipient key.

    Made with the domain code rather than the source interface, so these tests do not depend
    on the source pages.
    """
    found: Services = journalist_app.extensions[EXTENSION]
    with open_db() as db:
        source = create_source(db, found.deriver, found.gpg, generate_codename()).source
        document = Document(io.BytesIO(b"a photo, pretend"), "photo.jpg")
        message, upload = submit(db, found.store, found.gpg, source, MESSAGE, [document])
        author = db.get(Staff, root.staff.id)
        assert author is not None
        reply = send_reply(db, found.store, found.gpg, source, author, "We hear you.")
        update_case(db, source, status="in_review", assignee=carol.staff.uuid, note="call")
        label = add_label(db, source, "county lines")
        set_starred(db, [source.uuid], True)
        set_logo(db, png())
        encrypted = client_encrypt("a reply", source.pgp_public_key, offline_key.public_key)
        police = create_team(db, "Police liaison")
        second = add_recipient(db, found.gpg, "Second", spare_keys.second.public_key, police.id)
        return OnFile(
            source.uuid,
            message.uuid,
            upload.uuid,
            reply.uuid,
            carol.staff.uuid,
            label,
            encrypted,
            second.fingerprint,
            spare_keys.on_call.public_key,
            police.uuid,
        )


@pytest.fixture
def before(on_file: OnFile, open_db: sessionmaker[Session], settings: Settings) -> dict[str, Any]:
    """The database and the store with everything on file, before any request."""
    found = snapshot(open_db, settings)
    assert len(found["files"]) == 3  # message, document, reply
    assert len(found["rows"]["staff"]) >= 2
    return found


def refused_as_forbidden_by_the_api(response: TestResponse, route: Route) -> None:
    """SecureDrop's answer to a request without a token: a 403 JSON error."""
    assert response.status_code == 403, (route, response.status_code)
    assert response.get_json() == {
        "error": "Forbidden",
        "message": "API token not found in Authorization header.",
    }, route


def test_the_admin_routes_are_found_in_the_app(journalist_app: Flask) -> None:
    found = admin_endpoints(journalist_app)
    assert found >= MIN_ADMIN
    # A staff page under /admin that someone guarded with login_required alone shows up here.
    under_admin = {
        rule.endpoint
        for rule in journalist_app.url_map.iter_rules()
        if rule.rule == "/admin" or rule.rule.startswith("/admin/")
    }
    assert under_admin
    assert under_admin <= found
    # The check tells the two guards apart: pages for every staff member are not admin routes.
    assert not found & {"sources.index", "account.index", "bulk.sources"}


def test_the_public_routes_answer_without_logging_in(
    journalist_app: Flask, journalist_client: FlaskClient, on_file: OnFile
) -> None:
    public = {route for route in routes(journalist_app, on_file) if route.is_public}
    assert {route.endpoint for route in public if not route.is_api} == PUBLIC_WEB
    assert {(route.method, route.rule) for route in public if route.is_api} == PUBLIC_API
    assert "Log in" in page_of(journalist_client, "/login")
    with journalist_client.get("/static/style.css") as stylesheet:
        assert stylesheet.status_code == 200
    logo = journalist_client.get("/logo.png")
    assert (logo.status_code, logo.mimetype) == (200, "image/png")
    assert journalist_client.get(f"{API}/").status_code == 200
    # No token is needed to ask for one: an empty request is a 400 about its fields.
    response = journalist_client.post(f"{API}/token", json={})
    assert response.status_code == 400
    assert response.get_json()["message"] == "username field is missing"


def test_an_anonymous_request_is_refused_everywhere_but_the_public_routes(
    journalist_app: Flask,
    journalist_client: FlaskClient,
    on_file: OnFile,
    root: NewStaff,
    before: dict[str, Any],
    open_db: sessionmaker[Session],
    settings: Settings,
) -> None:
    checked_web, checked_api = set(), set()
    for route in routes(journalist_app, on_file):
        if route.is_public:
            continue
        if route.is_api:
            response = journalist_client.open(
                route.path, method=route.method, json=acting_json(route, on_file)
            )
            refused_as_forbidden_by_the_api(response, route)
            checked_api.add((route.method, route.rule))
            continue
        form = None
        if route.changes_state:
            # A valid CSRF token, so the refusal is the login check's. A fresh one each time:
            # the POST to /logout clears the session that held it.
            token = csrf_token(page_of(journalist_client, "/login"))
            form = {"csrf_token": token, **acting_form(route, on_file, root)}
        response = journalist_client.open(route.path, method=route.method, data=form)
        assert response.status_code == 302, (route, response.status_code)
        assert response.headers["Location"] == "/login", route
        checked_web.add(route.endpoint)
    assert checked_web >= MIN_WEB
    assert checked_api >= MIN_API
    assert snapshot(open_db, settings) == before
    # The check comes before the lookup: an unknown uuid does not answer differently.
    response = journalist_client.get(f"/sources/{uuid.uuid4()}")
    assert response.headers["Location"] == "/login"


def test_a_staff_member_who_is_not_an_admin_is_refused_on_every_admin_route(
    journalist_app: Flask,
    as_bob: FlaskClient,
    bob: NewStaff,
    root: NewStaff,
    on_file: OnFile,
    before: dict[str, Any],
    open_db: sessionmaker[Session],
    settings: Settings,
) -> None:
    # The minimum list too: a view that lost admin_required is not found by the search.
    admin = admin_endpoints(journalist_app) | MIN_ADMIN
    token = csrf_token(page_of(as_bob, "/"))
    checked = set()
    for route in routes(journalist_app, on_file):
        if route.endpoint not in admin:
            continue
        form = None
        if route.changes_state:
            form = {"csrf_token": token, **acting_form(route, on_file, bob)}
        response = as_bob.open(route.path, method=route.method, data=form)
        assert response.status_code == 403, (route, response.status_code)
        assert "Only an administrator can do this" in response.get_data(as_text=True)
        checked.add(route.endpoint)
    assert checked == admin
    assert snapshot(open_db, settings) == before
    assert "Logged in as bob" in page_of(as_bob, "/")
    # The control: an admin gets the same pages, so the 403 was about bob.
    as_root = journalist_app.test_client()
    assert log_in(as_root, root).status_code == 302
    assert reauthenticate(as_root, root).status_code == 302  # the add page asks for it
    for route in routes(journalist_app, on_file):
        if route.endpoint in admin and route.method == "GET":
            assert as_root.get(route.path).status_code == 200, route


def test_the_powerful_routes_are_found_in_the_app(journalist_app: Flask) -> None:
    found = powerful_endpoints(journalist_app)
    assert found >= MIN_POWERFUL
    # Every change to staff accounts is powerful, whatever the app grows.
    staff_changes = {
        rule.endpoint
        for rule in journalist_app.url_map.iter_rules()
        if rule.rule.startswith("/admin/staff") and (rule.methods or set()) & STATE_CHANGING
    }
    assert staff_changes and staff_changes <= found
    assert not found & {"sources.reply", "account.change_name", "auth.login"}


def test_an_open_session_without_re_authentication_is_sent_to_it_and_changes_nothing(
    journalist_app: Flask,
    as_admin: FlaskClient,
    root: NewStaff,
    on_file: OnFile,
    before: dict[str, Any],
    open_db: sessionmaker[Session],
    settings: Settings,
) -> None:
    """SEC-01-010: an admin's session and a CSRF token alone made a new admin."""
    powerful = powerful_endpoints(journalist_app) | MIN_POWERFUL
    token = csrf_token(page_of(as_admin, "/"))
    checked = set()
    for route in routes(journalist_app, on_file):
        if route.endpoint not in powerful or route.method == "GET":
            continue
        form = {"csrf_token": token, **acting_form(route, on_file, root)}
        response = as_admin.open(route.path, method=route.method, data=form)
        assert response.status_code == 302, (route, response.status_code)
        assert response.headers["Location"] == "/reauthenticate", route
        checked.add(route.endpoint)
    assert checked == powerful
    assert snapshot(open_db, settings) == before
    assert "Logged in as root" in page_of(as_admin, "/")


def test_the_api_offers_no_way_around_re_authentication(
    journalist_app: Flask,
    journalist_client: FlaskClient,
    root: NewStaff,
    on_file: OnFile,
    open_db: sessionmaker[Session],
    settings: Settings,
) -> None:
    """No API route manages staff or secrets, and an API token opens no web route."""
    api_changes = {
        (route.method, route.rule)
        for route in routes(journalist_app, on_file)
        if route.is_api and route.changes_state
    }
    assert api_changes >= MIN_API_CHANGES
    # What the API changes is sources and their items, and its own tokens; getting a token
    # takes the passphrase and a one-time code, like re-authenticating.
    about_sources = (f"{API}/sources/", f"{API}/seen")
    for method, rule in api_changes - {("POST", f"{API}/token"), ("POST", f"{API}/logout")}:
        assert rule.startswith(about_sources), (method, rule)
    token = token_of(journalist_client, root)
    with_token = snapshot(open_db, settings)
    web = journalist_app.test_client()  # no cookie: only the API token
    form_token = csrf_token(page_of(web, "/login"))
    checked = set()
    for route in routes(journalist_app, on_file):
        if route.endpoint not in powerful_endpoints(journalist_app) or route.method == "GET":
            continue
        form = {"csrf_token": form_token, **acting_form(route, on_file, root)}
        response = web.open(route.path, method=route.method, data=form, headers=auth(token))
        assert response.headers["Location"] == "/login", route
        checked.add(route.endpoint)
    assert checked >= MIN_POWERFUL
    assert snapshot(open_db, settings) == with_token


@pytest.mark.parametrize("token", [None, "forged"], ids=["no-token", "forged-token"])
def test_a_web_state_change_without_a_valid_csrf_token_is_refused_and_changes_nothing(
    journalist_app: Flask,
    as_admin: FlaskClient,
    root: NewStaff,
    on_file: OnFile,
    before: dict[str, Any],
    open_db: sessionmaker[Session],
    settings: Settings,
    token: str | None,
) -> None:
    # TESTING=True leaves Flask-WTF's CSRF check on; only WTF_CSRF_ENABLED=False would not.
    assert journalist_app.config["TESTING"] is True
    assert journalist_app.config["WTF_CSRF_ENABLED"] is True
    checked = set()
    for route in routes(journalist_app, on_file):
        if route.is_api or not route.changes_state:
            continue
        form = acting_form(route, on_file, root)
        if token is not None:
            form["csrf_token"] = token
        # Logged in as an admin: no other check stands between the request and the action.
        response = as_admin.open(route.path, method=route.method, data=form)
        assert response.status_code == 400, (route, response.status_code)
        assert "The form had expired" in response.get_data(as_text=True), route
        checked.add(route.endpoint)
    assert checked >= MIN_WEB - NO_STATE_CHANGE
    assert "auth.login" in checked
    assert snapshot(open_db, settings) == before
    assert "Logged in as root" in page_of(as_admin, "/")  # the logout was refused too


@pytest.mark.parametrize("endpoint", sorted(MIN_ACTING))
def test_the_forms_above_do_act_when_nothing_stops_them(
    journalist_app: Flask,
    as_admin: FlaskClient,
    root: NewStaff,
    on_file: OnFile,
    before: dict[str, Any],
    open_db: sessionmaker[Session],
    settings: Settings,
    endpoint: str,
) -> None:
    # The control for the tests above: their "nothing changed" means a guard held.
    (route,) = (
        route
        for route in routes(journalist_app, on_file)
        if route.endpoint == endpoint and route.changes_state
    )
    if endpoint in powerful_endpoints(journalist_app):
        assert reauthenticate(as_admin, root).status_code == 302
    token = csrf_token(page_of(as_admin, "/"))
    form = {"csrf_token": token, **acting_form(route, on_file, root)}
    response = as_admin.open(route.path, method=route.method, data=form)
    assert response.status_code in (200, 302), response.status_code
    assert response.headers.get("Location") != "/reauthenticate"
    after = snapshot(open_db, settings)
    written = audit_rows_added(before, after)
    # A logout changes only its web session; "unseen" on an item nobody had seen changes
    # nothing, and is still on record.
    if endpoint not in ("auth.logout", "items.unseen"):
        assert after != before
    # Issue 13: whatever acts leaves an entry, the last one, naming who acted.
    assert written, endpoint
    assert written[-1][AUDIT_USERNAME] == "root"
    quiet = {"auth.login", "reauth.reauthenticate"}
    assert endpoint in quiet or written[-1][AUDIT_ACTION] not in ("login.success", "reauth.success")


def audit_rows_added(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The audit entries in after that were not in before; both snapshots lose the log."""
    old = before["rows"].pop("audit_entries")
    new = after["rows"].pop("audit_entries")
    assert new[: len(old)] == old
    return new[len(old) :]


def test_an_api_state_change_without_a_token_is_refused_and_changes_nothing(
    journalist_app: Flask,
    journalist_client: FlaskClient,
    as_admin: FlaskClient,
    root: NewStaff,
    on_file: OnFile,
    before: dict[str, Any],
    open_db: sessionmaker[Session],
    settings: Settings,
) -> None:
    # From a browser logged in on the web, with the page's CSRF token in the header Flask-WTF
    # reads: neither the cookie nor that token stands in for an API token.
    web_token = csrf_token(page_of(as_admin, "/"))
    checked = set()
    for route in routes(journalist_app, on_file):
        if not route.is_api or route.is_public or not route.changes_state:
            continue
        response = as_admin.open(
            route.path,
            method=route.method,
            json=acting_json(route, on_file),
            headers={"X-CSRFToken": web_token},
        )
        refused_as_forbidden_by_the_api(response, route)
        checked.add((route.method, route.rule))
    assert checked >= MIN_API_CHANGES
    assert snapshot(open_db, settings) == before
    # The control: with a token, the same request acts.
    token = token_of(journalist_client, root, at=time.time() + 30)
    response = journalist_client.delete(f"{API}/sources/{on_file.source}/star", headers=auth(token))
    assert response.status_code == 200
    assert snapshot(open_db, settings)["rows"]["sources"] != before["rows"]["sources"]


@pytest.mark.parametrize(("method", "rule"), sorted(MIN_API_CHANGES))
def test_every_api_state_change_leaves_an_audit_entry(
    journalist_app: Flask,
    journalist_client: FlaskClient,
    root: NewStaff,
    on_file: OnFile,
    open_db: sessionmaker[Session],
    settings: Settings,
    method: str,
    rule: str,
) -> None:
    # Issue 13: through the API too, whatever acts is on the record, as from the API.
    token = token_of(journalist_client, root)
    (route,) = (
        route
        for route in routes(journalist_app, on_file)
        if (route.method, route.rule) == (method, rule)
    )
    before = snapshot(open_db, settings)
    response = journalist_client.open(
        route.path, method=method, json=acting_json(route, on_file), headers=auth(token)
    )
    assert response.status_code in (200, 201), (route, response.status_code)
    written = audit_rows_added(before, snapshot(open_db, settings))
    assert len(written) == 1, route
    assert written[0][AUDIT_USERNAME] == "root"
    assert json.loads(written[0][AUDIT_DETAIL])["via"] == "api"
