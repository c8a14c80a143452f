"""Submissions over the API: list, get, download with its ETag, delete."""

from __future__ import annotations

import gzip
import hashlib

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.models import Source, Submission
from seethesigns.settings import Settings
from seethesigns.staff_accounts import NewStaff
from tests.conftest import OfflineKey, csrf_token
from tests.journalist_interface.api.conftest import ApiClient
from tests.journalist_interface.conftest import DOCUMENT, MESSAGE, Reported
from tests.source_interface.test_journey import new_source

SUBMISSION_FIELDS = {
    "download_url",
    "filename",
    "is_file",
    "is_message",
    "is_read",
    "seen_by",
    "size",
    "source_url",
    "submission_url",
    "uuid",
}


def stored(open_db: sessionmaker[Session]) -> list[Submission]:
    """Every submission row, oldest first."""
    with open_db() as db:
        return list(db.scalars(select(Submission).order_by(Submission.id)))


def another_source(source_client: FlaskClient, message: str | None = None) -> None:
    """Log the reporting source out and make a second source, who may send a message."""
    page = source_client.get("/lookup").get_data(as_text=True)
    source_client.post("/logout", data={"csrf_token": csrf_token(page)})
    new_source(source_client)
    if message is not None:
        page = source_client.get("/lookup").get_data(as_text=True)
        source_client.post("/submit", data={"csrf_token": csrf_token(page), "msg": message})


def test_a_source_s_submissions(
    api: ApiClient, reported: Reported, open_db: sessionmaker[Session]
) -> None:
    response = api.get(f"/sources/{reported.uuid}/submissions")
    assert response.status_code == 200
    message, document = response.get_json()["submissions"]
    rows = stored(open_db)
    slug = reported.designation.replace(" ", "_")
    source_url = f"/api/v1/sources/{reported.uuid}"
    url = f"{source_url}/submissions/{rows[0].uuid}"
    assert message == {
        "download_url": f"{url}/download",
        "filename": f"1-{slug}-msg.gpg",
        "is_file": False,
        "is_message": True,
        "is_read": False,
        "seen_by": [],
        "size": rows[0].size,
        "source_url": source_url,
        "submission_url": url,
        "uuid": rows[0].uuid,
    }
    assert set(document) == SUBMISSION_FIELDS
    assert (document["is_file"], document["is_message"]) == (True, False)
    assert document["filename"] == f"2-{slug}-doc.gz.gpg"
    assert document["size"] == rows[1].size


def test_all_submissions_of_all_sources(
    api: ApiClient, reported: Reported, source_client: FlaskClient
) -> None:
    another_source(source_client, "me too")
    response = api.get("/submissions")
    assert response.status_code == 200
    found = response.get_json()["submissions"]
    assert len(found) == 3
    assert all(set(item) == SUBMISSION_FIELDS for item in found)
    assert len({item["source_url"] for item in found}) == 2


def test_one_submission(api: ApiClient, reported: Reported, open_db: sessionmaker[Session]) -> None:
    row = stored(open_db)[1]
    response = api.get(f"/sources/{reported.uuid}/submissions/{row.uuid}")
    assert response.status_code == 200
    assert response.get_json()["uuid"] == row.uuid
    assert set(response.get_json()) == SUBMISSION_FIELDS


def test_download_is_the_stored_ciphertext_with_its_sha256_etag(
    api: ApiClient,
    alice: NewStaff,
    reported: Reported,
    offline_key: OfflineKey,
    settings: Settings,
    open_db: sessionmaker[Session],
) -> None:
    message, document = stored(open_db)
    with api.get(f"/sources/{reported.uuid}/submissions/{message.uuid}/download") as response:
        assert response.status_code == 200
        assert response.mimetype == "application/pgp-encrypted"
        disposition = response.headers["Content-Disposition"]
        assert disposition == f"attachment; filename={message.filename}"
        body = response.get_data()
        assert response.headers["ETag"] == "sha256:" + hashlib.sha256(body).hexdigest()
    assert body == (settings.store_dir / reported.filesystem_id / message.filename).read_bytes()
    assert offline_key.decrypt(body) == MESSAGE.encode()
    with api.get(f"/sources/{reported.uuid}/submissions/{document.uuid}/download") as response:
        body = response.get_data()
        assert response.headers["ETag"] == "sha256:" + hashlib.sha256(body).hexdigest()
    assert gzip.decompress(offline_key.decrypt(body)) == DOCUMENT
    # Downloading is not reading (issue 13): nothing is seen until POST /seen says so.
    listed = api.get(f"/sources/{reported.uuid}/submissions").get_json()["submissions"]
    assert [(s["is_read"], s["seen_by"]) for s in listed] == [(False, [])] * 2


def test_another_source_s_submission_is_not_found_under_this_one(
    api: ApiClient, reported: Reported, source_client: FlaskClient, open_db: sessionmaker[Session]
) -> None:
    another_source(source_client, "mine")
    with open_db() as db:
        stranger = db.scalars(select(Source).where(Source.uuid != reported.uuid)).one()
    submission = stored(open_db)[0]
    base = f"/sources/{stranger.uuid}/submissions/{submission.uuid}"
    for response in (api.get(base), api.get(f"{base}/download"), api.delete(base)):
        assert response.status_code == 404
    assert len(stored(open_db)) == 3


def test_deleting_a_submission_destroys_its_file(
    api: ApiClient, reported: Reported, settings: Settings, open_db: sessionmaker[Session]
) -> None:
    stored_before = stored(open_db)
    message = stored_before[0]
    path = settings.store_dir / reported.filesystem_id / message.filename
    assert path.exists()
    response = api.delete(f"/sources/{reported.uuid}/submissions/{message.uuid}")
    assert response.status_code == 200
    assert response.get_json() == {"message": "Submission deleted"}
    assert not path.exists()
    assert [row.uuid for row in stored(open_db)] == [stored_before[1].uuid]
    assert api.get(f"/sources/{reported.uuid}/submissions/{message.uuid}").status_code == 404


def test_a_submission_whose_file_is_gone_is_a_404_to_download(
    api: ApiClient, reported: Reported, settings: Settings, open_db: sessionmaker[Session]
) -> None:
    message = stored(open_db)[0]
    (settings.store_dir / reported.filesystem_id / message.filename).unlink()
    response = api.get(f"/sources/{reported.uuid}/submissions/{message.uuid}/download")
    assert response.status_code == 404
    assert response.get_json()["error"] == "Not Found"
