"""Benchmark: the audit log's cost per appended entry, and `verify` over 100,000 entries.

Every staff action appends one entry in its own transaction under the chain lock (BEGIN
IMMEDIATE on SQLite), so the append cost is added to each action's request. `verify` reads the
whole log in batches and recomputes every HMAC. Both on a real, migrated SQLite file.
Usage: python -m bench.audit_log [--entries 100000] [--appends 500]
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from seethesigns.audit.chain import Actor, Target, add_locked, append, head, lock_chain, verify
from seethesigns.audit.log_query import AuditFilter, audit_page
from seethesigns.audit.retention import prune
from seethesigns.db import make_engine, make_session_factory, upgrade_database
from seethesigns.models.base import utcnow

ALICE = Actor(1, "alice")
TARGET = Target("submission", "3f0c6a52-1d2e-4c4b-9d7a-0b7c1e2f3a4b")
DETAIL = {"source": "stylish silkworm", "via": "web"}


def timed_appends(factory: sessionmaker[Session], key: bytes, count: int, threads: int) -> float:
    """Seconds per entry when `threads` writers append `count` entries in all."""
    each = count // threads

    def work() -> None:
        for _ in range(each):
            append(factory, key, ALICE, "item.download", TARGET, DETAIL)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return (time.perf_counter() - started) / (each * threads)


def bulk_fill(factory: sessionmaker[Session], key: bytes, count: int) -> None:
    """count more real, chained entries, many per transaction (setting up, not measured)."""
    with factory() as db:
        lock_chain(db)
        after = head(db)
        for number in range(count):
            entry = add_locked(db, key, ALICE, "item.download", TARGET, DETAIL, after=after)
            after = (entry.id, entry.entry_hash)
            if number % 5000 == 4999:
                db.commit()
                db.expunge_all()
                lock_chain(db)
        db.commit()


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--appends", type=int, default=500)
    arguments = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="stsbench"))
    try:
        url = f"sqlite:///{home / 'seethesigns.db'}"
        upgrade_database(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        key = secrets.token_bytes(32)
        for threads in (1, 8):
            per = timed_appends(factory, key, arguments.appends, threads)
            print(f"append, {threads} writer(s): {per * 1000:.2f} ms per entry")
        with factory() as db:
            written = head(db)[0]
        bulk_fill(factory, key, arguments.entries - written)
        with factory() as db:
            started = time.perf_counter()
            verdict = verify(db, key)
            took = time.perf_counter() - started
        assert verdict.intact, verdict.reason
        print(f"verify {verdict.checked:,} entries: {took:.2f} s")
        with factory() as db:
            started = time.perf_counter()
            audit_page(db, AuditFilter(page=1))
            first = time.perf_counter() - started
            started = time.perf_counter()
            audit_page(db, AuditFilter(action="item.download", page=1000))
            deep = time.perf_counter() - started
        print(f"admin page 1: {first * 1000:.1f} ms; filtered page 1000: {deep * 1000:.1f} ms")
        started = time.perf_counter()
        pruned = prune(factory, key, 1, utcnow() + timedelta(days=2))
        print(f"prune {pruned.removed:,} entries: {time.perf_counter() - started:.2f} s")
        engine.dispose()
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
