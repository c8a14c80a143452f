"""Replies from staff: encrypted to the source and the submission key, read by the source."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from seethesigns.codenames import CodenameDeriver, generate_codename
from seethesigns.db import make_engine, make_session_factory
from seethesigns.encryption import DecryptionFailed, GpgService
from seethesigns.models import Reply, Source, Staff
from seethesigns.pgp_packets import dearmor, parse_encrypted_message
from seethesigns.replies import (
    MAX_PREPARED_REPLY_CHARS,
    MAX_REPLY_CHARS,
    NotEncryptedForSource,
    ReplyError,
    ReplyUuidTaken,
    count_deleted_by_source,
    delete_for_source,
    delete_reply,
    read_replies,
    replies_of,
    send_reply,
    store_prepared_reply,
    visible_to_source,
)
from seethesigns.settings import Settings
from seethesigns.sources import LoggedInSource, create_source
from seethesigns.staff_accounts import StaffAccounts
from seethesigns.storage import Store, checksum
from seethesigns.submissions import submit
from tests.conftest import OfflineKey
from tests.journalist_interface.api.conftest import client_encrypt

TEXT = "Thank you for telling us. You are not in trouble. 💚"


@pytest.fixture
def author(db: Session, settings: Settings) -> Staff:
    """A staff member to sign replies."""
    return StaffAccounts(settings.argon2, settings.login).create(db, "alice").staff


@pytest.fixture
def other_source(db: Session, deriver: CodenameDeriver, gpg: GpgService) -> LoggedInSource:
    """A second source, whose replies must stay out of the first one's reach."""
    return create_source(db, deriver, gpg, generate_codename())


def test_send_and_read_a_reply(
    db: Session,
    store: Store,
    gpg: GpgService,
    source: LoggedInSource,
    author: Staff,
    offline_key: OfflineKey,
) -> None:
    reply = send_reply(db, store, gpg, source.source, author, TEXT)
    slug = source.source.designation.replace(" ", "_")
    assert reply.filename == f"1-{slug}-reply.gpg"
    assert reply.staff_id == author.id
    path = store.path(source.source.filesystem_id, reply.filename)
    assert TEXT.encode() not in path.read_bytes()
    assert (reply.size, reply.checksum) == (path.stat().st_size, checksum(path))
    (read,) = read_replies(db, store, gpg, source.source, source.key_secret)
    assert (read.reply.id, read.text) == (reply.id, TEXT)
    # Staff can read what they sent on the offline workstation.
    assert offline_key.decrypt(path.read_bytes()).decode() == TEXT


def test_numbers_are_shared_with_submissions(
    db: Session, store: Store, gpg: GpgService, source: LoggedInSource, author: Staff
) -> None:
    submit(db, store, gpg, source.source, "hello", [])
    assert send_reply(db, store, gpg, source.source, author, "hi").filename.startswith("2-")
    assert submit(db, store, gpg, source.source, "ok", [])[0].filename.startswith("3-")


def test_replies_are_read_oldest_first(
    db: Session, store: Store, gpg: GpgService, source: LoggedInSource, author: Staff
) -> None:
    for text in ("one", "two", "three"):
        send_reply(db, store, gpg, source.source, author, text)
    texts = [r.text for r in read_replies(db, store, gpg, source.source, source.key_secret)]
    assert texts == ["one", "two", "three"]


def test_unsendable_replies(
    db: Session, store: Store, gpg: GpgService, source: LoggedInSource, author: Staff
) -> None:
    for text, message in [
        ("", "empty"),
        (" \n\t", "empty"),
        ("x" * (MAX_REPLY_CHARS + 1), "at most"),
    ]:
        with pytest.raises(ReplyError, match=message):
            send_reply(db, store, gpg, source.source, author, text)
    assert db.scalar(select(func.count()).select_from(Reply)) == 0
    assert not store.source_dir(source.source.filesystem_id).exists()


def test_a_reply_of_the_longest_length_is_sent(
    db: Session, store: Store, gpg: GpgService, source: LoggedInSource, author: Staff
) -> None:
    send_reply(db, store, gpg, source.source, author, "x" * MAX_REPLY_CHARS)
    (read,) = read_replies(db, store, gpg, source.source, source.key_secret)
    assert len(read.text) == MAX_REPLY_CHARS


def test_wrong_key_secret_cannot_read(
    db: Session, store: Store, gpg: GpgService, source: LoggedInSource, author: Staff
) -> None:
    send_reply(db, store, gpg, source.source, author, TEXT)
    with pytest.raises(DecryptionFailed):
        read_replies(db, store, gpg, source.source, source.key_secret[::-1])


def test_no_replies_needs_no_gnupg(
    db: Session, store: Store, gpg: GpgService, source: LoggedInSource
) -> None:
    assert read_replies(db, store, gpg, source.source, "not even the right secret") == []


def test_a_reply_whose_file_was_just_destroyed_is_skipped(
    db: Session, store: Store, gpg: GpgService, source: LoggedInSource, author: Staff
) -> None:
    gone = send_reply(db, store, gpg, source.source, author, "gone")
    send_reply(db, store, gpg, source.source, author, "kept")
    store.destroy(store.path(source.source.filesystem_id, gone.filename))
    texts = [r.text for r in read_replies(db, store, gpg, source.source, source.key_secret)]
    assert texts == ["kept"]


def test_delete_reply(
    db: Session, store: Store, gpg: GpgService, source: LoggedInSource, author: Staff
) -> None:
    first = send_reply(db, store, gpg, source.source, author, "first")
    second = send_reply(db, store, gpg, source.source, author, "second")
    delete_reply(db, store, source.source, first)
    assert not store.path(source.source.filesystem_id, first.filename).exists()
    db.expire_all()
    assert [r.id for r in replies_of(db, source.source)] == [second.id]


