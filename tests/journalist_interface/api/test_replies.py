"""Replies over the API: posting one the client encrypted, and list, get, download, delete."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import uuid

import gnupg
import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from journalist_interface.api.representations import DELETED_UUID
from seethesigns.models import Reply, Source, Staff
from seethesigns.replies import delete_for_source
from seethesigns.settings import Settings
from seethesigns.staff_accounts import NewStaff
from tests.conftest import OfflineKey, csrf_token, short_tmpdir
from tests.journalist_interface.api.conftest import ApiClient, client_encrypt
from tests.journalist_interface.conftest import Reported, add_staff, page_of

REPLY_FIELDS = {
    "filename",
    "is_deleted_by_source",
    "journalist_first_name",
    "journalist_last_name",
    "journalist_username",
    "journalist_uuid",
    "reply_url",
    "seen_by",
    "size",
    "source_url",
    "uuid",
}
REFUSED = {"error": "Bad Request", "message": "You must encrypt replies client side"}


def source_key(api: ApiClient, reported: Reported) -> str:
    """The source's public key, as a client reads it from the source's JSON."""
    key: str = api.get(f"/sources/{reported.uuid}").get_json()["key"]["public"]
    return key


def post_reply(api: ApiClient, reported: Reported, text: str, offline_key: OfflineKey) -> str:
    """Encrypt text to the source and the submission key as the client does; post it."""
    armored = client_encrypt(text, source_key(api, reported), offline_key.public_key)
    response = api.post(f"/sources/{reported.uuid}/replies", json={"reply": armored})
    assert response.status_code == 201, response.get_json()
    reply_uuid: str = response.get_json()["uuid"]
    return reply_uuid


def nothing_stored(settings: Settings, reported: Reported, open_db: sessionmaker[Session]) -> bool:
    """No reply row, no reply file, and no item number taken."""
    with open_db() as db:
        rows = db.scalars(select(Reply)).all()
        count = db.scalars(select(Source.interaction_count)).one()
    files = list((settings.store_dir / reported.filesystem_id).glob("*-reply.gpg"))
    return rows == [] and files == [] and count == 2


def test_a_client_encrypted_reply_is_stored_and_the_source_reads_it(
    api: ApiClient,
    alice: NewStaff,
    reported: Reported,
    source_client: FlaskClient,
    offline_key: OfflineKey,
    settings: Settings,
    open_db: sessionmaker[Session],
) -> None:
    armored = client_encrypt(
        "We read your message. You are not in trouble.",
        source_key(api, reported),
        offline_key.public_key,
    )
    response = api.post(f"/sources/{reported.uuid}/replies", json={"reply": armored})
    assert response.status_code == 201
    body = response.get_json()
    slug = reported.designation.replace(" ", "_")
    assert body["message"] == "Your reply has been stored"
    assert body["filename"] == f"3-{slug}-reply.gpg"
    with open_db() as db:
        row = db.scalars(select(Reply)).one()
    assert body["uuid"] == row.uuid
    assert row.staff_id == alice.staff.id
    on_disk = (settings.store_dir / reported.filesystem_id / row.filename).read_bytes()
    assert row.checksum == "sha256:" + hashlib.sha256(on_disk).hexdigest()
    assert not on_disk.startswith(b"-----BEGIN")  # stored dearmored
    assert offline_key.decrypt(on_disk) == b"We read your message. You are not in trouble."
    page = source_client.get("/lookup").get_data(as_text=True)
    assert "We read your message. You are not in trouble." in page
    assert "couldn&#39;t open your replies" not in page
    # The author has seen their own reply.
    listed = api.get(f"/sources/{reported.uuid}/replies").get_json()["replies"]
    assert [r["seen_by"] for r in listed] == [[alice.staff.uuid]]


def test_a_reply_can_carry_the_client_s_uuid_once(
    api: ApiClient, reported: Reported, offline_key: OfflineKey
) -> None:
    chosen = str(uuid.uuid4())
    armored = client_encrypt("first", source_key(api, reported), offline_key.public_key)
    response = api.post(
        f"/sources/{reported.uuid}/replies", json={"reply": armored, "uuid": chosen}
    )
    assert response.status_code == 201
    assert response.get_json()["uuid"] == chosen
    again = api.post(f"/sources/{reported.uuid}/replies", json={"reply": armored, "uuid": chosen})
    assert again.status_code == 409
    assert again.get_json() == {"error": "Conflict", "message": "That UUID is already in use."}


def test_a_reply_uuid_that_is_not_a_uuid_is_a_400(
    api: ApiClient, reported: Reported, offline_key: OfflineKey
) -> None:
    armored = client_encrypt("hello", source_key(api, reported), offline_key.public_key)
    response = api.post(
        f"/sources/{reported.uuid}/replies", json={"reply": armored, "uuid": "not-a-uuid"}
    )
    assert response.status_code == 400
    assert response.get_json()["message"] == "'uuid' was not a valid UUID"


def gpg_output(*args: str, text: str = "plain words") -> str:
    """What gpg makes of text with these arguments in an empty keyring (armored)."""
    home = short_tmpdir("stsg")
    try:
        command = ["gpg", "--homedir", str(home), "--batch", "--armor", *args]
        done = subprocess.run(command, input=text.encode(), capture_output=True, check=True)
        return done.stdout.decode()
    finally:
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)
        shutil.rmtree(home, ignore_errors=True)


@pytest.mark.parametrize(
    "kind",
    ["plaintext", "stored literal", "symmetric", "first line only", "bad checksum"],
)
def test_anything_but_public_key_ciphertext_is_refused_and_nothing_kept(
    api: ApiClient,
    reported: Reported,
    offline_key: OfflineKey,
    settings: Settings,
    open_db: sessionmaker[Session],
    kind: str,
) -> None:
    good = client_encrypt("secret", source_key(api, reported), offline_key.public_key)
    lines = good.strip().splitlines()
    reply = {
        "plaintext": "Please call me on this number.",
        "stored literal": gpg_output("--store"),
        "symmetric": gpg_output("--symmetric", "--passphrase", "x", "--pinentry-mode", "loopback"),
        # SecureDrop only checks the first line; this is plaintext under an armor header.
        "first line only": "-----BEGIN PGP MESSAGE-----\nPlease call me on this number.",
        "bad checksum": "\n".join([*lines[:-2], "=AAAA", lines[-1]]),
    }[kind]
    response = api.post(f"/sources/{reported.uuid}/replies", json={"reply": reply})
    assert response.status_code == 400
    assert response.get_json() == REFUSED
    assert nothing_stored(settings, reported, open_db)


def test_a_reply_the_source_could_not_open_is_refused(
    api: ApiClient,
    reported: Reported,
    offline_key: OfflineKey,
    settings: Settings,
    open_db: sessionmaker[Session],
) -> None:
    # Encrypted, but only to the submission key: one such reply would hide all replies
    # from the source, whose page cannot decrypt it.
    armored = client_encrypt("secret", offline_key.public_key)
    response = api.post(f"/sources/{reported.uuid}/replies", json={"reply": armored})
    assert response.status_code == 400
    assert response.get_json() == REFUSED
    assert nothing_stored(settings, reported, open_db)


def test_a_reply_only_to_the_source_s_key_is_accepted(
    api: ApiClient, reported: Reported, source_client: FlaskClient
) -> None:
    armored = client_encrypt("only for you", source_key(api, reported))
    response = api.post(f"/sources/{reported.uuid}/replies", json={"reply": armored})
    assert response.status_code == 201
    assert "only for you" in source_client.get("/lookup").get_data(as_text=True)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "reply not found in request body"),
        ({"reply": ""}, "reply should not be empty"),
        ({"reply": 5}, "reply should not be empty"),
        ([], "please send requests in valid JSON"),
    ],
)
def test_a_malformed_reply_request_is_a_400(
    api: ApiClient, reported: Reported, body: object, message: str
) -> None:
    response = api.post(f"/sources/{reported.uuid}/replies", json=body)
    assert response.status_code == 400
    assert response.get_json() == {"error": "Bad Request", "message": message}


def test_a_reply_to_an_unknown_source_is_a_404(api: ApiClient) -> None:
    response = api.post(f"/sources/{uuid.uuid4()}/replies", json={"reply": "x"})
    assert response.status_code == 404


def test_replies_list_get_download_and_delete(
    api: ApiClient,
    alice: NewStaff,
    reported: Reported,
    offline_key: OfflineKey,
    settings: Settings,
) -> None:
    reply_uuid = post_reply(api, reported, "Thank you for telling us.", offline_key)
    source_url = f"/api/v1/sources/{reported.uuid}"
    (listed,) = api.get(f"/sources/{reported.uuid}/replies").get_json()["replies"]
    assert listed == {
        "filename": f"3-{reported.designation.replace(' ', '_')}-reply.gpg",
        "is_deleted_by_source": False,
        "journalist_first_name": "",
        "journalist_last_name": "",
        "journalist_username": "alice",
        "journalist_uuid": alice.staff.uuid,
        "reply_url": f"{source_url}/replies/{reply_uuid}",
        "seen_by": [alice.staff.uuid],
        "size": listed["size"],
        "source_url": source_url,
        "uuid": reply_uuid,
    }
    assert api.get("/replies").get_json() == {"replies": [listed]}
    one = api.get(f"/sources/{reported.uuid}/replies/{reply_uuid}")
    assert one.status_code == 200
    assert one.get_json() == listed
    with api.get(f"/sources/{reported.uuid}/replies/{reply_uuid}/download") as response:
        assert response.status_code == 200
        assert response.mimetype == "application/pgp-encrypted"
        body = response.get_data()
        assert response.headers["ETag"] == "sha256:" + hashlib.sha256(body).hexdigest()
    assert len(body) == listed["size"]
    assert offline_key.decrypt(body) == b"Thank you for telling us."
    path = settings.store_dir / reported.filesystem_id / listed["filename"]
    response = api.delete(f"/sources/{reported.uuid}/replies/{reply_uuid}")
    assert response.status_code == 200
    assert response.get_json() == {"message": "Reply deleted"}
    assert not path.exists()
    assert api.get(f"/sources/{reported.uuid}/replies/{reply_uuid}").status_code == 404
    assert api.get("/replies").get_json() == {"replies": []}


def test_a_reply_sent_on_the_web_is_listed_with_its_author(
    logged_in: FlaskClient, api: ApiClient, alice: NewStaff, reported: Reported
) -> None:
    page = page_of(logged_in, f"/sources/{reported.uuid}")
    logged_in.post(
        f"/sources/{reported.uuid}/reply",
        data={"csrf_token": csrf_token(page), "message": "From the web."},
    )
    (listed,) = api.get("/replies").get_json()["replies"]
    assert listed["journalist_uuid"] == alice.staff.uuid
    assert set(listed) == REPLY_FIELDS


def test_a_deleted_author_s_replies_show_the_deleted_placeholder(
    api: ApiClient,
    reported: Reported,
    offline_key: OfflineKey,
    open_db: sessionmaker[Session],
    settings: Settings,
) -> None:
    reply_uuid = post_reply(api, reported, "hello", offline_key)
    bob = add_staff(open_db, settings, "bob")
    with open_db() as db:  # as deleting bob's account leaves his replies
        db.execute(update(Reply).values(staff_id=None))
        db.commit()
    (listed,) = api.get("/replies").get_json()["replies"]
    assert listed["uuid"] == reply_uuid
    assert listed["journalist_username"] == "deleted"
    assert listed["journalist_uuid"] == DELETED_UUID
    assert (listed["journalist_first_name"], listed["journalist_last_name"]) == ("", "")
    users = api.get("/users").get_json()["users"]
    assert {u["username"] for u in users} == {"alice", "bob", "deleted"}
    assert {u["uuid"] for u in users} >= {DELETED_UUID, bob.staff.uuid}
    with open_db() as db:
        assert db.scalar(select(Staff).where(Staff.uuid == DELETED_UUID)) is None


def test_a_reply_is_checked_against_the_key_of_the_source_in_the_url(
    api: ApiClient, reported: Reported, offline_key: OfflineKey
) -> None:
    # A stranger's key: encrypted properly, but not to this source.
    home = short_tmpdir("stsx")
    try:
        gpg = gnupg.GPG(gnupghome=str(home))
        made = gpg.gen_key(
            gpg.gen_key_input(
                key_type="EDDSA",
                key_curve="ed25519",
                subkey_type="ECDH",
                subkey_curve="cv25519",
                name_real="Stranger",
                no_protection=True,
            )
        )
        stranger = str(gpg.export_keys(made.fingerprint))
    finally:
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)
        shutil.rmtree(home, ignore_errors=True)
    armored = client_encrypt("misdirected", stranger, offline_key.public_key)
    response = api.post(f"/sources/{reported.uuid}/replies", json={"reply": armored})
    assert response.status_code == 400
    assert response.get_json() == REFUSED


def test_a_reply_the_source_deleted_is_still_listed_and_downloadable(
    api: ApiClient,
    reported: Reported,
    offline_key: OfflineKey,
    open_db: sessionmaker[Session],
) -> None:
    reply_uuid = post_reply(api, reported, "Kept for staff.", offline_key)
    with open_db() as db:
        source = db.scalars(select(Source)).one()
        assert delete_for_source(db, source) == 1  # as the source's "Delete all replies"
    (listed,) = api.get("/replies").get_json()["replies"]
    assert (listed["uuid"], listed["is_deleted_by_source"]) == (reply_uuid, True)
    one = api.get(f"/sources/{reported.uuid}/replies/{reply_uuid}").get_json()
    assert one["is_deleted_by_source"] is True
    with api.get(f"/sources/{reported.uuid}/replies/{reply_uuid}/download") as response:
        assert response.status_code == 200
        assert offline_key.decrypt(response.get_data()) == b"Kept for staff."
