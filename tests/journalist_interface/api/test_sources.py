"""Sources over the API: list, get, delete, star, flag, and deleting a conversation."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.models import Reply, Source, Submission
from seethesigns.settings import Settings
from seethesigns.teams.membership import front_door_id
from tests.conftest import csrf_token
from tests.journalist_interface.api.conftest import ApiClient
from tests.journalist_interface.conftest import Reported, page_of
from tests.source_interface.test_journey import new_source

SOURCE_FIELDS = {
    "add_star_url",
    "interaction_count",
    "is_flagged",
    "is_starred",
    "journalist_designation",
    "key",
    "last_updated",
    "number_of_documents",
    "number_of_messages",
    "remove_star_url",
    "replies_url",
    "submissions_url",
    "url",
    "uuid",
}


def test_the_list_shows_each_source_with_its_key_and_counts(
    api: ApiClient, reported: Reported, open_db: sessionmaker[Session]
) -> None:
    response = api.get("/sources")
    assert response.status_code == 200
    (found,) = response.get_json()["sources"]
    assert set(found) == SOURCE_FIELDS
    with open_db() as db:
        source = db.scalars(select(Source)).one()
    url = f"/api/v1/sources/{reported.uuid}"
    assert found == {
        "add_star_url": f"{url}/add_star",
        "interaction_count": 2,
        "is_flagged": False,
        "is_starred": False,
        "journalist_designation": reported.designation,
        "key": {
            "type": "PGP",
            "public": source.pgp_public_key,
            "fingerprint": source.pgp_fingerprint,
        },
        "last_updated": source.last_updated.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "number_of_documents": 1,
        "number_of_messages": 1,
        "remove_star_url": f"{url}/remove_star",
        "replies_url": f"{url}/replies",
        "submissions_url": f"{url}/submissions",
        "url": url,
        "uuid": reported.uuid,
    }
    assert found["key"]["public"].startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")
    assert "PRIVATE" not in response.get_data(as_text=True)


def test_a_source_who_has_sent_nothing_is_listed_only_when_asked_for(
    api: ApiClient, source_client: FlaskClient, open_db: sessionmaker[Session]
) -> None:
    new_source(source_client)
    with open_db() as db:
        pending = db.scalars(select(Source)).one()
    assert api.get("/sources").get_json() == {"sources": []}
    response = api.get(f"/sources/{pending.uuid}")
    assert response.status_code == 200
    assert response.get_json()["number_of_messages"] == 0


def test_one_source(api: ApiClient, reported: Reported) -> None:
    response = api.get(f"/sources/{reported.uuid}")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == SOURCE_FIELDS
    assert body["uuid"] == reported.uuid
    assert body["journalist_designation"] == reported.designation


def test_an_unknown_source_is_a_json_404(api: ApiClient) -> None:
    for method in ("get", "delete"):
        response = getattr(api, method)("/sources/00000000-0000-0000-0000-000000000000")
        assert response.status_code == 404
        assert response.get_json()["error"] == "Not Found"
    assert api.post("/sources/nope/add_star").status_code == 404
    assert api.delete("/sources/nope/conversation").status_code == 404


def test_deleting_a_source_destroys_its_files_and_rows(
    api: ApiClient, reported: Reported, settings: Settings, open_db: sessionmaker[Session]
) -> None:
    folder = settings.store_dir / reported.filesystem_id
    assert len(list(folder.iterdir())) == 2
    response = api.delete(f"/sources/{reported.uuid}")
    assert response.status_code == 200
    assert response.get_json() == {"message": "Source and submissions deleted"}
    assert not folder.exists()
    with open_db() as db:
        assert db.scalars(select(Source)).all() == []
        assert db.scalars(select(Submission)).all() == []
    assert api.get(f"/sources/{reported.uuid}").status_code == 404


@pytest.mark.parametrize(
    ("star", "unstar"),
    [(("post", "add_star"), ("delete", "remove_star")), (("post", "star"), ("delete", "star"))],
    ids=["urls-in-source-json", "documented-paths"],
)
def test_star_and_unstar(
    api: ApiClient, reported: Reported, star: tuple[str, str], unstar: tuple[str, str]
) -> None:
    response = getattr(api, star[0])(f"/sources/{reported.uuid}/{star[1]}")
    assert response.status_code == 201
    assert response.get_json() == {"message": "Star added"}
    assert api.get(f"/sources/{reported.uuid}").get_json()["is_starred"] is True
    response = getattr(api, unstar[0])(f"/sources/{reported.uuid}/{unstar[1]}")
    assert response.status_code == 200
    assert response.get_json() == {"message": "Star removed"}
    assert api.get(f"/sources/{reported.uuid}").get_json()["is_starred"] is False


def test_flagging_is_accepted_and_changes_nothing(api: ApiClient, reported: Reported) -> None:
    response = api.post(f"/sources/{reported.uuid}/flag")
    assert response.status_code == 200
    assert response.get_json() == {"message": "Sources no longer need to be flagged for reply"}
    assert api.get(f"/sources/{reported.uuid}").get_json()["is_flagged"] is False


def test_deleting_the_conversation_keeps_the_source(
    logged_in: FlaskClient,
    api: ApiClient,
    reported: Reported,
    settings: Settings,
    open_db: sessionmaker[Session],
) -> None:
    page = page_of(logged_in, f"/sources/{reported.uuid}")
    logged_in.post(
        f"/sources/{reported.uuid}/reply",
        data={"csrf_token": csrf_token(page), "message": "We are here for you."},
    )
    folder = settings.store_dir / reported.filesystem_id
    assert len(list(folder.iterdir())) == 3
    response = api.delete(f"/sources/{reported.uuid}/conversation")
    assert response.status_code == 200
    assert response.get_json() == {"message": "Source data deleted"}
    assert list(folder.iterdir()) == []
    with open_db() as db:
        assert db.scalars(select(Submission)).all() == []
        assert db.scalars(select(Reply)).all() == []
    body = api.get(f"/sources/{reported.uuid}").get_json()
    assert (body["number_of_messages"], body["number_of_documents"]) == (0, 0)
    # Still listed: it has sent something before.
    assert [s["uuid"] for s in api.get("/sources").get_json()["sources"]] == [reported.uuid]


def add_sources(open_db: sessionmaker[Session], count: int) -> None:
    """Insert sources with a message, a document and a reply each, straight into the database."""
    with open_db() as db:
        start = db.scalar(select(Source.id).order_by(Source.id.desc()).limit(1)) or 0
        now = datetime(2025, 1, 1)
        db.execute(
            insert(Source),
            [
                {
                    "id": start + n + 1,
                    "uuid": f"00000000-0000-0000-0000-{start + n + 1:012d}",
                    "filesystem_id": secrets.token_hex(16),
                    "designation": f"bulk source {start + n + 1}",
                    "pgp_fingerprint": "F" * 40,
                    "pgp_public_key": "-----BEGIN PGP PUBLIC KEY BLOCK-----\n",
                    "pgp_secret_key": "unused",
                    "interaction_count": 2,
                    "last_updated": now,
                    "team_id": front_door_id(db),
                }
                for n in range(count)
            ],
        )
        ids = range(start + 1, start + count + 1)
        item = {"size": 1, "checksum": "sha256:0"}
        db.execute(
            insert(Submission),
            [{"source_id": i, "filename": "1-bulk-msg.gpg", **item} for i in ids]
            + [{"source_id": i, "filename": "2-bulk-doc.gz.gpg", **item} for i in ids],
        )
        db.execute(
            insert(Reply), [{"source_id": i, "filename": "3-bulk-reply.gpg", **item} for i in ids]
        )
        db.commit()


@contextmanager
def counting_queries(app: Flask) -> Iterator[list[str]]:
    """Record every SQL statement the app's engine runs."""
    engine = app.extensions["seethesigns"].db.kw["bind"]
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize("path", ["/sources", "/submissions", "/replies"])
def test_lists_take_the_same_number_of_queries_for_3_sources_as_for_60(
    api: ApiClient, journalist_app: Flask, open_db: sessionmaker[Session], path: str
) -> None:
    add_sources(open_db, 3)
    with counting_queries(journalist_app) as few:
        small = api.get(path).get_json()
    add_sources(open_db, 57)
    with counting_queries(journalist_app) as many:
        large = api.get(path).get_json()
    # The key check, the token, the staff member's teams (issue 14), the sync token of the
    # list's Etag (issue 16), then the list's own.
    assert len(few) == len(many) <= 6, many
    key = path.strip("/")
    assert len(large[key]) == len(small[key]) * 20
    if path == "/sources":
        assert {s["number_of_messages"] for s in large[key]} == {1}
        assert {s["number_of_documents"] for s in large[key]} == {1}
