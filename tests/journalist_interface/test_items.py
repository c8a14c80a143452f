"""Downloading and deleting one submission or reply."""

from __future__ import annotations

import gzip
import uuid

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.models import Reply, SeenSubmission, Source, Staff, Submission
from seethesigns.settings import Settings
from tests.conftest import OfflineKey, csrf_token
from tests.journalist_interface.conftest import (
    DOCUMENT,
    MESSAGE,
    Reported,
    download_links,
    mark_item,
    page_of,
    seen_forms,
)
from tests.source_interface.test_journey import new_source


def test_download_sends_the_stored_ciphertext_and_does_not_mark_it_seen(
    logged_in: FlaskClient,
    reported: Reported,
    settings: Settings,
    offline_key: OfflineKey,
    open_db: sessionmaker[Session],
) -> None:
    message_link, document_link = download_links(page_of(logged_in, f"/sources/{reported.uuid}"))
    slug = reported.designation.replace(" ", "_")
    on_disk = settings.store_dir / reported.filesystem_id / f"1-{slug}-msg.gpg"
    with logged_in.get(message_link) as response:
        assert response.status_code == 200
        assert response.mimetype == "application/pgp-encrypted"
        assert response.headers["Content-Disposition"] == (f"attachment; filename=1-{slug}-msg.gpg")
        body = response.get_data()
    assert body == on_disk.read_bytes()
    assert offline_key.decrypt(body) == MESSAGE.encode()
    with logged_in.get(document_link) as response:
        assert gzip.decompress(offline_key.decrypt(response.get_data())) == DOCUMENT
    # Downloaded is not read (issue 13): only the first download is noted.
    with open_db() as db:
        alice = db.scalars(select(Staff)).one()
        seen = db.scalars(
            select(SeenSubmission.submission_id).where(SeenSubmission.staff_id == alice.id)
        ).all()
        assert seen == []
        assert None not in db.scalars(select(Submission.downloaded_at)).all()
    assert page_of(logged_in, f"/sources/{reported.uuid}").count(">unread<") == 2


def test_mark_as_seen_and_unseen_by_hand_for_this_person_only(
    logged_in: FlaskClient, as_bob: FlaskClient, reported: Reported
) -> None:
    response = mark_item(logged_in, reported.uuid, 1)
    assert response.status_code == 302 and "notice=marked_seen" in response.location
    page = page_of(logged_in, f"/sources/{reported.uuid}")
    assert page.count(">unread<") == 1 and page.count(">seen<") == 1
    assert "Mark as unseen" in page and "Marked as seen by you." not in page
    assert page_of(as_bob, f"/sources/{reported.uuid}").count(">unread<") == 2
    assert mark_item(logged_in, reported.uuid, 1).status_code == 302  # now "Mark as unseen"
    assert page_of(logged_in, f"/sources/{reported.uuid}").count(">unread<") == 2


def test_marking_seen_needs_the_csrf_token_and_a_login(
    logged_in: FlaskClient, journalist_app: Flask, reported: Reported
) -> None:
    action = seen_forms(page_of(logged_in, f"/sources/{reported.uuid}"))[0]
    assert logged_in.post(action).status_code == 400
    assert journalist_app.test_client().post(action).status_code in (302, 400)
    assert page_of(logged_in, f"/sources/{reported.uuid}").count(">unread<") == 2


def test_download_of_a_reply(
    logged_in: FlaskClient, reported: Reported, offline_key: OfflineKey
) -> None:
    page = page_of(logged_in, f"/sources/{reported.uuid}")
    logged_in.post(
        f"/sources/{reported.uuid}/reply",
        data={"csrf_token": csrf_token(page), "message": "Replying."},
    )
    reply_link = download_links(page_of(logged_in, f"/sources/{reported.uuid}"))[2]
    with logged_in.get(reply_link) as response:
        assert response.status_code == 200
        assert offline_key.decrypt(response.get_data()) == b"Replying."


def test_unknown_item_or_another_sources_item_is_404(
    logged_in: FlaskClient, reported: Reported, source_app: Flask, open_db: sessionmaker[Session]
) -> None:
    assert (
        logged_in.get(f"/sources/{reported.uuid}/items/{uuid.uuid4()}/download").status_code == 404
    )
    new_source(source_app.test_client())
    with open_db() as db:
        other = db.scalar(select(Source.uuid).where(Source.uuid != reported.uuid))
        item_uuid = db.scalars(select(Submission.uuid)).first()
    index = page_of(logged_in, "/")
    assert logged_in.get(f"/sources/{other}/items/{item_uuid}/download").status_code == 404
    response = logged_in.post(
        f"/sources/{other}/items/{item_uuid}/delete", data={"csrf_token": csrf_token(index)}
    )
    assert response.status_code == 404


def test_deleting_items_removes_file_and_row(
    logged_in: FlaskClient, reported: Reported, settings: Settings, open_db: sessionmaker[Session]
) -> None:
    page = page_of(logged_in, f"/sources/{reported.uuid}")
    logged_in.post(
        f"/sources/{reported.uuid}/reply",
        data={"csrf_token": csrf_token(page), "message": "Replying."},
    )
    folder = settings.store_dir / reported.filesystem_id
    message_link, _, reply_link = download_links(page_of(logged_in, f"/sources/{reported.uuid}"))
    for link in (message_link, reply_link):
        response = logged_in.post(
            link.replace("/download", "/delete"), data={"csrf_token": csrf_token(page)}
        )
        assert response.status_code == 302
        assert response.headers["Location"] == f"/sources/{reported.uuid}?notice=item_deleted"
    assert sorted(path.name for path in folder.iterdir()) == [
        f"2-{reported.designation.replace(' ', '_')}-doc.gz.gpg"
    ]
    with open_db() as db:
        assert db.scalar(select(func.count()).select_from(Submission)) == 1
        assert db.scalar(select(func.count()).select_from(Reply)) == 0
    remaining = page_of(logged_in, f"/sources/{reported.uuid}")
    assert len(download_links(remaining)) == 1
    assert "-msg.gpg" not in remaining and "-reply.gpg" not in remaining
