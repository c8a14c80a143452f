"""POST /api/v1/seen: marking files, messages and replies seen by the calling staff member."""

from __future__ import annotations

import time
import uuid

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.models import Submission
from seethesigns.settings import Settings
from seethesigns.staff_accounts import NewStaff
from tests.conftest import OfflineKey
from tests.journalist_interface.api.conftest import ApiClient, token_of
from tests.journalist_interface.api.test_replies import post_reply
from tests.journalist_interface.conftest import Reported, add_staff


def message_and_file(open_db: sessionmaker[Session]) -> tuple[str, str]:
    """The uuids of the reported message and document."""
    with open_db() as db:
        message, document = db.scalars(select(Submission.uuid).order_by(Submission.id))
    return message, document


def seen_by(api: ApiClient, reported: Reported) -> list[list[str]]:
    """seen_by of each submission and then each reply of the source."""
    submissions = api.get(f"/sources/{reported.uuid}/submissions").get_json()["submissions"]
    replies = api.get(f"/sources/{reported.uuid}/replies").get_json()["replies"]
    return [item["seen_by"] for item in submissions + replies]


def test_marking_items_seen_records_who_saw_them(
    api: ApiClient,
    alice: NewStaff,
    reported: Reported,
    journalist_client: FlaskClient,
    offline_key: OfflineKey,
    open_db: sessionmaker[Session],
    settings: Settings,
) -> None:
    reply = post_reply(api, reported, "hello", offline_key)  # alice has seen her own reply
    bob = add_staff(open_db, settings, "bob")
    as_bob = ApiClient(journalist_client, token_of(journalist_client, bob))
    message, document = message_and_file(open_db)
    response = as_bob.post("/seen", json={"files": [document], "messages": [message]})
    assert response.status_code == 200
    assert response.get_json() == {"message": "resources marked seen"}
    assert seen_by(api, reported) == [[bob.staff.uuid], [bob.staff.uuid], [alice.staff.uuid]]
    assert as_bob.post("/seen", json={"replies": [reply]}).status_code == 200
    assert api.post("/seen", json={"messages": [message]}).status_code == 200
    # Marking again changes nothing.
    assert as_bob.post("/seen", json={"messages": [message]}).status_code == 200
    assert seen_by(api, reported) == [
        [bob.staff.uuid, alice.staff.uuid],
        [bob.staff.uuid],
        [alice.staff.uuid, bob.staff.uuid],
    ]
    listed = api.get("/submissions").get_json()["submissions"]
    assert [item["is_read"] for item in listed] == [True, True]


@pytest.mark.parametrize("body", [{}, {"files": []}, {"files": [], "messages": [], "replies": []}])
def test_naming_nothing_is_a_400(api: ApiClient, body: dict[str, list[str]]) -> None:
    response = api.post("/seen", json=body)
    assert response.status_code == 400
    assert response.get_json() == {
        "error": "Bad Request",
        "message": "Please specify the resources to mark seen.",
    }


@pytest.mark.parametrize("body", [{"files": "abc"}, {"replies": [1, 2]}, ["files"]])
def test_a_malformed_list_is_a_400(api: ApiClient, body: object) -> None:
    assert api.post("/seen", json=body).status_code == 400


def test_one_unknown_item_is_a_404_and_nothing_is_marked(
    api: ApiClient, reported: Reported, open_db: sessionmaker[Session]
) -> None:
    message, document = message_and_file(open_db)
    missing = str(uuid.uuid4())
    cases = [
        ({"files": [document], "replies": [missing]}, f"reply not found: {missing}"),
        ({"messages": [message], "files": [missing]}, f"file not found: {missing}"),
        # The right uuid in the wrong list is not found either.
        ({"files": [document], "messages": [document]}, f"message not found: {document}"),
        ({"files": [message]}, f"file not found: {message}"),
    ]
    for body, message_text in cases:
        response = api.post("/seen", json=body)
        assert response.status_code == 404
        assert response.get_json() == {"error": "Not Found", "message": message_text}
    assert seen_by(api, reported) == [[], []]


def test_too_many_items_at_once_is_a_400(api: ApiClient) -> None:
    many = [str(uuid.uuid4()) for _ in range(10_001)]
    response = api.post("/seen", json={"files": many})
    assert response.status_code == 400
    assert "at most" in response.get_json()["message"]


def test_seen_is_per_person(
    api: ApiClient,
    reported: Reported,
    journalist_client: FlaskClient,
    open_db: sessionmaker[Session],
    settings: Settings,
) -> None:
    message, _ = message_and_file(open_db)
    bob = add_staff(open_db, settings, "bob")
    bob_token = token_of(journalist_client, bob, at=time.time())
    ApiClient(journalist_client, bob_token).post("/seen", json={"messages": [message]})
    assert seen_by(api, reported)[0] == [bob.staff.uuid]
