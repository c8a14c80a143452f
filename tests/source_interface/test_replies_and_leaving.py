"""Reading and deleting replies, logging out, and deleting the account."""

from __future__ import annotations

from datetime import date

from babel.dates import format_date
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


def reply_files(settings: Settings) -> dict[str, bytes]:
    """Every stored reply file's bytes, by name."""
    return {path.name: path.read_bytes() for path in settings.store_dir.rglob("*-reply.gpg")}


def hidden_from_source(settings: Settings) -> int:
    with make_session_factory(make_engine(settings.database_url))() as db:
        return len(list(db.scalars(select(Reply).where(Reply.deleted_by_source))))


def test_replies_show_the_day_they_were_sent(
    source_client: FlaskClient, settings: Settings
) -> None:
    new_source(source_client)
    reply_to_only_source(settings, "a reply")
    day = format_date(date.today(), "long", locale="en")
    assert f"Sent {day}" in source_client.get("/lookup").get_data(as_text=True)
    polish = format_date(date.today(), "long", locale="pl")
    assert polish in source_client.get("/lookup?l=pl").get_data(as_text=True)


def test_deleting_a_reply_asks_first_and_keep_it_leads_back(
    source_client: FlaskClient, settings: Settings
) -> None:
    new_source(source_client)
    reply_to_only_source(settings, "First reply")
    page = source_client.get("/lookup").get_data(as_text=True)
    uuid = page.split('name="reply" value="')[1].split('"')[0]
    confirm = source_client.get(f"/delete-reply?reply={uuid}")
    assert confirm.status_code == 200
    text = confirm.get_data(as_text=True)
    assert "Delete this reply?" in text and "Keep it" in text and 'href="/lookup"' in text
    # A POST without the confirm button (as the old page sent) only leads to the question.
    unconfirmed = source_client.post(
        "/delete-reply", data={"csrf_token": csrf_token(text), "reply_uuid": uuid}
    )
    assert unconfirmed.status_code == 303
    assert unconfirmed.headers["Location"].endswith(f"/delete-reply?reply={uuid}")
    no_csrf = source_client.post("/delete-reply", data={"reply_uuid": uuid, "confirm": "yes"})
    assert no_csrf.status_code == 400
    assert hidden_from_source(settings) == 0
    assert "First reply" in source_client.get("/lookup").get_data(as_text=True)


def test_a_deleted_reply_is_hidden_from_the_source_and_kept_for_staff(
    source_client: FlaskClient, settings: Settings
) -> None:
    new_source(source_client)
    reply_to_only_source(settings, "First reply <b>bold</b>", "Second reply")
    kept = reply_files(settings)
    page = source_client.get("/lookup").get_data(as_text=True)
    assert "First reply &lt;b&gt;bold&lt;/b&gt;" in page
    uuid = page.split('name="reply" value="')[1].split('"')[0]
    confirm = source_client.get(f"/delete-reply?reply={uuid}").get_data(as_text=True)
    source_client.post(
        "/delete-reply",
        data={"csrf_token": csrf_token(confirm), "reply_uuid": uuid, "confirm": "yes"},
    )
    page = source_client.get("/lookup").get_data(as_text=True)
    assert "First reply" not in page
    assert "Second reply" in page
    assert (count(settings, Reply), hidden_from_source(settings)) == (2, 1)
    assert reply_files(settings) == kept


def test_delete_all_replies_says_so_and_keeps_them_for_staff(
    source_client: FlaskClient, settings: Settings
) -> None:
    new_source(source_client)
    reply_to_only_source(settings, "one", "two", "three")
    kept = reply_files(settings)
    confirm = source_client.get("/delete-all-replies").get_data(as_text=True)
    assert "Delete all replies?" in confirm and "Keep them" in confirm
    source_client.post("/delete-all-replies", data={"csrf_token": csrf_token(confirm)})
    assert hidden_from_source(settings) == 0
    source_client.post(
        "/delete-all-replies", data={"csrf_token": csrf_token(confirm), "confirm": "yes"}
    )
    assert (count(settings, Reply), hidden_from_source(settings)) == (3, 3)
    assert reply_files(settings) == kept
    page = source_client.get("/lookup").get_data(as_text=True)
    assert "You deleted 3 replies." in page
    assert "No replies yet" not in page
    assert "reply-text" not in page


def test_one_deleted_reply_is_named_in_the_singular(
    source_client: FlaskClient, settings: Settings
) -> None:
    new_source(source_client)
    reply_to_only_source(settings, "only")
    confirm = source_client.get("/delete-all-replies").get_data(as_text=True)
    source_client.post(
        "/delete-all-replies", data={"csrf_token": csrf_token(confirm), "confirm": "yes"}
    )
    assert "You deleted a reply." in source_client.get("/lookup").get_data(as_text=True)
    # Nothing left to delete: the question is not asked again.
    assert source_client.get("/delete-all-replies").status_code == 302


def test_delete_account_needs_confirmation_then_leaves_staff_a_stub(
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
    # Issue 13: staff keep a content-free stub, and the report nobody has downloaded yet; the
    # reply (which staff wrote) goes with the account.
    assert (count(settings, Source), count(settings, Submission), count(settings, Reply)) == (
        1,
        1,
        0,
    )
    (kept,) = [path for path in settings.store_dir.rglob("*") if path.is_file()]
    assert kept.name.endswith("-msg.gpg")
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
