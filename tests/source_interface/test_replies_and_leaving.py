"""Reading and deleting replies, logging out, and deleting the account."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select

from seethesigns.db import make_engine, make_session_factory
from seethesigns.encryption import GpgService
from seethesigns.models import Reply, Source, Submission
from seethesigns.replies import send_reply
from seethesigns.settings import Settings
from seethesigns.staff_accounts import StaffAccounts
from seethesigns.storage import Store
from tests.conftest import csrf_token
from tests.source_interface.test_journey import new_source


def reply_to_only_source(settings: Settings, *texts: str) -> None:
    """Staff reply to the one source of the instance, through the domain code."""
    with make_session_factory(make_engine(settings.database_url))() as db:
        staff = StaffAccounts(settings.argon2, settings.login).create(db, "replier").staff
        source = db.scalars(select(Source)).one()
        gpg = GpgService(
            settings.gnupg_homedir, settings.submission_key_fingerprint, settings.tmp_dir
        )
        for text in texts:
            send_reply(db, Store(settings.store_dir), gpg, source, staff, text)


def count(settings: Settings, model: type) -> int:
    with make_session_factory(make_engine(settings.database_url))() as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_replies_are_shown_and_can_be_deleted_one_by_one(
    source_client: FlaskClient, settings: Settings
) -> None:
    new_source(source_client)
    reply_to_only_source(settings, "First reply <b>bold</b>", "Second reply")
    page = source_client.get("/lookup").get_data(as_text=True)
    assert "First reply &lt;b&gt;bold&lt;/b&gt;" in page
    assert "Second reply" in page
    uuid = page.split('name="reply_uuid" value="')[1].split('"')[0]
    source_client.post("/delete-reply", data={"csrf_token": csrf_token(page), "reply_uuid": uuid})
    page = source_client.get("/lookup").get_data(as_text=True)
    assert "First reply" not in page
    assert "Second reply" in page
    assert count(settings, Reply) == 1
    assert len(list(settings.store_dir.rglob("*-reply.gpg"))) == 1


def test_delete_all_replies(source_client: FlaskClient, settings: Settings) -> None:
    new_source(source_client)
    reply_to_only_source(settings, "one", "two", "three")
    page = source_client.get("/lookup").get_data(as_text=True)
    source_client.post("/delete-all-replies", data={"csrf_token": csrf_token(page)})
    assert count(settings, Reply) == 0
    assert not list(settings.store_dir.rglob("*-reply.gpg"))
    assert "No replies yet" in source_client.get("/lookup").get_data(as_text=True)


def test_delete_account_needs_confirmation_then_removes_everything(
    source_client: FlaskClient, settings: Settings
) -> None:
    codename = new_source(source_client)
    page = source_client.get("/lookup").get_data(as_text=True)
    source_client.post("/submit", data={"csrf_token": csrf_token(page), "msg": "a report"})
    reply_to_only_source(settings, "a reply")
    confirm = source_client.get("/delete-account").get_data(as_text=True)
    refused = source_client.post("/delete-account", data={"csrf_token": csrf_token(confirm)})
    assert refused.status_code == 400
    assert count(settings, Source) == 1
    done = source_client.post(
        "/delete-account", data={"csrf_token": csrf_token(confirm), "confirm": "yes"}
    )
    assert "Everything is deleted" in done.get_data(as_text=True)
    assert (count(settings, Source), count(settings, Submission), count(settings, Reply)) == (
        0,
        0,
        0,
    )
    assert not any(settings.store_dir.iterdir())
    login = source_client.get("/login").get_data(as_text=True)
    again = source_client.post(
        "/login", data={"csrf_token": csrf_token(login), "codename": codename}
    )
    assert again.status_code == 401


def test_logout_ends_the_session_and_explains_new_identity(source_client: FlaskClient) -> None:
    new_source(source_client)
    page = source_client.get("/lookup").get_data(as_text=True)
    response = source_client.post(
        "/logout", data={"csrf_token": csrf_token(page)}, follow_redirects=True
    )
    assert "New Identity" in response.get_data(as_text=True)
    assert source_client.get("/lookup").status_code == 302


def test_logout_get_does_not_log_out(source_client: FlaskClient) -> None:
    new_source(source_client)
    source_client.get("/logout")
    assert source_client.get("/lookup").status_code == 200
