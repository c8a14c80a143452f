"""The Journalist API over real HTTP against gunicorn, as SecureDrop's client software calls it.

A source reports over the source interface; a client gets a token with a real TOTP code, lists
and downloads everything (decrypted with the test key, checked against the ETag), posts a reply
it encrypted itself, which the source then reads, and works through every other endpoint.
"""

from __future__ import annotations

import gzip
import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pyotp
import pytest
import requests
from sqlalchemy import update
from sqlalchemy.orm import Session

from seethesigns.db import make_engine, make_session_factory
from seethesigns.models import ApiToken, Staff
from seethesigns.models.base import utcnow
from tests.conftest import OfflineKey
from tests.integration.conftest import (
    LiveInstance,
    csrf,
    first_login_over_http,
    fresh_staff,
    new_source,
    unused_code,
)
from tests.journalist_interface.api.conftest import client_encrypt

MESSAGE = "A man at the park gives my friend phones and sends him to other towns."
DOCUMENT = b"photo of the car, pretend" * 100


@dataclass
class Reporter:
    """A source logged in on the source interface, who has sent a message and a file."""

    http: requests.Session
    codename: str


@pytest.fixture
def open_db(live: LiveInstance) -> Iterator[Session]:
    """A session on the live instance's database, for setting things a test needs."""
    engine = make_engine(live.settings.database_url)
    with make_session_factory(engine)() as db:
        yield db
    engine.dispose()


