"""The source list, a source's page, replying, and deleting a source."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from seethesigns.models import Reply, SeenReply, Source, Submission
from seethesigns.replies import MAX_REPLY_CHARS
from seethesigns.settings import Settings
from tests.conftest import OfflineKey, csrf_token
from tests.journalist_interface.conftest import (
    Reported,
    add_staff,
    download_links,
    log_in,
    mark_item,
    page_of,
)


def unread_on_index(client: FlaskClient, reported: Reported) -> int:
    """The unread count shown for a source in the list."""
    page = page_of(client, "/")
    row = re.search(
        rf'<a href="/sources/{reported.uuid}">{reported.designation}</a>.*?'
        r'<td class="unread">(\d+)</td>',
        page,
        re.DOTALL,
    )
    assert row, "source not listed"
    return int(row.group(1))


def send_reply(client: FlaskClient, reported: Reported, text: str) -> TestResponse:
    """Submit the reply form on a source's page."""
    page = page_of(client, f"/sources/{reported.uuid}")
    return client.post(
        f"/sources/{reported.uuid}/reply", data={"csrf_token": csrf_token(page), "message": text}
    )


def test_list_shows_designation_and_unread_count_that_falls_when_marked_seen(
    logged_in: FlaskClient, reported: Reported
) -> None:
    assert unread_on_index(logged_in, reported) == 2
    links = download_links(page_of(logged_in, f"/sources/{reported.uuid}"))
    with logged_in.get(links[0]) as response:
        assert response.status_code == 200
    assert unread_on_index(logged_in, reported) == 2  # downloaded is not read (issue 13)
    assert mark_item(logged_in, reported.uuid, 0).status_code == 302
    assert unread_on_index(logged_in, reported) == 1


def test_unread_counts_are_per_staff_member(
    journalist_app: Flask,
    logged_in: FlaskClient,
    reported: Reported,
    open_db: sessionmaker[Session],
    settings: Settings,
) -> None:
    bob = journalist_app.test_client()
    assert log_in(bob, add_staff(open_db, settings, "bob")).status_code == 302
    for index in (0, 1):
        assert mark_item(logged_in, reported.uuid, index).status_code == 302
    assert send_reply(logged_in, reported, "We hear you.").status_code == 302
    assert unread_on_index(logged_in, reported) == 0  # her own reply is not news to alice
    assert unread_on_index(bob, reported) == 3  # two submissions and alice's reply


def test_list_is_empty_without_sources(logged_in: FlaskClient) -> None:
    assert "No sources yet." in page_of(logged_in, "/")


def test_source_page_lists_items_in_order_with_actions(
    logged_in: FlaskClient, reported: Reported
) -> None:
    assert send_reply(logged_in, reported, "Thank you for telling us.").status_code == 302
    page = page_of(logged_in, f"/sources/{reported.uuid}")
    slug = reported.designation.replace(" ", "_")
    names = re.findall(r'/download">([^<]+)</a>', page)
    assert names == [f"1-{slug}-msg.gpg", f"2-{slug}-doc.gz.gpg", f"3-{slug}-reply.gpg"]
    assert len(download_links(page)) == 3
    assert len(re.findall(rf'action="/sources/{reported.uuid}/items/[0-9a-f-]+/delete"', page)) == 3
    assert "Reply from alice" in page
    assert page.count(">unread<") == 2 and page.count(">seen<") == 1
    # Guided reading (issue 13): each item's date and kind, and the way to read it.
    kinds = re.findall(r'<td class="kind">(Message|File|Reply)', page)
    assert kinds == ["Message", "File", "Reply"]
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert len(re.findall(rf"<td>{today} \d\d:\d\d</td>", page)) == 3
    assert 'href="/help/reading"' in page
    assert page.count("Mark as seen</button>") == 2 and page.count("Mark as unseen</button>") == 1
    assert f'action="/sources/{reported.uuid}/reply"' in page
    assert 'name="confirm" type="checkbox" value="yes" required' in page


def test_reply_is_stored_encrypted_and_reaches_the_source(
    logged_in: FlaskClient,
    source_client: FlaskClient,
    reported: Reported,
    settings: Settings,
    offline_key: OfflineKey,
    open_db: sessionmaker[Session],
) -> None:
    response = send_reply(logged_in, reported, "We read your message. <Stay safe> & reply.")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/sources/{reported.uuid}?notice=reply_sent"
    assert "Reply sent." in page_of(logged_in, response.headers["Location"])
    stored = list(settings.store_dir.rglob("*-reply.gpg"))
    assert len(stored) == 1
    assert offline_key.decrypt(stored[0].read_bytes()) == (
        b"We read your message. <Stay safe> & reply."
    )
    lookup = page_of(source_client, "/lookup")
    assert "We read your message. &lt;Stay safe&gt; &amp; reply." in lookup
    with open_db() as db:
        reply = db.scalars(select(Reply)).one()
        assert db.get(SeenReply, (reply.id, reply.staff_id)) is not None


