"""Fixtures for the staff interface: real staff accounts, logged-in browsers, a real source.

They build on the suite's fixtures: settings -> open_db -> alice -> logged_in, and
source_client -> reported (a source who has sent a message and a file); root -> as_admin for
an admin, bob -> as_bob for a second staff member in a second browser.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from seethesigns.codenames import generate_codename
from seethesigns.db import make_engine, make_session_factory
from seethesigns.models import Source, Staff, Submission, Team
from seethesigns.recipients import add_recipient
from seethesigns.replies import send_reply
from seethesigns.settings import Settings
from seethesigns.sources import create_source
from seethesigns.staff_accounts import NewStaff, StaffAccounts
from seethesigns.submissions import Document
from seethesigns.submissions import submit as store_report
from seethesigns.teams.membership import create_team, set_teams
from seethesigns.web.setup import EXTENSION, Services
from tests.conftest import OfflineKey, SpareKeys, activate, csrf_token
from tests.journalist_interface.api.conftest import client_encrypt
from tests.source_interface.test_journey import new_source

MESSAGE = "they make me carry things to another town"
PASSPHRASE = re.compile(r'<p class="secret" id="passphrase">([a-z -]+)</p>')
TOTP_SECRET = re.compile(r'<code id="totp-secret">([A-Z2-7 ]+)</code>')
DOCUMENT = b"a photo, pretend"


@dataclass(frozen=True)
class Reported:
    """A source created through the source interface, who sent a message and a document."""

    uuid: str
    designation: str
    filesystem_id: str
    codename: str


@pytest.fixture
def open_db(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """Sessions on the instance's real database, for setting up and checking outcomes."""
    engine = make_engine(settings.database_url)
    yield make_session_factory(engine)
    engine.dispose()


def add_staff(
    open_db: sessionmaker[Session],
    settings: Settings,
    username: str,
    *,
    is_admin: bool = False,
    active: bool = True,
) -> NewStaff:
    """Create a staff account the way the CLI does, with server-made secrets.

    Active by default, as if its first login were done; `active=False` leaves it pending.
    """
    with open_db() as db:
        created = StaffAccounts(settings.argon2, settings.login).create(db, username, is_admin)
        if active:
            activate(db, created.staff)
        return created


@pytest.fixture
def alice(open_db: sessionmaker[Session], settings: Settings) -> NewStaff:
    """A staff member."""
    return add_staff(open_db, settings, "alice")


def log_in(
    client: FlaskClient,
    account: NewStaff,
    *,
    at: float | None = None,
    username: str | None = None,
    passphrase: str | None = None,
    token: str | None = None,
) -> TestResponse:
    """Fill in the login form; by default with the right details and the current code.

    A code is accepted once, so a second login in one test passes `at=time.time() + 30`:
    the next time step's code, which the server accepts as one step of clock drift.
    """
    page = client.get("/login").get_data(as_text=True)
    code = pyotp.TOTP(account.totp_secret).at(time.time() if at is None else at)
    return client.post(
        "/login",
        data={
            "csrf_token": csrf_token(page),
            "username": account.staff.username if username is None else username,
            "passphrase": account.passphrase if passphrase is None else passphrase,
            "token": code if token is None else token,
        },
    )


def reauthenticate(
    client: FlaskClient,
    account: NewStaff,
    *,
    at: float | None = None,
    passphrase: str | None = None,
    token: str | None = None,
) -> TestResponse:
    """Confirm it is still you, for staff management and changing secrets.

    By default with the right passphrase and the next time step's code (`at=time.time() + 30`),
    which the login just before has not used: a code is accepted once.
    """
    page = page_of(client, "/reauthenticate")
    code = pyotp.TOTP(account.totp_secret).at(time.time() + 30 if at is None else at)
    return client.post(
        "/reauthenticate",
        data={
            "csrf_token": csrf_token(page),
            "passphrase": account.passphrase if passphrase is None else passphrase,
            "token": code if token is None else token,
        },
    )


def quiet_moment(margin: float = 5.0) -> float:
    """Now, unless a TOTP step ends within `margin` seconds: then just after it ends.

    For the server, codes of the previous, this and the next step are all valid until this
    step ends; a test that needs three unused steps for one account takes them from here.
    """
    left = 30 - time.time() % 30
    if left < margin:
        time.sleep(left + 0.05)
    return time.time()


@pytest.fixture
def logged_in(journalist_client: FlaskClient, alice: NewStaff) -> FlaskClient:
    """A browser on the staff interface, logged in as alice."""
    assert log_in(journalist_client, alice).status_code == 302
    return journalist_client