def test_a_source_deleting_a_reply_hides_it_and_keeps_the_staff_copy(
    db: Session, store: Store, gpg: GpgService, source: LoggedInSource, author: Staff
) -> None:
    first = send_reply(db, store, gpg, source.source, author, "first")
    second = send_reply(db, store, gpg, source.source, author, "second")
    path = store.path(source.source.filesystem_id, first.filename)
    kept = path.read_bytes()
    assert delete_for_source(db, source.source, [first.uuid]) == 1
    assert delete_for_source(db, source.source, [first.uuid]) == 0  # already hidden
    db.expire_all()
    assert path.read_bytes() == kept
    assert [r.id for r in replies_of(db, source.source)] == [first.id, second.id]
    assert first.deleted_by_source and not second.deleted_by_source
    assert [r.id for r in visible_to_source(db, source.source)] == [second.id]
    texts = [r.text for r in read_replies(db, store, gpg, source.source, source.key_secret)]
    assert texts == ["second"]
    assert count_deleted_by_source(db, source.source) == 1


def test_a_source_deleting_all_replies_touches_only_their_own(
    db: Session,
    store: Store,
    gpg: GpgService,
    source: LoggedInSource,
    author: Staff,
    other_source: LoggedInSource,
) -> None:
    send_reply(db, store, gpg, source.source, author, "one")
    send_reply(db, store, gpg, source.source, author, "two")
    theirs = send_reply(db, store, gpg, other_source.source, author, "theirs")
    # Another source's reply uuid, even named, stays visible to that source.
    assert delete_for_source(db, source.source, [theirs.uuid]) == 0
    assert delete_for_source(db, source.source) == 2
    assert read_replies(db, store, gpg, source.source, source.key_secret) == []
    assert count_deleted_by_source(db, source.source) == 2
    assert count_deleted_by_source(db, other_source.source) == 0
    assert db.scalar(select(func.count()).select_from(Reply)) == 3


def test_a_prepared_reply_is_stored_dearmored_and_the_source_reads_it(
    db: Session,
    store: Store,
    gpg: GpgService,
    source: LoggedInSource,
    author: Staff,
    offline_key: OfflineKey,
) -> None:
    armored = client_encrypt(TEXT, source.source.pgp_public_key, offline_key.public_key)
    reply = store_prepared_reply(db, store, gpg, source.source, author, armored)
    path = store.path(source.source.filesystem_id, reply.filename)
    assert path.read_bytes() == dearmor(armored)
    assert (reply.size, reply.checksum) == (path.stat().st_size, checksum(path))
    assert offline_key.decrypt(path.read_bytes()) == TEXT.encode()
    (read,) = read_replies(db, store, gpg, source.source, source.key_secret)
    assert read.text == TEXT


def test_a_prepared_reply_keeps_a_chosen_uuid_once(
    db: Session,
    store: Store,
    gpg: GpgService,
    source: LoggedInSource,
    author: Staff,
) -> None:
    armored = client_encrypt(TEXT, source.source.pgp_public_key)
    chosen = "0bc588dd-f613-4999-b21e-1cebbd9adc2c"
    reply = store_prepared_reply(db, store, gpg, source.source, author, armored, chosen)
    assert reply.uuid == chosen
    with pytest.raises(ReplyUuidTaken):
        store_prepared_reply(db, store, gpg, source.source, author, armored, chosen)
    assert db.scalar(select(func.count()).select_from(Reply)) == 1


def test_a_prepared_reply_that_is_not_for_the_source_is_refused(
    db: Session,
    store: Store,
    gpg: GpgService,
    source: LoggedInSource,
    author: Staff,
    offline_key: OfflineKey,
) -> None:
    for text in ("plain text", client_encrypt(TEXT, offline_key.public_key)):
        with pytest.raises(NotEncryptedForSource):
            store_prepared_reply(db, store, gpg, source.source, author, text)
    with pytest.raises(ReplyError, match="at most"):
        store_prepared_reply(
            db, store, gpg, source.source, author, "x" * (MAX_PREPARED_REPLY_CHARS + 1)
        )
    assert db.scalar(select(func.count()).select_from(Reply)) == 0
    assert not store.source_dir(source.source.filesystem_id).exists()


def test_encryption_key_ids_are_those_of_the_encryption_subkey(
    gpg: GpgService, source: LoggedInSource
) -> None:
    (key_id,) = gpg.encryption_key_ids(source.source.pgp_public_key)
    # The subkey's id is the tail of its fingerprint, never the signing primary's.
    assert not source.source.pgp_fingerprint.endswith(key_id)
    assert len(key_id) == 16
    armored = client_encrypt(TEXT, source.source.pgp_public_key)
    assert parse_encrypted_message(armored).recipient_key_ids == {key_id}


def test_deleting_a_reply_someone_just_deleted_is_fine(
    db: Session,
    store: Store,
    gpg: GpgService,
    source: LoggedInSource,
    author: Staff,
    settings: Settings,
) -> None:
    reply = send_reply(db, store, gpg, source.source, author, "once")
    engine = make_engine(settings.database_url)
    with make_session_factory(engine)() as other:
        same = other.get(Reply, reply.id)
        same_source = other.get(Source, source.source.id)
        assert same is not None and same_source is not None
        delete_reply(db, store, source.source, reply)
        delete_reply(other, store, same_source, same)
    engine.dispose()
    db.expire_all()
    assert replies_of(db, source.source) == []