def test_a_reply_the_source_deleted_is_kept_for_staff(
    logged_in: FlaskClient,
    source_client: FlaskClient,
    reported: Reported,
    offline_key: OfflineKey,
) -> None:
    send_reply(logged_in, reported, "Still here for staff.")
    confirm = page_of(source_client, "/delete-all-replies")
    source_client.post(
        "/delete-all-replies", data={"csrf_token": csrf_token(confirm), "confirm": "yes"}
    )
    assert "You deleted a reply." in page_of(source_client, "/lookup")
    page = page_of(logged_in, f"/sources/{reported.uuid}")
    assert "the source deleted it from their page" in page
    assert page.count('class="meta deleted-by-source"') == 1
    with logged_in.get(download_links(page)[-1]) as response:  # the reply, item 3
        assert response.status_code == 200
        assert offline_key.decrypt(response.get_data()) == b"Still here for staff."


def test_refused_reply_keeps_the_text_and_stores_nothing(
    logged_in: FlaskClient, reported: Reported, settings: Settings
) -> None:
    too_long = "x" * (MAX_REPLY_CHARS + 1)
    response = send_reply(logged_in, reported, too_long)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f"Not sent: a reply can be at most {MAX_REPLY_CHARS} characters" in page
    assert too_long in page
    empty = send_reply(logged_in, reported, "   ")
    assert empty.status_code == 400
    assert "Not sent: the reply is empty" in empty.get_data(as_text=True)
    assert not list(settings.store_dir.rglob("*-reply.gpg"))


def test_a_reply_as_long_as_allowed_in_any_script_is_taken(
    logged_in: FlaskClient, reported: Reported, settings: Settings
) -> None:
    """Percent-encoded, an emoji is 12 bytes: the reply form may be far over the small limit."""
    longest = "\U0001f49c" * MAX_REPLY_CHARS
    response = send_reply(logged_in, reported, longest)
    assert response.status_code == 302
    assert len(list(settings.store_dir.rglob("*-reply.gpg"))) == 1
    response = send_reply(logged_in, reported, longest + "!")
    assert response.status_code == 400  # the view's own clear refusal, not a 413


def test_deleting_a_source_needs_confirmation(
    logged_in: FlaskClient, reported: Reported, settings: Settings
) -> None:
    page = page_of(logged_in, f"/sources/{reported.uuid}")
    response = logged_in.post(
        f"/sources/{reported.uuid}/delete", data={"csrf_token": csrf_token(page)}
    )
    assert response.status_code == 400
    assert "Nothing was deleted" in response.get_data(as_text=True)
    assert (settings.store_dir / reported.filesystem_id).is_dir()


def test_deleting_a_source_destroys_its_files_and_rows(
    logged_in: FlaskClient,
    source_client: FlaskClient,
    reported: Reported,
    settings: Settings,
    open_db: sessionmaker[Session],
) -> None:
    assert send_reply(logged_in, reported, "A reply to delete too.").status_code == 302
    page = page_of(logged_in, f"/sources/{reported.uuid}")
    response = logged_in.post(
        f"/sources/{reported.uuid}/delete", data={"csrf_token": csrf_token(page), "confirm": "yes"}
    )
    assert response.status_code == 302
    assert "The source and everything they sent were deleted." in page_of(
        logged_in, response.headers["Location"]
    )
    assert not (settings.store_dir / reported.filesystem_id).exists()
    with open_db() as db:
        for table in (Source, Submission, Reply):
            assert db.scalar(select(func.count()).select_from(table)) == 0
    assert logged_in.get(f"/sources/{reported.uuid}").status_code == 404
    assert source_client.get("/lookup").status_code == 302  # the source is logged out


def test_unknown_source_is_404(logged_in: FlaskClient, reported: Reported) -> None:
    response = logged_in.get(f"/sources/{uuid.uuid4()}")
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True)
    page = page_of(logged_in, "/")
    assert (
        logged_in.post(
            f"/sources/{uuid.uuid4()}/reply",
            data={"csrf_token": csrf_token(page), "message": "hello"},
        ).status_code
        == 404
    )