@pytest.fixture
def reported(source_client: FlaskClient, open_db: sessionmaker[Session]) -> Reported:
    """A source who has sent a message (item 1) and a document (item 2); still logged in."""
    codename = new_source(source_client)
    page = source_client.get("/lookup").get_data(as_text=True)
    response = source_client.post(
        "/submit",
        data={
            "csrf_token": csrf_token(page),
            "msg": MESSAGE,
            "fh": (io.BytesIO(DOCUMENT), "photo.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with open_db() as db:
        source = db.scalars(select(Source)).one()
    return Reported(source.uuid, source.designation, source.filesystem_id, codename)


def page_of(client: FlaskClient, path: str) -> str:
    """GET a page that must load, and return its HTML."""
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def download_links(page: str) -> list[str]:
    """The download links on a source's page, in page order."""
    return re.findall(r'href="(/sources/[0-9a-f-]+/items/[0-9a-f-]+/download)"', page)


def seen_forms(page: str) -> list[str]:
    """The "Mark as seen" / "Mark as unseen" form actions on a source's page, in page order."""
    return re.findall(r'action="(/sources/[0-9a-f-]+/items/[0-9a-f-]+/(?:un)?seen)"', page)


def mark_item(client: FlaskClient, source_uuid: str, index: int) -> TestResponse:
    """Press the seen/unseen button of the index-th item on a source's page."""
    page = page_of(client, f"/sources/{source_uuid}")
    return client.post(seen_forms(page)[index], data={"csrf_token": csrf_token(page)})


# Admins and the pages that show secrets once.


@pytest.fixture
def root(open_db: sessionmaker[Session], settings: Settings) -> NewStaff:
    """The instance's admin."""
    return add_staff(open_db, settings, "root", is_admin=True)


@pytest.fixture
def bob(open_db: sessionmaker[Session], settings: Settings) -> NewStaff:
    """A staff member who is not an admin."""
    return add_staff(open_db, settings, "bob")


@pytest.fixture
def as_admin(journalist_client: FlaskClient, root: NewStaff) -> FlaskClient:
    """A browser logged in as the admin."""
    assert log_in(journalist_client, root).status_code == 302
    return journalist_client


@pytest.fixture
def reauthed_admin(as_admin: FlaskClient, root: NewStaff) -> FlaskClient:
    """The admin's browser, re-authenticated just now: staff management works for a while."""
    assert reauthenticate(as_admin, root).status_code == 302
    return as_admin


@pytest.fixture
def as_bob(journalist_app: Flask, bob: NewStaff) -> FlaskClient:
    """A second browser, logged in as bob."""
    client = journalist_app.test_client()
    assert log_in(client, bob).status_code == 302
    return client


def submit(client: FlaskClient, form_page: str, action: str, **fields: str) -> TestResponse:
    """Post a form found on form_page, with that page's CSRF token."""
    token = csrf_token(page_of(client, form_page))
    return client.post(action, data={"csrf_token": token, **fields})


def stored(open_db: sessionmaker[Session], username: str) -> Staff:
    """The account as the database has it now (it must exist: see `exists`)."""
    found = exists(open_db, username)
    assert found is not None, username
    return found


def exists(open_db: sessionmaker[Session], username: str) -> Staff | None:
    """The account, or None if there is none by that name."""
    with open_db() as db:
        return db.scalar(select(Staff).where(Staff.username == username))


def secrets_on(page: str) -> tuple[str | None, str | None]:
    """The passphrase and two-factor secret shown on a page, if any."""
    passphrase, secret = PASSPHRASE.search(page), TOTP_SECRET.search(page)
    return (
        passphrase.group(1) if passphrase else None,
        secret.group(1).replace(" ", "") if secret else None,
    )


def complete_first_login(client: FlaskClient, account: NewStaff) -> NewStaff:
    """Do a pending account's first-login steps in its logged-in browser.

    Returns the account with the passphrase and two-factor secret only its owner saw; the
    confirming code used the current time step, so a next login passes `at=time.time() + 30`.
    """
    page = page_of(client, "/first-login/passphrase")
    passphrase, _ = secrets_on(page)
    assert passphrase is not None
    chosen = client.post(
        "/first-login/passphrase", data={"csrf_token": csrf_token(page), "passphrase": passphrase}
    )
    assert chosen.headers["Location"] == "/first-login/two-factor"
    page = page_of(client, "/first-login/two-factor")
    _, secret = secrets_on(page)
    assert secret is not None
    code = pyotp.TOTP(secret).now()
    done = client.post(
        "/first-login/two-factor", data={"csrf_token": csrf_token(page), "token": code}
    )
    assert done.headers["Location"] == "/", done.status_code
    return NewStaff(account.staff, passphrase, secret)


# Issue 13: the safeguarding record of an account the young person deleted.

FOLLOW_UP = "he came back tonight"


def send_follow_up(source_client: FlaskClient, text: str = FOLLOW_UP) -> None:
    """The young person sends one more message from their reports page."""
    page = page_of(source_client, "/lookup")
    response = source_client.post("/submit", data={"csrf_token": csrf_token(page), "msg": text})
    assert response.status_code == 302


def delete_account(source_client: FlaskClient) -> TestResponse:
    """The young person deletes their account, ticking the box."""
    page = page_of(source_client, "/delete-account")
    return source_client.post(
        "/delete-account", data={"csrf_token": csrf_token(page), "confirm": "yes"}
    )


def download_everything(client: FlaskClient, reported: Reported) -> None:
    """Download each item on the source's page, one by one, to the end."""
    for link in download_links(page_of(client, f"/sources/{reported.uuid}")):
        with client.get(link) as response:
            assert response.status_code == 200
            response.get_data()


@pytest.fixture
def stub(
    logged_in: FlaskClient,
    source_client: FlaskClient,
    reported: Reported,
    alice: NewStaff,
) -> Reported:
    """The walk-through's case: In review, assigned, labelled, with a note; the first two items
    downloaded, then an undownloaded follow-up; then the young person deletes their account."""
    download_everything(logged_in, reported)
    send_follow_up(source_client)
    page = f"/sources/{reported.uuid}"
    form = {"status": "in_review", "assignee": alice.staff.uuid, "note": "seen at the station"}
    assert submit(logged_in, page, f"{page}/case", **form).status_code == 302
    assert submit(logged_in, page, f"{page}/labels", label="County Lines").status_code == 302
    deleted = delete_account(source_client).get_data(as_text=True)
    assert "Everything is deleted" in deleted
    return reported


# Issue 14: a MASH-style instance of three teams.


@dataclass(frozen=True)
class Mash:
    """Three teams with a key each, a member of each, and a front-door case with items."""

    police: Team
    health: Team
    fiona: NewStaff  # children's services front door
    paul: NewStaff  # police liaison
    hana: NewStaff  # health
    source: str
    designation: str
    message: str
    document: str
    reply: str
    encrypted_reply: str  # a reply a client encrypted, to post through the API

    def placeholders(self, team: str) -> dict[str, str]:
        """Values for the URL placeholders of the case routes."""
        return {
            "source_uuid": self.source,
            "item_uuid": self.document,
            "submission_uuid": self.message,
            "reply_uuid": self.reply,
            "team_uuid": team,
        }


def member(
    open_db: sessionmaker[Session], settings: Settings, username: str, team: Team
) -> NewStaff:
    """An active staff member of exactly this team."""
    account = add_staff(open_db, settings, username)
    with open_db() as db:
        staff = db.get(Staff, account.staff.id)
        assert staff is not None
        set_teams(db, staff, {team.id})
    return account


@pytest.fixture
def mash(
    journalist_app: Flask,
    open_db: sessionmaker[Session],
    settings: Settings,
    offline_key: OfflineKey,
    spare_keys: SpareKeys,
) -> Mash:
    found: Services = journalist_app.extensions[EXTENSION]
    with open_db() as db:
        police = create_team(db, "Police liaison")
        health = create_team(db, "Health")
        add_recipient(db, found.gpg, "Police device", spare_keys.second.public_key, police.id)
        add_recipient(db, found.gpg, "Health device", spare_keys.on_call.public_key, health.id)
        source = create_source(db, found.deriver, found.gpg, generate_codename()).source
        document = Document(io.BytesIO(b"a photo, pretend"), "photo.jpg")
        message, upload = store_report(db, found.store, found.gpg, source, MESSAGE, [document])
    fiona = add_staff(open_db, settings, "fiona")  # new accounts join the front door
    with open_db() as db:
        author = db.get(Staff, fiona.staff.id)
        found_source = db.get(Source, source.id)
        assert author is not None and found_source is not None
        reply = send_reply(db, found.store, found.gpg, found_source, author, "We hear you.")
    encrypted = client_encrypt("a reply", source.pgp_public_key, offline_key.public_key)
    return Mash(
        police,
        health,
        fiona,
        member(open_db, settings, "paul", police),
        member(open_db, settings, "hana", health),
        source.uuid,
        source.designation,
        message.uuid,
        upload.uuid,
        reply.uuid,
        encrypted,
    )


def client_of(journalist_app: Flask, account: NewStaff) -> FlaskClient:
    """A browser logged in as this account."""
    client = journalist_app.test_client()
    assert log_in(client, account).status_code == 302
    return client


def add_shared_copy(db: Session, team: Team, source: Source | None = None) -> Source:
    """A copy of an item of source (by default the one case) shared with team, as
    store_shared_copies stores it; returns that case's source."""
    source = source or db.scalars(select(Source)).one()
    db.add(
        Submission(
            source_id=source.id,
            filename="9-x-msg.gpg",
            size=1,
            checksum="x",
            shared_with_team_id=team.id,
        )
    )
    db.commit()
    return source
