"""Bulk actions on the list and on a source's page: zips, stars, and confirmed deletion."""

from __future__ import annotations

import io
import os
import re
import zipfile

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from seethesigns.models import Case, Reply, SeenSubmission, Source, Submission
from seethesigns.settings import Settings
from tests.conftest import OfflineKey, csrf_token
from tests.journalist_interface.conftest import (
    MESSAGE,
    Reported,
    add_staff,
    download_links,
    log_in,
    mark_item,
    page_of,
)
from tests.journalist_interface.test_sources import send_reply, unread_on_index
from tests.source_interface.test_journey import new_source


@pytest.fixture
def other(source_app: Flask, reported: Reported, open_db: sessionmaker[Session]) -> Reported:
    """A second source, who sent one message."""
    client = source_app.test_client()
    codename = new_source(client)
    page = client.get("/lookup").get_data(as_text=True)
    response = client.post("/submit", data={"csrf_token": csrf_token(page), "msg": "me too"})
    assert response.status_code == 302
    with open_db() as db:
        source = db.scalars(select(Source).where(Source.uuid != reported.uuid)).one()
    return Reported(source.uuid, source.designation, source.filesystem_id, codename)


def post(client: FlaskClient, path: str, data: dict[str, str | list[str]]) -> TestResponse:
    """Post a form with a fresh CSRF token, as a browser would from the list."""
    return client.post(path, data={"csrf_token": csrf_token(page_of(client, "/")), **data})


def stored(settings: Settings, source: Reported) -> dict[str, bytes]:
    """A source's stored files, as zip member names and contents."""
    folder = settings.store_dir / source.filesystem_id
    slug = source.designation.replace(" ", "_")
    return {f"{slug}/{path.name}": path.read_bytes() for path in sorted(folder.iterdir())}


def unzip(response: TestResponse) -> dict[str, bytes]:
    """Every member of a zip response, by name (reading it runs the stream to its end)."""
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def test_ticked_sources_download_as_one_streamed_zip_by_designation(
    logged_in: FlaskClient,
    reported: Reported,
    other: Reported,
    settings: Settings,
    offline_key: OfflineKey,
    open_db: sessionmaker[Session],
) -> None:
    response = post(
        logged_in, "/bulk/sources", {"action": "download", "source": [reported.uuid, other.uuid]}
    )
    assert response.is_streamed
    members = unzip(response)
    assert members == stored(settings, reported) | stored(settings, other)
    assert len(members) == 3
    slug = reported.designation.replace(" ", "_")
    message = members[f"{slug}/1-{slug}-msg.gpg"]
    assert offline_key.decrypt(message) == MESSAGE.encode()
    # Downloaded is not read (issue 13): nothing is seen, but each first download is noted.
    assert (unread_on_index(logged_in, reported), unread_on_index(logged_in, other)) == (2, 1)
    with open_db() as db:
        assert None not in db.scalars(select(Submission.downloaded_at)).all()


def test_ticked_items_marked_seen_count_for_that_person_only(
    journalist_app: Flask,
    logged_in: FlaskClient,
    reported: Reported,
    open_db: sessionmaker[Session],
    settings: Settings,
) -> None:
    bob = journalist_app.test_client()
    assert log_in(bob, add_staff(open_db, settings, "bob")).status_code == 302
    unzip(post(logged_in, f"/sources/{reported.uuid}/items/bulk", {"action": "download_all"}))
    assert unread_on_index(logged_in, reported) == 2
    with open_db() as db:
        items = db.scalars(select(Submission.uuid).order_by(Submission.id)).all()
    path = f"/sources/{reported.uuid}/items/bulk"
    response = post(logged_in, path, {"action": "seen", "item": list(items)})
    assert response.status_code == 302 and "notice=marked_seen" in response.location
    assert unread_on_index(logged_in, reported) == 0
    assert unread_on_index(bob, reported) == 2
    assert post(logged_in, path, {"action": "unseen", "item": [items[0]]}).status_code == 302
    assert unread_on_index(logged_in, reported) == 1


def test_download_everything_unread_leaves_out_what_was_seen(
    logged_in: FlaskClient, reported: Reported, other: Reported, settings: Settings
) -> None:
    assert mark_item(logged_in, reported.uuid, 0).status_code == 302  # read the message
    assert send_reply(logged_in, reported, "Her own reply is not unread.").status_code == 302
    everything = stored(settings, reported) | stored(settings, other)
    expected = {
        name: data
        for name, data in everything.items()
        if not name.endswith(("-msg.gpg", "-reply.gpg"))
        or name.startswith(other.designation.replace(" ", "_"))
    }
    members = unzip(post(logged_in, "/bulk/unread", {}))
    assert members == expected
    assert sorted(name.rsplit("-", 1)[1] for name in members) == ["doc.gz.gpg", "msg.gpg"]
    # Downloading is not reading (issue 13): the same is still unread by her.
    assert unzip(post(logged_in, "/bulk/unread", {})) == expected


def test_star_and_unstar_ticked_sources_keep_the_search(
    logged_in: FlaskClient, reported: Reported, other: Reported, open_db: sessionmaker[Session]
) -> None:
    both = [reported.uuid, other.uuid]
    response = post(logged_in, "/bulk/sources", {"action": "star", "source": both, "q": "  A "})
    assert response.status_code == 302
    assert response.headers["Location"] == "/?q=a&notice=starred"
    with open_db() as db:
        assert db.scalars(select(Source.is_starred)).all() == [True, True]
    response = post(logged_in, "/bulk/sources", {"action": "unstar", "source": [other.uuid]})
    assert response.headers["Location"] == "/?notice=unstarred"
    page = page_of(logged_in, "/")
    starred = page[page.index("<h2>Starred</h2>") : page.index("Other sources")]
    assert reported.designation in starred and other.designation not in starred


