"""SecureDrop's own client library, securedrop-sdk (`sdclientapi`), against real gunicorn.

The SDK is what securedrop-client calls; it copies response headers into a plain dict and reads
`Etag` with exactly that spelling, so this test runs it unchanged rather than imitating it.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import pytest
from sdclientapi import API, AuthError, ReplyError, Source, WrongUUIDError

from tests.conftest import OfflineKey
from tests.integration.conftest import LiveInstance, csrf, fresh_staff
from tests.integration.test_api import DOCUMENT, MESSAGE, report
from tests.journalist_interface.api.conftest import client_encrypt


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK calls requests without a session; an environment proxy must not carry 127.0.0.1."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")


def sdk_for(live: LiveInstance) -> API:
    """The SDK logged in as a fresh staff member, straight to the server (no proxy VM)."""
    staff = fresh_staff(live)
    api = API(
        live.journalist.url + "/",
        staff["username"],
        staff["passphrase"],
        pyotp.TOTP(staff["totp_secret"]).now(),
        proxy=False,
        default_request_timeout=30,
        default_download_timeout=30,
    )
    assert api.authenticate()
    return api


@pytest.fixture
def sdk(live: LiveInstance) -> API:
    """One staff member's SDK."""
    return sdk_for(live)


def raw_header_names(url: str, token: str) -> list[str]:
    """The response header names exactly as they came over the wire, in order."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=30)
    try:
        connection.request("GET", parts.path, headers={"Authorization": f"Token {token}"})
        response = connection.getresponse()
        response.read()
        assert response.status == 200
        return [name for name, _ in response.getheaders()]
    finally:
        connection.close()


def test_the_sdk_works_through_a_conversation(
    live: LiveInstance, sdk: API, offline_key: OfflineKey, tmp_path: Path
) -> None:
    reporter = report(live)
    assert sdk.get_current_user()["uuid"] == sdk.token_journalist_uuid
    assert sdk.token_journalist_uuid in {user.uuid for user in sdk.get_users()}

    source = next(s for s in sdk.get_sources() if s.number_of_messages == 1 and not s.is_starred)
    assert sdk.get_source(source).uuid == source.uuid
    message, document = sdk.get_submissions(source)
    assert (message.is_file(), document.is_file()) == (False, True)

    # Downloads: the bytes on disk, checked against the etag the SDK hands back.
    etag, path = sdk.download_submission(message, str(tmp_path))
    ciphertext = Path(path).read_bytes()
    assert etag == "sha256:" + hashlib.sha256(ciphertext).hexdigest()
    assert len(ciphertext) == message.size
    assert offline_key.decrypt(ciphertext) == MESSAGE.encode()
    etag, path = sdk.download_submission(document, str(tmp_path))
    ciphertext = Path(path).read_bytes()
    assert etag == "sha256:" + hashlib.sha256(ciphertext).hexdigest()
    assert gzip.decompress(offline_key.decrypt(ciphertext)) == DOCUMENT

    # Star and unstar.
    assert sdk.add_star(source)
    assert sdk.get_source(source).is_starred
    assert sdk.remove_star(source)
    assert not sdk.get_source(source).is_starred

    # A reply encrypted with real GnuPG to the source's key and the submission key.
    text = "Thank you for telling us. You are not in trouble."
    armored = client_encrypt(text, source.key["public"], offline_key.public_key)
    stored = sdk.reply_source(source, armored)
    assert text in reporter.http.get(live.source.url + "/lookup").text
    (reply,) = sdk.get_replies_from_source(source)
    assert (reply.uuid, reply.filename) == (stored.uuid, stored.filename)
    assert reply.journalist_uuid == sdk.token_journalist_uuid
    etag, path = sdk.download_reply(reply, str(tmp_path))
    ciphertext = Path(path).read_bytes()
    assert etag == "sha256:" + hashlib.sha256(ciphertext).hexdigest()
    assert offline_key.decrypt(ciphertext) == text.encode()

    # Seen: a download is not (issue 13); the client marks what it opened, for its user alone.
    assert all(item.seen_by == [] for item in sdk.get_submissions(source))
    other = sdk_for(live)
    assert other.seen([document.uuid], [message.uuid], [reply.uuid])
    for item in sdk.get_submissions(source):
        assert item.seen_by == [other.token_journalist_uuid]
    assert other.token_journalist_uuid in sdk.get_reply_from_source(source, reply.uuid).seen_by
    assert sdk.logout()


def test_the_sdk_deletes_and_understands_errors(
    live: LiveInstance, sdk: API, offline_key: OfflineKey
) -> None:
    report(live)
    source = next(s for s in sdk.get_sources() if s.number_of_messages == 1)
    message, document = sdk.get_submissions(source)
    assert {message.uuid, document.uuid} <= {s.uuid for s in sdk.get_all_submissions()}
    assert sdk.get_submission_from_string(message.uuid, source.uuid).filename == message.filename
    assert sdk.flag_source(source)
    chosen = str(uuid.uuid4())
    armored = client_encrypt("We read your message.", source.key["public"], offline_key.public_key)
    assert sdk.reply_source(source, armored, reply_uuid=chosen).uuid == chosen
    assert chosen in {reply.uuid for reply in sdk.get_all_replies()}
    with pytest.raises(ReplyError):
        sdk.reply_source(source, "not encrypted at all")
    with pytest.raises(WrongUUIDError):
        sdk.get_source(Source(uuid=str(uuid.uuid4())))

    # (delete_submission_from_string is left out: the SDK sets source_url where it reads
    # source_uuid, so it asks for /sources//submissions/<uuid> on any server.)
    assert sdk.delete_reply(sdk.get_reply_from_source(source, chosen))
    assert sdk.delete_submission(message)
    assert [s.uuid for s in sdk.get_submissions(source)] == [document.uuid]
    assert sdk.delete_conversation(source.uuid)
    assert sdk.get_submissions(source) == []
    assert sdk.delete_source(source)
    with pytest.raises(WrongUUIDError):
        sdk.get_source(source)

    assert sdk.logout()
    with pytest.raises(AuthError):
        sdk.get_sources()
    stranger = API(live.journalist.url + "/", "nobody", "x" * 30, "000000")
    with pytest.raises(AuthError):
        stranger.authenticate()


def test_the_sdk_reads_a_deleted_account_and_cannot_reply_to_it(
    live: LiveInstance, sdk: API, offline_key: OfflineKey, tmp_path: Path
) -> None:
    """Issue 13: the stub is listed without a key, its undownloaded items download once."""
    reporter = report(live)
    page = reporter.http.get(live.source.url + "/delete-account").text
    deleted = reporter.http.post(
        live.source.url + "/delete-account", data={"csrf_token": csrf(page), "confirm": "yes"}
    )
    assert deleted.status_code == 200
    stub = next(s for s in sdk.get_sources() if s.key["public"] is None)
    assert (stub.number_of_messages, stub.number_of_documents) == (1, 1)
    assert stub.key == {"type": "PGP", "public": None, "fingerprint": None}
    message, document = sdk.get_submissions(stub)
    _, path = sdk.download_submission(message, str(tmp_path))
    assert offline_key.decrypt(Path(path).read_bytes()) == MESSAGE.encode()
    assert [s.uuid for s in sdk.get_submissions(stub)] == [document.uuid]
    with pytest.raises(ReplyError):
        sdk.reply_source(stub, client_encrypt("hello?", offline_key.public_key))
    assert sdk.get_source(stub).journalist_designation == stub.journalist_designation


def test_downloads_send_etag_spelled_as_securedrop_does(live: LiveInstance, sdk: API) -> None:
    """On the wire, not after a client library has case-folded it."""
    report(live)
    source = next(s for s in sdk.get_sources() if s.number_of_messages == 1)
    message, _ = sdk.get_submissions(source)
    assert sdk.token is not None
    names = raw_header_names(live.journalist.url + message.download_url, sdk.token)
    assert "Etag" in names
    assert "ETag" not in names
