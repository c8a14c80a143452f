"""Recipients (issue 14): several submission keys, rotation, and who each item is for."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from seethesigns.encryption import GpgService, KeyFileRejected, SubmissionKeyUnavailable
from seethesigns.models import Recipient, Reply, Staff, Submission
from seethesigns.pgp_packets import leading_recipient_key_ids
from seethesigns.recipients import (
    CONFIGURED_NAME,
    RecipientError,
    active_fingerprints,
    add_recipient,
    all_recipients,
    encrypted_to,
    ensure_configured,
    key_names,
    retire_recipient,
)
from seethesigns.replies import read_replies, send_reply
from seethesigns.settings import Settings
from seethesigns.sources import LoggedInSource
from seethesigns.staff_accounts import StaffAccounts
from seethesigns.storage import Store
from seethesigns.submissions import Document, submit
from tests.conftest import OfflineKey, SpareKeys
from tests.seethesigns.conftest import BadKeys, gpg_cli


@pytest.fixture
def author(db: Session, settings: Settings) -> Staff:
    """A staff member to sign replies."""
    return StaffAccounts(settings.argon2, settings.login).create(db, "alice").staff


def stored(store: Store, source: LoggedInSource, row: Submission | Reply) -> bytes:
    """The bytes on disk of a stored item."""
    return store.path(source.source.filesystem_id, row.filename).read_bytes()


def openers(data: bytes, keys: dict[str, OfflineKey]) -> set[str]:
    """The names of the keys, each alone in its own GnuPG home, that decrypt data."""
    return {name for name, key in keys.items() if key.opens(data)}


def test_rotation_each_item_opens_with_exactly_its_keys(
    db: Session,
    store: Store,
    gpg: GpgService,
    source: LoggedInSource,
    author: Staff,
    offline_key: OfflineKey,
    spare_keys: SpareKeys,
) -> None:
    keys = {"old": offline_key, "new": spare_keys.second, "unused": spare_keys.on_call}
    # 1. Submit, on an instance that only has its configured key.
    (before,) = submit(db, store, gpg, source.source, "first", [])
    reply_before = send_reply(db, store, gpg, source.source, author, "reply one")
    # 2. Add a new recipient.
    add_recipient(db, gpg, "New workstation", spare_keys.second.public_key)
    # 3. Submit again: a message and a streamed document.
    both = submit(
        db,
        store,
        gpg,
        source.source,
        "second",
        [Document(io.BytesIO(b"a document" * 1000), "notes.txt")],
    )
    reply_both = send_reply(db, store, gpg, source.source, author, "reply two")
    # 4. Retire the old recipient.
    retire_recipient(db, gpg, offline_key.fingerprint)
    # 5. Submit again.
    (after,) = submit(db, store, gpg, source.source, "third", [])
    reply_after = send_reply(db, store, gpg, source.source, author, "reply three")

    assert openers(stored(store, source, before), keys) == {"old"}
    assert openers(stored(store, source, reply_before), keys) == {"old"}
    for row in both:
        assert openers(stored(store, source, row), keys) == {"old", "new"}
    assert openers(stored(store, source, reply_both), keys) == {"old", "new"}
    assert openers(stored(store, source, after), keys) == {"new"}
    assert openers(stored(store, source, reply_after), keys) == {"new"}
    assert spare_keys.second.decrypt(stored(store, source, after)) == b"third"
    # The source reads every reply with their own key, whoever else it is for.
    texts = [r.text for r in read_replies(db, store, gpg, source.source, source.key_secret)]
    assert texts == ["reply one", "reply two", "reply three"]


def test_one_message_names_every_active_key_once(
    db: Session,
    store: Store,
    gpg: GpgService,
    source: LoggedInSource,
    offline_key: OfflineKey,
    spare_keys: SpareKeys,
) -> None:
    add_recipient(db, gpg, "Second", spare_keys.second.public_key)
    add_recipient(db, gpg, "On call", spare_keys.on_call.public_key)
    (row,) = submit(db, store, gpg, source.source, "for three", [])
    path = store.path(source.source.filesystem_id, row.filename)
    ids = leading_recipient_key_ids(path.read_bytes()[:4096])
    names = key_names(db)
    assert len(ids) == 3
    assert {names[key_id] for key_id in ids} == {CONFIGURED_NAME, "Second", "On call"}
    assert encrypted_to(path, names) == sorted([CONFIGURED_NAME, "On call", "Second"])


def test_unknown_keys_are_shown_by_key_id(
    db: Session, store: Store, gpg: GpgService, source: LoggedInSource
) -> None:
    (row,) = submit(db, store, gpg, source.source, "hello", [])
    path = store.path(source.source.filesystem_id, row.filename)
    (key_id,) = leading_recipient_key_ids(path.read_bytes())
    assert len(key_id) == 16
    assert encrypted_to(path, {}) == [key_id]
    assert encrypted_to(path.with_name("gone"), {}) == []


def test_the_configured_key_is_written_down_once(
    db: Session, gpg: GpgService, settings: Settings
) -> None:
    # An instance from before recipients: no rows, and it encrypts to the configured key.
    assert all_recipients(db) == []
    assert active_fingerprints(db, gpg, None) == [settings.submission_key_fingerprint]
    ensure_configured(db, gpg)
    ensure_configured(db, gpg)
    (row,) = all_recipients(db)
    assert (row.name, row.fingerprint) == (CONFIGURED_NAME, settings.submission_key_fingerprint)
    assert "PUBLIC KEY BLOCK" in row.public_key
    assert len(row.key_ids.split()) == 1


def test_a_configured_key_missing_from_the_keyring_is_not_written_down(
    db: Session, gpg: GpgService, settings: Settings
) -> None:
    gpg_cli(settings.gnupg_homedir, "--delete-keys", settings.submission_key_fingerprint)
    ensure_configured(db, gpg)
    assert all_recipients(db) == []
    with pytest.raises(SubmissionKeyUnavailable, match="not in the server keyring"):
        gpg.check_submission_key(active_fingerprints(db, gpg, None))


def test_adding_keeps_the_configured_key(
    db: Session, gpg: GpgService, settings: Settings, spare_keys: SpareKeys
) -> None:
    added = add_recipient(db, gpg, "  Backup workstation ", spare_keys.second.public_key)
    assert added.name == "Backup workstation"
    assert active_fingerprints(db, gpg, None) == [
        settings.submission_key_fingerprint,
        spare_keys.second.fingerprint,
    ]
    gpg.check_submission_key(active_fingerprints(db, gpg, None))


def test_the_same_key_twice_is_refused(
    db: Session, gpg: GpgService, spare_keys: SpareKeys, offline_key: OfflineKey
) -> None:
    add_recipient(db, gpg, "Second", spare_keys.second.public_key)
    with pytest.raises(RecipientError, match=r"already a recipient \(active\)"):
        add_recipient(db, gpg, "Again", spare_keys.second.public_key)
    retire_recipient(db, gpg, offline_key.fingerprint)
    with pytest.raises(RecipientError, match=r"already a recipient \(retired\)"):
        add_recipient(db, gpg, "Back", offline_key.public_key)


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_a_recipient_needs_a_name(
    db: Session, gpg: GpgService, spare_keys: SpareKeys, name: str
) -> None:
    with pytest.raises(RecipientError, match="name"):
        add_recipient(db, gpg, name, spare_keys.second.public_key)
    assert db.scalar(select(Recipient).where(Recipient.name == "")) is None


@pytest.mark.parametrize(
    ("which", "reason"),
    [("expired", "expired"), ("revoked", "revoked"), ("sign_only", "cannot encrypt")],
)
def test_unusable_keys_are_refused_as_init_refuses_them(
    db: Session, gpg: GpgService, bad_keys: BadKeys, which: str, reason: str
) -> None:
    with pytest.raises(KeyFileRejected, match=reason):
        add_recipient(db, gpg, "Bad", getattr(bad_keys, which))
    assert [row.name for row in all_recipients(db)] == [CONFIGURED_NAME]


def test_retiring_the_last_active_recipient_is_refused(
    db: Session, gpg: GpgService, offline_key: OfflineKey, spare_keys: SpareKeys
) -> None:
    with pytest.raises(RecipientError, match="last active key"):
        retire_recipient(db, gpg, offline_key.fingerprint)
    add_recipient(db, gpg, "Second", spare_keys.second.public_key)
    # A fingerprint as people copy it: in groups, in lower case.
    spaced = " ".join(offline_key.fingerprint.lower()[i : i + 4] for i in range(0, 40, 4))
    assert retire_recipient(db, gpg, spaced).retired_at is not None
    with pytest.raises(RecipientError, match="already retired"):
        retire_recipient(db, gpg, offline_key.fingerprint)
    with pytest.raises(RecipientError, match="last active key"):
        retire_recipient(db, gpg, spare_keys.second.fingerprint)
    with pytest.raises(RecipientError, match="no recipient"):
        retire_recipient(db, gpg, "0" * 40)
    assert active_fingerprints(db, gpg, None) == [spare_keys.second.fingerprint]


def test_reading_the_recipients_reads_only_the_head(tmp_path: Path) -> None:
    # A session-key packet (tag 1, version 3, key id) then encrypted data that is junk.
    pkesk = bytes([0xC1, 10, 3]) + bytes.fromhex("0123456789ABCDEF") + b"\x12"
    data = pkesk + bytes([0xD2, 0xFF]) + b"\x00" * 10
    assert leading_recipient_key_ids(data) == {"0123456789ABCDEF"}
    assert leading_recipient_key_ids(pkesk[:5]) == frozenset()  # cut off mid-packet
    assert leading_recipient_key_ids(b"plain text") == frozenset()
    path = tmp_path / "item.gpg"
    path.write_bytes(data + b"\xff" * 1_000_000)
    assert encrypted_to(path, {"0123456789ABCDEF": "Workstation"}) == ["Workstation"]
