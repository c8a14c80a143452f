"""Creating, finding and deleting sources, with real GnuPG and a real database file."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from seethesigns.codename_reading import WordNotOnList, WrongWordCount
from seethesigns.codenames import (
    CODENAME_WORDLIST,
    OLD_WORDLIST,
    CodenameDeriver,
    load_wordlist,
)
from seethesigns.db import make_engine, make_session_factory
from seethesigns.encryption import GpgService
from seethesigns.models import Reply, Source, Submission
from seethesigns.replies import send_reply
from seethesigns.settings import Settings
from seethesigns.sources import (
    LoggedInSource,
    SourceError,
    create_source,
    delete_source,
    find_source,
    reserve_number,
)
from seethesigns.staff_accounts import StaffAccounts
from seethesigns.storage import Store
from seethesigns.submissions import submit
from tests.databases import stored_bytes


def count(db: Session, table: type) -> int:
    return db.scalar(select(func.count()).select_from(table)) or 0


def test_create_source(
    source: LoggedInSource, codename: str, deriver: CodenameDeriver, db: Session
) -> None:
    derived = deriver.derive(codename)
    stored = db.scalar(select(Source))
    assert stored.id == source.source.id
    assert stored.filesystem_id == derived.filesystem_id
    assert source.key_secret == derived.key_secret
    adjective, noun = stored.designation.split(" ")
    assert adjective in load_wordlist("adjectives.txt")
    assert noun in load_wordlist("nouns.txt")
    assert "PUBLIC KEY BLOCK" in stored.pgp_public_key
    assert "PRIVATE KEY BLOCK" in stored.pgp_secret_key
    assert stored.interaction_count == 0


def test_neither_codename_nor_key_secret_is_stored(
    source: LoggedInSource, codename: str, settings: Settings
) -> None:
    stored = stored_bytes(settings.database_url)
    assert source.source.filesystem_id.encode() in stored  # the check can see rows
    assert codename.encode() not in stored
    assert source.key_secret.encode() not in stored


def test_the_same_codename_cannot_be_taken_twice(
    source: LoggedInSource, codename: str, db: Session, deriver: CodenameDeriver, gpg: GpgService
) -> None:
    with pytest.raises(SourceError, match="already in use"):
        create_source(db, deriver, gpg, codename.upper())
    assert count(db, Source) == 1


def test_create_refuses_what_cannot_be_a_codename(
    db: Session, deriver: CodenameDeriver, gpg: GpgService
) -> None:
    for typed in ("", "   ", "a" * 200):
        with pytest.raises(SourceError, match="not a codename"):
            create_source(db, deriver, gpg, typed)
    assert count(db, Source) == 0


def test_two_sources_get_different_designations_and_keys(
    source: LoggedInSource, db: Session, deriver: CodenameDeriver, gpg: GpgService
) -> None:
    other = create_source(db, deriver, gpg, "another codename of seven words here ok")
    assert other.source.designation != source.source.designation
    assert other.source.pgp_fingerprint != source.source.pgp_fingerprint
    assert other.key_secret != source.key_secret


def test_find_source_by_codename_as_typed(
    source: LoggedInSource, codename: str, db: Session, deriver: CodenameDeriver
) -> None:
    typed = "  " + codename.upper().replace(" ", "   ") + "\n"
    found = find_source(db, deriver, typed)
    assert found is not None
    assert found.source.id == source.source.id
    assert found.key_secret == source.key_secret


def test_find_source_with_a_wrong_codename(
    source: LoggedInSource, db: Session, deriver: CodenameDeriver
) -> None:
    for typed in ("", "   ", "a" * 200, "zebra tiger lemon river candy violin wagon"):
        assert find_source(db, deriver, typed) is None, typed
    with pytest.raises(WrongWordCount):
        find_source(db, deriver, "wrong words entirely")
    with pytest.raises(WordNotOnList) as raised:
        find_source(db, deriver, "zebra tiger qqqq river candy violin wagon")
    assert raised.value.position == 3


def test_find_source_forgives_a_typo_or_the_start_of_a_word(
    db: Session, deriver: CodenameDeriver, gpg: GpgService
) -> None:
    """Issue 12: corrected before argon2, so the same id and key secret come out."""
    created = create_source(db, deriver, gpg, "zebra tiger lemon river candy violin wagon")
    found = find_source(db, deriver, " Zbera TIGE lemon  rivr candy violinn wago")
    assert found is not None
    assert found.source.id == created.source.id
    assert found.key_secret == created.key_secret


def test_a_codename_from_the_old_list_still_logs_in(
    db: Session, deriver: CodenameDeriver, gpg: GpgService
) -> None:
    """Issue 12: codenames issued from the EFF large list were never stored, only derived."""
    old = "aground oink sliced underfeed craftsman zebra surging"
    assert not set(old.split()) <= set(load_wordlist(CODENAME_WORDLIST))
    created = create_source(db, deriver, gpg, old)
    found = find_source(db, deriver, "  Aground OINK sliced underfeed craftsman zebra surging")
    assert found is not None
    assert found.source.id == created.source.id
    assert found.key_secret == created.key_secret


def test_an_old_codename_that_reads_as_a_new_one_too_logs_in(
    db: Session, deriver: CodenameDeriver, gpg: GpgService
) -> None:
    """Every word is an old word, and one edit from a new one: both readings are tried."""
    new_words = set(load_wordlist(CODENAME_WORDLIST))
    old = "cable " + " ".join([w for w in load_wordlist(OLD_WORDLIST) if w in new_words][:6])
    created = create_source(db, deriver, gpg, old)
    found = find_source(db, deriver, old)
    assert found is not None and found.source.id == created.source.id
    assert found.key_secret == created.key_secret


def test_find_source_with_one_word_changed(
    source: LoggedInSource, codename: str, db: Session, deriver: CodenameDeriver
) -> None:
    words = codename.split(" ")
    words[-1] = "zebra" if words[-1] != "zebra" else "zoom"
    assert find_source(db, deriver, " ".join(words)) is None


def test_find_source_with_other_peppers(
    source: LoggedInSource, codename: str, db: Session, settings: Settings
) -> None:
    swapped = CodenameDeriver(
        settings.pepper_key_secret, settings.pepper_filesystem_id, settings.argon2
    )
    assert find_source(db, swapped, codename) is None


def test_reserve_number_counts_up(source: LoggedInSource, db: Session) -> None:
    assert [reserve_number(db, source.source) for _ in range(3)] == [1, 2, 3]
    db.expire_all()
    assert db.get(Source, source.source.id).interaction_count == 3


def test_delete_source_removes_files_and_rows(
    source: LoggedInSource, db: Session, store: Store, gpg: GpgService, settings: Settings
) -> None:
    submit(db, store, gpg, source.source, "a message", [])
    author = StaffAccounts(settings.argon2, settings.login).create(db, "alice").staff
    send_reply(db, store, gpg, source.source, author, "a reply")
    folder = store.source_dir(source.source.filesystem_id)
    assert len(list(folder.iterdir())) == 2
    delete_source(db, store, source.source)
    assert not folder.exists()
    assert (count(db, Source), count(db, Submission), count(db, Reply)) == (0, 0, 0)


def test_deleting_a_source_someone_just_deleted_is_fine(
    source: LoggedInSource, db: Session, store: Store, gpg: GpgService, settings: Settings
) -> None:
    submit(db, store, gpg, source.source, "a message", [])
    engine = make_engine(settings.database_url)
    with make_session_factory(engine)() as other:
        same = other.get(Source, source.source.id)
        assert same is not None
        delete_source(db, store, source.source)
        delete_source(other, store, same)
    engine.dispose()
    assert (count(db, Source), count(db, Submission)) == (0, 0)