def report(live: LiveInstance) -> Reporter:
    """A new source sends a message and a file over HTTP."""
    http = requests.Session()
    codename = new_source(live.source.url, http)
    page = http.get(live.source.url + "/lookup").text
    response = http.post(
        live.source.url + "/submit",
        data={"csrf_token": csrf(page), "msg": MESSAGE},
        files={"fh": ("car.jpg", DOCUMENT, "image/jpeg")},
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text
    return Reporter(http, codename)


class Client:
    """An API client with one staff member's token, as securedrop-client would be."""

    def __init__(self, live: LiveInstance, token: str) -> None:
        self.base = live.journalist.url + "/api/v1"
        self.http = requests.Session()
        self.http.headers.update(
            {
                "Authorization": f"Token {token}",
                "Accept": "application/json",
                "Content-Type": "application/json",
            }
        )

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send a request; the API never sets a cookie."""
        response = self.http.request(method, self.base + path, timeout=30, **kwargs)
        assert "Set-Cookie" not in response.headers, path
        return response


def get_token(
    live: LiveInstance, staff: dict[str, str], *, code: str | None = None, **overrides: str
) -> requests.Response:
    """POST /api/v1/token with real credentials and the current TOTP code."""
    body = {
        "username": staff["username"],
        "passphrase": staff["passphrase"],
        "one_time_code": code or pyotp.TOTP(staff["totp_secret"]).now(),
        **overrides,
    }
    return requests.post(live.journalist.url + "/api/v1/token", json=body, timeout=30)


def client_for(live: LiveInstance) -> tuple[Client, dict[str, str]]:
    """A client logged in as a fresh staff member."""
    staff = fresh_staff(live)
    response = get_token(live, staff)
    assert response.status_code == 200, response.text
    return Client(live, response.json()["token"]), staff


def test_token_authentication(live: LiveInstance, open_db: Session) -> None:
    staff = fresh_staff(live)
    forbidden = {"error": "Forbidden", "message": "Token authentication failed."}
    wrong = get_token(live, staff, passphrase="not the passphrase at all, sorry")
    assert (wrong.status_code, wrong.json()) == (403, forbidden)
    assert get_token(live, staff, code="000000").status_code == 403
    code = pyotp.TOTP(staff["totp_secret"]).now()
    good = get_token(live, staff, code=code)
    assert good.status_code == 200
    assert "Set-Cookie" not in good.headers
    body = good.json()
    assert set(body) == {
        "expiration",
        "token",
        "journalist_uuid",
        "journalist_first_name",
        "journalist_last_name",
    }
    replayed = get_token(live, staff, code=code)
    assert (replayed.status_code, replayed.json()) == (403, forbidden)

    client = Client(live, body["token"])
    assert client.call("GET", "/user").json()["username"] == staff["username"]
    assert Client(live, "made-up").call("GET", "/user").status_code == 403
    anonymous = requests.get(live.journalist.url + "/api/v1/sources", timeout=30)
    assert anonymous.status_code == 403
    assert anonymous.json()["error"] == "Forbidden"

    # An expired token is refused.
    open_db.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    open_db.commit()
    assert client.call("GET", "/user").status_code == 403

    # A token from before a passphrase reset (an older epoch) is refused.
    later = get_token(live, staff, code=pyotp.TOTP(staff["totp_secret"]).at(time.time() + 30))
    newer = Client(live, later.json()["token"])
    assert newer.call("GET", "/user").status_code == 200
    open_db.execute(
        update(Staff)
        .where(Staff.username == staff["username"])
        .values(session_epoch=Staff.session_epoch + 1)
    )
    open_db.commit()
    assert newer.call("GET", "/user").status_code == 403


def test_a_pending_account_gets_a_token_only_after_its_first_login(live: LiveInstance) -> None:
    staff = fresh_staff(live, active=False)
    step = int(time.time() // 30)
    refused = get_token(live, staff, code=pyotp.TOTP(staff["totp_secret"]).at(step * 30))
    assert refused.status_code == 403
    assert refused.json()["error"] == "Forbidden" and "first login" in refused.json()["message"]
    own = first_login_over_http(live.journalist.url, staff, used={step})
    again = get_token(live, staff, code=pyotp.TOTP(staff["totp_secret"]).now())
    assert again.status_code == 403  # what the admin handed over works no more
    token = get_token(live, own, code=unused_code(own["totp_secret"], {int(time.time() // 30)}))
    assert token.status_code == 200, token.text
    assert Client(live, token.json()["token"]).call("GET", "/user").status_code == 200


def test_logout_revokes_the_token(live: LiveInstance) -> None:
    client, _ = client_for(live)
    assert client.call("GET", "/sources").status_code == 200
    response = client.call("POST", "/logout")
    assert response.status_code == 200
    assert response.json() == {"message": "Your token has been revoked."}
    assert client.call("GET", "/sources").status_code == 403


def test_a_client_works_through_every_endpoint(live: LiveInstance, offline_key: OfflineKey) -> None:
    reporter = report(live)
    client, staff = client_for(live)
    me = client.call("GET", "/user").json()
    assert set(me) == {"first_name", "last_name", "username", "uuid", "is_admin", "last_login"}
    users = client.call("GET", "/users").json()["users"]
    assert me["uuid"] in {user["uuid"] for user in users}
    root = requests.get(live.journalist.url + "/api/v1/", timeout=30).json()
    assert root["sources_url"] == "/api/v1/sources"

    # The source, with the key to encrypt replies to.
    sources = client.call("GET", "/sources").json()["sources"]
    source = next(s for s in sources if s["number_of_messages"] == 1 and not s["is_starred"])
    assert source["number_of_documents"] == 1
    assert source["key"]["type"] == "PGP"
    assert source["key"]["public"].startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")
    path = f"/sources/{source['uuid']}"
    assert client.call("GET", path).json() == source

    # Submissions: listed, fetched one by one, downloaded, decrypted with the offline key.
    submissions = client.call("GET", f"{path}/submissions").json()["submissions"]
    assert [s["is_message"] for s in submissions] == [True, False]
    everyone_s = client.call("GET", "/submissions").json()["submissions"]
    assert {s["uuid"] for s in submissions} <= {s["uuid"] for s in everyone_s}
    plaintexts = []
    for item in submissions:
        assert client.call("GET", item["submission_url"][len("/api/v1") :]).json() == item
        download = client.call("GET", item["download_url"][len("/api/v1") :])
        assert download.status_code == 200
        assert download.headers["Content-Type"] == "application/pgp-encrypted"
        assert download.headers["ETag"] == "sha256:" + hashlib.sha256(download.content).hexdigest()
        assert len(download.content) == item["size"]
        plaintexts.append(offline_key.decrypt(download.content))
    assert plaintexts[0] == MESSAGE.encode()
    assert gzip.decompress(plaintexts[1]) == DOCUMENT
    # Downloaded is not read (issue 13): the client says what it opened with POST /seen.
    unseen = client.call("GET", f"{path}/submissions").json()["submissions"]
    assert [(s["is_read"], s["seen_by"]) for s in unseen] == [(False, [])] * 2
    files = [s["uuid"] for s in submissions if not s["is_message"]]
    messages = [s["uuid"] for s in submissions if s["is_message"]]
    assert client.call("POST", "/seen", json={"files": files, "messages": messages}).ok
    seen = client.call("GET", f"{path}/submissions").json()["submissions"]
    assert [(s["is_read"], s["seen_by"]) for s in seen] == [(True, [me["uuid"]])] * 2

    # A reply the client encrypts to the source and the submission key; the source reads it.
    text = "Thank you for telling us. You did nothing wrong. We will help."
    armored = client_encrypt(text, source["key"]["public"], offline_key.public_key)
    posted = client.call("POST", f"{path}/replies", json={"reply": armored})
    assert posted.status_code == 201, posted.text
    reply_uuid = posted.json()["uuid"]
    assert posted.json()["message"] == "Your reply has been stored"
    assert text in reporter.http.get(live.source.url + "/lookup").text
    refused = client.call("POST", f"{path}/replies", json={"reply": text})
    assert refused.status_code == 400
    assert refused.json()["message"] == "You must encrypt replies client side"

    (reply,) = client.call("GET", f"{path}/replies").json()["replies"]
    assert reply["uuid"] == reply_uuid
    assert (reply["journalist_uuid"], reply["journalist_username"]) == (me["uuid"], me["username"])
    assert reply in client.call("GET", "/replies").json()["replies"]
    assert client.call("GET", f"{path}/replies/{reply_uuid}").json() == reply
    download = client.call("GET", f"{path}/replies/{reply_uuid}/download")
    assert download.headers["ETag"] == "sha256:" + hashlib.sha256(download.content).hexdigest()
    assert offline_key.decrypt(download.content) == text.encode()

    # Seen, by another staff member.
    other, _ = client_for(live)
    marked = other.call(
        "POST",
        "/seen",
        json={
            "messages": [submissions[0]["uuid"]],
            "files": [submissions[1]["uuid"]],
            "replies": [reply_uuid],
        },
    )
    assert (marked.status_code, marked.json()) == (200, {"message": "resources marked seen"})
    other_uuid = other.call("GET", "/user").json()["uuid"]
    assert other_uuid in client.call("GET", f"{path}/replies/{reply_uuid}").json()["seen_by"]

    # Star, unstar, flag; no CSRF token anywhere.
    assert client.call("POST", f"{path}/add_star").status_code == 201
    assert client.call("GET", path).json()["is_starred"] is True
    assert client.call("DELETE", f"{path}/remove_star").status_code == 200
    assert client.call("POST", f"{path}/star").status_code == 201
    assert client.call("DELETE", f"{path}/star").status_code == 200
    assert client.call("GET", path).json()["is_starred"] is False
    assert client.call("POST", f"{path}/flag").status_code == 200

    # Errors are JSON.
    assert client.call("DELETE", f"{path}/add_star").json()["error"] == "Method Not Allowed"
    assert client.call("GET", "/sources/nope").json()["error"] == "Not Found"

    # Deleting: one reply, one submission, the rest of the conversation, the source.
    slug = source["journalist_designation"].replace(" ", "_")
    (folder,) = [
        f for f in live.settings.store_dir.iterdir() if any(slug in p.name for p in f.iterdir())
    ]
    assert len(list(folder.iterdir())) == 3
    deleted = client.call("DELETE", f"{path}/replies/{reply_uuid}")
    assert (deleted.status_code, deleted.json()) == (200, {"message": "Reply deleted"})
    assert text not in reporter.http.get(live.source.url + "/lookup").text
    deleted = client.call("DELETE", f"{path}/submissions/{submissions[0]['uuid']}")
    assert (deleted.status_code, deleted.json()) == (200, {"message": "Submission deleted"})
    assert len(client.call("GET", f"{path}/submissions").json()["submissions"]) == 1
    assert len(list(folder.iterdir())) == 1
    deleted = client.call("DELETE", f"{path}/conversation")
    assert (deleted.status_code, deleted.json()) == (200, {"message": "Source data deleted"})
    assert client.call("GET", f"{path}/submissions").json() == {"submissions": []}
    assert list(folder.iterdir()) == []
    deleted = client.call("DELETE", path)
    assert deleted.json() == {"message": "Source and submissions deleted"}
    assert client.call("GET", path).status_code == 404
    assert not folder.exists()
    assert staff["username"] in {user["username"] for user in users}


def test_a_client_syncs_with_the_etag_over_http(live: LiveInstance) -> None:
    """Issue 16: an unchanged list is an empty 304 through gunicorn; a new report ends that."""
    reporter = report(live)
    client, _ = client_for(live)
    tags = {}
    for kind in ("sources", "submissions", "replies"):
        full = client.call("GET", f"/{kind}")
        assert full.status_code == 200 and kind in full.json()
        tags[kind] = dict(full.headers)["Etag"]  # a plain dict, as securedrop-sdk reads it
        again = client.call("GET", f"/{kind}", headers={"If-None-Match": tags[kind]})
        assert (again.status_code, again.content) == (304, b"")
        assert dict(again.headers)["Etag"] == tags[kind]
    page = reporter.http.get(live.source.url + "/lookup").text
    sent = reporter.http.post(
        live.source.url + "/submit",
        data={"csrf_token": csrf(page), "msg": "and again tonight"},
        allow_redirects=False,
    )
    assert sent.status_code == 302
    for kind, tag in tags.items():
        after = client.call("GET", f"/{kind}", headers={"If-None-Match": tag})
        assert after.status_code == 200 and kind in after.json()
        assert dict(after.headers)["Etag"] != tag
