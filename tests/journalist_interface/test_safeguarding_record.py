"""Issue 13: the safeguarding record outlives a deleted account, a Closed case wakes up on a new
message, silent codenames stay out of the list, and search reads labels and notes."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.models import Case, RecordedItem, Source, Submission
from seethesigns.settings import Settings
from tests.conftest import OfflineKey, csrf_token
from tests.journalist_interface.conftest import (
    FOLLOW_UP,
    Reported,
    delete_account,
    download_links,
    page_of,
    send_follow_up,
)
from tests.journalist_interface.test_cases import post_case
from tests.journalist_interface.test_sources import unread_on_index
from tests.seethesigns.test_db import holding


def selected(page: str, name: str) -> str:
    """The label of the selected option of a <select> on a page."""
    block = re.search(rf'<select id="{name}" name="{name}">(.*?)</select>', page, re.DOTALL)
    assert block is not None, name
    found = re.search(r"<option [^>]*selected>([^<]+)</option>", block.group(1))
    return found.group(1) if found else ""


@pytest.mark.sqlite_only
def test_a_deleted_account_leaves_a_stub_with_the_case_and_dates(
    logged_in: FlaskClient, stub: Reported, open_db: sessionmaker[Session], settings: Settings
) -> None:
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    listed = page_of(logged_in, "/")
    assert f">{stub.designation}</a>" in listed and f"Account deleted {today}" in listed
    page = page_of(logged_in, f"/sources/{stub.uuid}")
    assert f"The young person deleted their account on {today}." in page
    assert selected(page, "status") == "In review"
    assert selected(page, "assignee") == "alice (you)"
    assert "seen at the station</textarea>" in page
    assert ">county lines</a>" in page
    record = re.search(r'<table class="record".*?</table>', page, re.DOTALL)
    assert record is not None
    rows = re.findall(r"<tr><td>(\d+)</td><td>([0-9: -]+)</td><td>(\w+)</td></tr>", record.group())
    assert [(number, kind) for number, _, kind in rows] == [
        ("1", "Message"),
        ("2", "File"),
        ("3", "Message"),
    ]
    assert all(when.startswith(today) for _, when, _ in rows)
    # Nobody can reply to an account that is gone.
    assert f'action="/sources/{stub.uuid}/reply"' not in page
    refused = logged_in.post(
        f"/sources/{stub.uuid}/reply", data={"csrf_token": csrf_token(page), "message": "hi"}
    )
    assert refused.status_code == 410
    assert "Nobody can reply" in refused.get_data(as_text=True)
    with open_db() as db:
        source = db.scalars(select(Source)).one()
        assert (source.designation, source.deleted_at is not None) == (stub.designation, True)
        assert (source.pgp_public_key, source.pgp_secret_key, source.pgp_fingerprint) == ("",) * 3
        assert source.filesystem_id != stub.filesystem_id
        case = db.get(Case, source.id)
        assert case is not None and case.status == "in_review"
    # The codename-derived id is gone from every database file and from the store.
    assert holding(stub.filesystem_id, settings) == []
    assert not (settings.store_dir / stub.filesystem_id).exists()


def test_the_undownloaded_follow_up_is_kept_until_downloaded_once(
    logged_in: FlaskClient,
    stub: Reported,
    open_db: sessionmaker[Session],
    settings: Settings,
    offline_key: OfflineKey,
) -> None:
    page = page_of(logged_in, f"/sources/{stub.uuid}")
    (link,) = download_links(page)  # the two downloaded items went with the account
    assert "each is destroyed once it has been downloaded" in page
    with open_db() as db:
        (kept,) = db.scalars(select(Submission)).all()
        folder = settings.store_dir / db.scalars(select(Source.filesystem_id)).one()
    assert kept.filename.startswith("3-") and (folder / kept.filename).is_file()
    # A download cut short keeps it: only a whole download counts.
    cut = logged_in.get(link, buffered=False)
    assert cut.status_code == 200
    next(iter(cut.response))
    cut.close()
    assert (folder / kept.filename).is_file()
    with logged_in.get(link) as response:
        assert response.status_code == 200
        body = response.get_data()
    assert offline_key.decrypt(body) == FOLLOW_UP.encode()
    assert not (folder / kept.filename).exists()
    with open_db() as db:
        assert db.scalars(select(Submission)).all() == []
        assert len(db.scalars(select(RecordedItem)).all()) == 3  # the record stays
    assert logged_in.get(link).status_code == 404
    page = page_of(logged_in, f"/sources/{stub.uuid}")
    assert download_links(page) == [] and "Record of the conversation" in page


def test_a_zip_download_also_destroys_the_kept_item_once_sent(
    logged_in: FlaskClient, stub: Reported, open_db: sessionmaker[Session], settings: Settings
) -> None:
    page = page_of(logged_in, f"/sources/{stub.uuid}")
    response = logged_in.post(
        f"/sources/{stub.uuid}/items/bulk",
        data={"csrf_token": csrf_token(page), "action": "download_all"},
    )
    assert response.status_code == 200
    assert b"-msg.gpg" in response.get_data()
    with open_db() as db:
        assert db.scalars(select(Submission)).all() == []
    assert [path for path in settings.store_dir.rglob("*") if path.is_file()] == []


def test_an_account_that_never_sent_anything_goes_entirely(
    source_client: FlaskClient, open_db: sessionmaker[Session]
) -> None:
    from tests.source_interface.test_journey import new_source

    new_source(source_client)
    assert "Everything is deleted" in delete_account(source_client).get_data(as_text=True)
    with open_db() as db:
        assert db.scalars(select(Source)).all() == []


def test_a_new_message_reopens_a_closed_case_as_new_activity(
    logged_in: FlaskClient, source_client: FlaskClient, reported: Reported
) -> None:
    form = {"status": "closed", "assignee": "", "note": ""}
    assert post_case(logged_in, reported, "/case", **form).status_code == 302
    assert reported.designation not in page_of(logged_in, "/?status=new")
    send_follow_up(source_client)
    page = page_of(logged_in, f"/sources/{reported.uuid}")
    assert selected(page, "status") == "New activity"
    for filtered in ("/?status=new", "/?status=new_activity"):
        assert f">{reported.designation}</a>" in page_of(logged_in, filtered), filtered
    assert reported.designation not in page_of(logged_in, "/?status=closed")


def test_a_new_message_leaves_other_statuses_alone(
    logged_in: FlaskClient, source_client: FlaskClient, reported: Reported
) -> None:
    form = {"status": "referred", "assignee": "", "note": ""}
    assert post_case(logged_in, reported, "/case", **form).status_code == 302
    send_follow_up(source_client)
    assert selected(page_of(logged_in, f"/sources/{reported.uuid}"), "status") == "Referred"


def test_codenames_that_never_sent_anything_are_not_listed(
    logged_in: FlaskClient, reported: Reported, source_client: FlaskClient
) -> None:
    from tests.source_interface.test_journey import new_source

    new_source(source_client)  # a second codename, from the same browser, that sends nothing
    page = page_of(logged_in, "/")
    assert page.count('<td class="unread">') == 1
    assert unread_on_index(logged_in, reported) == 2


def test_search_finds_designations_labels_and_notes(
    logged_in: FlaskClient, reported: Reported
) -> None:
    form = {"status": "in_review", "assignee": "", "note": "Met near the Canal Bridge"}
    assert post_case(logged_in, reported, "/case", **form).status_code == 302
    assert post_case(logged_in, reported, "/labels", label="knife crime").status_code == 302
    listed = f">{reported.designation}</a>"
    for search in (reported.designation.split()[1][1:4], "KNIFE", "canal bridge"):
        assert listed in page_of(logged_in, f"/?q={search}"), search
    for search in ("nothing like it", "%", "_"):
        assert listed not in page_of(logged_in, f"/?q={search}"), search


def test_the_reading_help_gives_the_workstation_command(
    logged_in: FlaskClient, journalist_client: FlaskClient
) -> None:
    page = page_of(logged_in, "/help/reading")
    command = re.search(r'<code id="open-command">(.*?)</code>', page, re.DOTALL)
    assert command is not None
    assert command.group(1).startswith("seethesigns-workstation open ")
    assert "--homedir" in command.group(1) and "--out" in command.group(1)
    assert "Mark as seen" in page


def test_the_reading_help_needs_a_login(journalist_client: FlaskClient) -> None:
    response = journalist_client.get("/help/reading")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
