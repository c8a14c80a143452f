"""A deleted account's stub over the Journalist API (issue 13): listed as SecureDrop lists a
source without a key, its undownloaded items downloadable once, and no reply accepted."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.models import Source, Submission
from seethesigns.settings import Settings
from tests.conftest import OfflineKey
from tests.journalist_interface.api.conftest import ApiClient
from tests.journalist_interface.api.test_sources import SOURCE_FIELDS
from tests.journalist_interface.conftest import FOLLOW_UP, Reported


def test_the_stub_is_listed_with_the_same_fields_and_no_key(
    stub: Reported,
    api: ApiClient,
) -> None:
    (found,) = api.get("/sources").get_json()["sources"]
    assert set(found) == SOURCE_FIELDS
    assert found["uuid"] == stub.uuid
    assert found["journalist_designation"] == stub.designation
    assert found["key"] == {"type": "PGP", "public": None, "fingerprint": None}
    assert (found["number_of_messages"], found["number_of_documents"]) == (1, 0)
    assert api.get(f"/sources/{stub.uuid}").get_json() == found
    assert api.get(f"/sources/{stub.uuid}/replies").get_json() == {"replies": []}


def test_a_reply_to_the_stub_is_a_clear_410(
    stub: Reported,
    api: ApiClient,
) -> None:
    armored = "-----BEGIN PGP MESSAGE-----\n\nhQ==\n-----END PGP MESSAGE-----\n"
    response = api.post(f"/sources/{stub.uuid}/replies", json={"reply": armored})
    assert response.status_code == 410
    assert "deleted their account" in response.get_json()["message"]


def test_the_kept_item_downloads_once_over_the_api_and_is_not_seen_until_marked(
    stub: Reported,
    api: ApiClient,
    open_db: sessionmaker[Session],
    settings: Settings,
    offline_key: OfflineKey,
) -> None:
    (item,) = api.get(f"/sources/{stub.uuid}/submissions").get_json()["submissions"]
    assert item["is_read"] is False and item["seen_by"] == []
    with open_db() as db:
        folder = settings.store_dir / db.scalars(select(Source.filesystem_id)).one()
    with api.get(f"/sources/{stub.uuid}/submissions/{item['uuid']}/download") as response:
        assert response.status_code == 200
        assert response.headers["Etag"].startswith("sha256:")
        assert offline_key.decrypt(response.get_data()) == FOLLOW_UP.encode()
    assert not (folder / item["filename"]).exists()
    with open_db() as db:
        assert db.scalars(select(Submission)).all() == []
    assert api.get(f"/sources/{stub.uuid}/submissions/{item['uuid']}/download").status_code == 404
    assert api.get("/submissions").get_json() == {"submissions": []}


def test_downloading_over_the_api_does_not_mark_seen_but_post_seen_does(
    reported: Reported, api: ApiClient, journalist_client: FlaskClient
) -> None:
    listed = api.get(f"/sources/{reported.uuid}/submissions").get_json()["submissions"]
    for item in listed:
        with api.get(f"/sources/{reported.uuid}/submissions/{item['uuid']}/download") as got:
            assert got.status_code == 200
    again = api.get(f"/sources/{reported.uuid}/submissions").get_json()["submissions"]
    assert [entry["is_read"] for entry in again] == [False, False]
    files = [entry["uuid"] for entry in again if entry["filename"].endswith("-doc.gz.gpg")]
    messages = [entry["uuid"] for entry in again if entry["filename"].endswith("-msg.gpg")]
    assert api.post("/seen", json={"files": files, "messages": messages}).status_code == 200
    marked = api.get(f"/sources/{reported.uuid}/submissions").get_json()["submissions"]
    assert [entry["is_read"] for entry in marked] == [True, True]