def test_acting_on_nothing_says_so(logged_in: FlaskClient, reported: Reported) -> None:
    response = post(logged_in, "/bulk/sources", {"action": "star"})
    assert response.headers["Location"] == "/?notice=nothing_selected"
    assert "tick at least one source" in page_of(logged_in, response.headers["Location"])
    unknown = post(logged_in, "/bulk/sources", {"action": "delete", "source": ["not-a-uuid"]})
    assert unknown.headers["Location"] == "/?notice=nothing_selected"
    path = f"/sources/{reported.uuid}/items/bulk"
    assert post(logged_in, path, {"action": "download"}).status_code == 302
    assert (
        post(
            logged_in, "/bulk/sources", {"action": "explode", "source": [reported.uuid]}
        ).status_code
        == 400
    )


def test_bulk_forms_need_their_csrf_token(logged_in: FlaskClient, reported: Reported) -> None:
    for path in ("/bulk/sources", "/bulk/unread", f"/sources/{reported.uuid}/items/bulk"):
        response = logged_in.post(path, data={"action": "download_all", "source": reported.uuid})
        assert response.status_code == 400
        assert "The form had expired" in response.get_data(as_text=True)


def test_deleting_ticked_sources_asks_first_then_destroys_everything(
    logged_in: FlaskClient,
    reported: Reported,
    other: Reported,
    settings: Settings,
    open_db: sessionmaker[Session],
) -> None:
    folder = settings.store_dir / reported.filesystem_id
    witness = settings.tmp_dir / "witness"  # a second name for a stored file's inode
    original = next(folder.iterdir())
    os.link(original, witness)
    size = witness.stat().st_size
    both = [reported.uuid, other.uuid]
    ask = post(logged_in, "/bulk/sources", {"action": "delete", "source": both, "unread": "1"})
    assert ask.status_code == 200
    page = ask.get_data(as_text=True)
    assert "Delete 2 sources?" in page
    assert reported.designation in page and other.designation in page
    assert folder.is_dir() and witness.read_bytes() != bytes(size)
    response = logged_in.post(
        "/bulk/sources",
        data=dict(re.findall(r'name="(csrf_token|action|unread)" value="([^"]*)"', page))
        | {"source": re.findall(r'name="source" value="([^"]+)"', page), "confirm": "yes"},
    )
    assert response.headers["Location"] == "/?unread=1&notice=sources_deleted"
    assert not folder.exists() and not (settings.store_dir / other.filesystem_id).exists()
    assert witness.read_bytes() == bytes(size)  # overwritten before it was unlinked
    with open_db() as db:
        for table in (Source, Submission, Reply, SeenSubmission, Case):
            assert db.scalar(select(func.count()).select_from(table)) == 0


def test_ticked_items_download_alone_and_other_sources_items_are_ignored(
    logged_in: FlaskClient,
    reported: Reported,
    other: Reported,
    open_db: sessionmaker[Session],
    settings: Settings,
) -> None:
    with open_db() as db:
        ours = db.scalars(
            select(Submission)
            .join(Source)
            .where(Source.uuid == reported.uuid)
            .order_by(Submission.id)
        ).all()
        theirs = db.scalars(
            select(Submission.uuid).join(Source).where(Source.uuid == other.uuid)
        ).one()
    members = unzip(
        post(
            logged_in,
            f"/sources/{reported.uuid}/items/bulk",
            {"action": "download", "item": [ours[1].uuid, theirs]},
        )
    )
    slug = reported.designation.replace(" ", "_")
    assert members == {
        f"{slug}/{ours[1].filename}": stored(settings, reported)[f"{slug}/{ours[1].filename}"]
    }
    assert unread_on_index(logged_in, reported) == 2
    assert unread_on_index(logged_in, other) == 1


def test_deleting_ticked_items_asks_first_then_destroys_only_those(
    logged_in: FlaskClient, reported: Reported, settings: Settings, open_db: sessionmaker[Session]
) -> None:
    assert send_reply(logged_in, reported, "A reply.").status_code == 302
    with open_db() as db:
        message = db.scalars(select(Submission).order_by(Submission.id)).first()
        reply = db.scalars(select(Reply)).one()
    assert message is not None
    path = f"/sources/{reported.uuid}/items/bulk"
    ticked = {"action": "delete", "item": [message.uuid, reply.uuid]}
    ask = post(logged_in, path, ticked)
    assert ask.status_code == 200
    assert "Delete 2 items of" in ask.get_data(as_text=True)
    assert len(list((settings.store_dir / reported.filesystem_id).iterdir())) == 3
    response = post(logged_in, path, ticked | {"confirm": "yes"})
    assert response.headers["Location"] == f"/sources/{reported.uuid}?notice=items_deleted"
    remaining = [p.name for p in (settings.store_dir / reported.filesystem_id).iterdir()]
    assert len(remaining) == 1 and remaining[0].endswith("-doc.gz.gpg")
    with open_db() as db:
        assert db.scalar(select(func.count()).select_from(Submission)) == 1
        assert db.scalar(select(func.count()).select_from(Reply)) == 0
    assert len(download_links(page_of(logged_in, f"/sources/{reported.uuid}"))) == 1
