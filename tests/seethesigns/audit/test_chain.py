"""The audit log's HMAC chain: appending, and finding what was altered, removed or inserted."""

from __future__ import annotations

import hashlib
import itertools
import json
import multiprocessing
import threading

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.audit.chain import (
    GENESIS,
    AuditError,
    Target,
    add_locked,
    append,
    entry_hash,
    lock_chain,
    verify,
)
from seethesigns.db import make_engine, make_session_factory
from seethesigns.models import AuditEntry
from tests.seethesigns.audit.conftest import ALICE, fill, raw


def entries(factory: sessionmaker[Session]) -> list[AuditEntry]:
    """Every entry, in id order."""
    with factory() as db:
        return list(db.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_entries_link_from_genesis_and_verify(factory: sessionmaker[Session], key: bytes) -> None:
    """Each entry names the one before it, and the whole chain checks out."""
    append(factory, key, ALICE, "case.status", Target("source", "u-1"), {"status": "closed"})
    fill(factory, key, 4)
    found = entries(factory)
    assert [entry.id for entry in found] == [1, 2, 3, 4, 5]
    assert found[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.entry_hash for a, b in itertools.pairwise(found))
    assert (found[0].staff_id, found[0].staff_username) == (7, "alice")
    assert (found[0].object_type, found[0].object_id) == ("source", "u-1")
    assert json.loads(found[0].detail) == {"status": "closed"}
    with factory() as db:
        verdict = verify(db, key)
    assert verdict.intact and verdict.checked == 5 and verdict.head_id == 5


def test_an_empty_log_is_intact(factory: sessionmaker[Session], key: bytes) -> None:
    """Nothing written yet is nothing wrong."""
    with factory() as db:
        verdict = verify(db, key)
    assert verdict.intact and verdict.checked == 0


def test_an_unknown_action_is_refused(factory: sessionmaker[Session], key: bytes) -> None:
    """The vocabulary is fixed: a typo in a view fails loudly instead of logging nonsense."""
    with pytest.raises(AuditError):
        append(factory, key, ALICE, "item.downlaod")
    assert entries(factory) == []


@pytest.mark.parametrize(
    ("sql", "bad_id"),
    [
        ("UPDATE audit_entries SET action = 'item.seen' WHERE id = 3", 3),
        ("UPDATE audit_entries SET staff_username = 'bob' WHERE id = 4", 4),
        ("UPDATE audit_entries SET detail = '{\"n\":99}' WHERE id = 2", 2),
        ("UPDATE audit_entries SET occurred_at = '2020-01-01 00:00:00.000000' WHERE id = 5", 5),
        ("DELETE FROM audit_entries WHERE id = 3", 4),
        ("DELETE FROM audit_entries WHERE id = 1", 2),
    ],
    ids=["action", "who", "detail", "when", "removed", "first-removed"],
)
def test_a_changed_or_removed_row_is_found(
    factory: sessionmaker[Session], key: bytes, database: str, sql: str, bad_id: int
) -> None:
    """A row altered or deleted with raw SQL: verify names the first bad entry."""
    fill(factory, key, 6)
    raw(database, sql)
    with factory() as db:
        verdict = verify(db, key)
    assert not verdict.intact
    assert verdict.bad_id == bad_id


def test_reordered_rows_are_found(
    factory: sessionmaker[Session], key: bytes, database: str
) -> None:
    """Swapping two entries' places (their ids) breaks the chain at the first of them."""
    fill(factory, key, 6)
    raw(database, "UPDATE audit_entries SET id = -1 WHERE id = 2")
    raw(database, "UPDATE audit_entries SET id = 2 WHERE id = 4")
    raw(database, "UPDATE audit_entries SET id = 4 WHERE id = -1")
    with factory() as db:
        verdict = verify(db, key)
    assert verdict.bad_id == 2


def _forge(found: AuditEntry, new_id: int, prev_hash: str, digest: str) -> tuple[object, ...]:
    return (
        new_id,
        found.occurred_at.isoformat(sep=" ", timespec="microseconds"),
        found.staff_id,
        found.staff_username,
        found.action,
        found.detail,
        prev_hash,
        digest,
    )


INSERT = (
    "INSERT INTO audit_entries (id, occurred_at, staff_id, staff_username, action, detail, "
    "prev_hash, entry_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def test_an_inserted_row_is_found_even_with_a_recomputed_plain_hash(
    factory: sessionmaker[Session], key: bytes, database: str
) -> None:
    """Someone with database access but not the key appends a plausible row: it fails."""
    fill(factory, key, 3)
    head = entries(factory)[-1]
    plain = hashlib.sha256(b"anything they can compute").hexdigest()
    raw(database, INSERT, *_forge(head, 4, head.entry_hash, plain))
    with factory() as db:
        verdict = verify(db, key)
    assert verdict.bad_id == 4


def test_a_rewritten_chain_under_another_key_is_found(
    factory: sessionmaker[Session], key: bytes, database: str
) -> None:
    """Rewriting every hash needs the key: with any other key the first entry already fails."""
    fill(factory, key, 3)
    other = bytes(32)
    previous = GENESIS
    for entry in entries(factory):
        entry.prev_hash = previous
        previous = entry_hash(other, entry)
        raw(
            database,
            "UPDATE audit_entries SET prev_hash = ?, entry_hash = ? WHERE id = ?",
            entry.prev_hash,
            previous,
            entry.id,
        )
    with factory() as db:
        assert verify(db, other).intact  # the rewrite is consistent in itself
        assert verify(db, key).bad_id == 1


def test_concurrent_threads_never_fork_the_chain(
    factory: sessionmaker[Session], key: bytes
) -> None:
    """Eight threads appending at once on one file: every entry lands, in one line."""
    errors: list[BaseException] = []

    def work() -> None:
        try:
            fill(factory, key, 25)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with factory() as db:
        verdict = verify(db, key)
    assert verdict.intact and verdict.checked == 200


def _append_in_process(url: str, key: bytes, count: int) -> None:
    """A separate process, with its own engine, appending count entries."""
    engine = make_engine(url)
    fill(make_session_factory(engine), key, count)
    engine.dispose()


def test_concurrent_processes_never_fork_the_chain(database: str, key: bytes) -> None:
    """Four processes (as gunicorn's workers are) appending at once on one database."""
    url = database
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_in_process, args=(url, key, 20)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0, 0, 0]
    engine = make_engine(url)
    with make_session_factory(engine)() as db:
        verdict = verify(db, key)
    engine.dispose()
    assert verdict.intact and verdict.checked == 80


def test_an_append_waits_for_the_chain_lock(factory: sessionmaker[Session], key: bytes) -> None:
    """While one writer holds the lock, another's append waits, then follows it in the chain."""
    done = threading.Event()

    def other_writer() -> None:
        fill(factory, key, 1)
        done.set()

    with factory() as db:
        lock_chain(db)
        writer = threading.Thread(target=other_writer)
        writer.start()
        assert not done.wait(0.5), "the append did not wait for the lock"
        add_locked(db, key, ALICE, "logout", None, None)
        db.commit()
    writer.join(timeout=30)
    assert done.is_set()
    assert [entry.action for entry in entries(factory)] == ["logout", "item.download"]
    with factory() as db:
        assert verify(db, key).intact


def test_the_primary_key_refuses_a_second_entry_in_one_place(
    factory: sessionmaker[Session], key: bytes
) -> None:
    """Even without the lock, two entries can never claim the same place in the chain."""
    fill(factory, key, 1)
    with factory() as db, pytest.raises(IntegrityError):
        add_locked(db, key, ALICE, "logout", None, None, after=(0, GENESIS))
        db.commit()
