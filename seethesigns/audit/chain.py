"""Appending to the audit log's HMAC chain, and checking the chain.

Each entry stores the previous entry's hash and its own: HMAC-SHA256, keyed with [audit] key
from the configuration file, over a canonical serialisation of every column. A plain hash
chain can be recomputed by whoever can write the database; the key, kept outside it, means an
altered, inserted, removed or reordered entry is found by `seethesigns audit verify`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.audit.actions import ACTIONS, AUDIT_PRUNED
from seethesigns.models import AuditEntry
from seethesigns.models.base import utcnow

GENESIS = "0" * 64
# Serialisation version, hashed with every entry: a future change of format stays checkable.
FORMAT = "sts-audit-1"
# Any number fixed for this use; PostgreSQL advisory locks are keyed by one bigint.
PG_LOCK_KEY = 0x535453_41554454
BATCH = 2000
RETRIES = 5


class AuditError(Exception):
    """An entry could not be appended (unknown action, or the chain stayed busy)."""


@dataclass(frozen=True)
class Actor:
    """Who acted: the staff account's id and username at the time."""

    staff_id: int | None
    username: str


@dataclass(frozen=True)
class Target:
    """What was acted on: a kind and a random identifier staff already see. Never content."""

    kind: str
    ident: str | None = None


def canonical_detail(detail: dict[str, Any] | None) -> str:
    """Detail as the compact, sorted JSON text that is stored and hashed."""
    return json.dumps(detail or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


class EntryFields(Protocol):
    """An entry's columns, as a model instance or a plain row of them."""

    @property
    def id(self) -> int: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def staff_id(self) -> int | None: ...
    @property
    def staff_username(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def object_type(self) -> str | None: ...
    @property
    def object_id(self) -> str | None: ...
    @property
    def detail(self) -> str: ...
    @property
    def prev_hash(self) -> str: ...
    @property
    def entry_hash(self) -> str: ...


def entry_hash(key: bytes, entry: EntryFields) -> str:
    """The HMAC of an entry over its canonical serialisation (every column but its hash)."""
    fields = [
        FORMAT,
        entry.id,
        entry.occurred_at.isoformat(timespec="microseconds"),
        entry.staff_id,
        entry.staff_username,
        entry.action,
        entry.object_type,
        entry.object_id,
        entry.detail,
        entry.prev_hash,
    ]
    message = json.dumps(fields, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def lock_chain(db: Session) -> None:
    """Take the chain's write lock for this transaction, so two appends cannot fork it.

    SQLite: BEGIN IMMEDIATE takes the database's write lock before the head is read (a
    deferred transaction would read, then race for the lock). PostgreSQL: a transaction-level
    advisory lock. The primary key (previous id + 1) refuses a fork on any database anyway.
    """
    connection = db.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})


def head(db: Session) -> tuple[int, str]:
    """The id and hash of the newest entry, or (0, GENESIS) for an empty log."""
    found = db.execute(
        select(AuditEntry.id, AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    return (found[0], found[1]) if found else (0, GENESIS)


def add_locked(
    db: Session,
    key: bytes,
    actor: Actor,
    action: str,
    target: Target | None,
    detail: dict[str, Any] | None,
    *,
    after: tuple[int, str] | None = None,
) -> AuditEntry:
    """Add the next entry inside a transaction that holds the chain lock (not committed)."""
    if action not in ACTIONS:
        raise AuditError(f"unknown audit action {action!r}")
    last_id, last_hash = after or head(db)
    entry = AuditEntry(
        id=last_id + 1,
        occurred_at=utcnow(),
        staff_id=actor.staff_id,
        staff_username=actor.username,
        action=action,
        object_type=target.kind if target else None,
        object_id=target.ident if target else None,
        detail=canonical_detail(detail),
        prev_hash=last_hash,
    )
    entry.entry_hash = entry_hash(key, entry)
    db.add(entry)
    return entry


def append(
    factory: sessionmaker[Session],
    key: bytes,
    actor: Actor,
    action: str,
    target: Target | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry in its own transaction, after the action it records was committed."""
    for _ in range(RETRIES):
        with factory() as db:
            try:
                lock_chain(db)
                entry = add_locked(db, key, actor, action, target, detail)
                db.commit()
                return entry
            except IntegrityError:  # another writer took this id: read the head again
                db.rollback()
    raise AuditError("the audit log stayed busy; the entry was not written")


@dataclass
class Verdict:
    """What `verify` found: how many entries were checked, and the first bad one, if any."""

    checked: int = 0
    first_id: int | None = None
    head_id: int | None = None
    head_hash: str = GENESIS
    bad_id: int | None = None
    reason: str = ""
    anchors: set[tuple[int, str]] = field(default_factory=set)

    @property
    def intact(self) -> bool:
        """True when every entry checked out."""
        return self.bad_id is None

    def fail(self, entry_id: int, reason: str) -> Verdict:
        """Record the first bad entry."""
        self.bad_id, self.reason = entry_id, reason
        return self


def _entries(db: Session) -> Iterator[EntryFields]:
    """Every entry in id order as plain rows, a batch at a time (constant memory)."""
    columns = list(AuditEntry.__table__.columns)
    after = -1
    while True:
        batch = db.execute(
            select(*columns).where(AuditEntry.id > after).order_by(AuditEntry.id).limit(BATCH)
        ).all()
        yield from batch
        if len(batch) < BATCH:
            return
        after = batch[-1].id


def _anchor(entry: EntryFields) -> tuple[int, str] | None:
    """The boundary a pruning checkpoint vouches for: (last removed id, its hash)."""
    if entry.action != AUDIT_PRUNED:
        return None
    detail = json.loads(entry.detail)
    return int(detail["through_id"]), str(detail["last_hash"])


def verify(db: Session, key: bytes) -> Verdict:
    """Check every entry's HMAC and link, from the first one kept.

    The first entry links to GENESIS, or, after retention removed older ones, to the boundary
    a later checkpoint entry (audit.pruned, itself in the chain) recorded.
    """
    verdict = Verdict()
    previous: EntryFields | None = None
    first_link = GENESIS
    for entry in _entries(db):
        if not hmac.compare_digest(entry_hash(key, entry), entry.entry_hash):
            return verdict.fail(entry.id, "its contents do not match its hash (altered)")
        if previous is None:
            verdict.first_id, first_link = entry.id, entry.prev_hash
            if entry.id == 1 and entry.prev_hash != GENESIS:
                return verdict.fail(entry.id, "the first entry does not start the chain")
        elif entry.id != previous.id + 1:
            return verdict.fail(entry.id, f"entries after {previous.id} are missing (removed)")
        elif entry.prev_hash != previous.entry_hash:
            return verdict.fail(entry.id, "it does not follow the entry before it")
        anchor = _anchor(entry)
        if anchor is not None:
            verdict.anchors.add(anchor)
        verdict.checked += 1
        verdict.head_id, verdict.head_hash = entry.id, entry.entry_hash
        previous = entry
    first = verdict.first_id
    if first is not None and first != 1 and (first - 1, first_link) not in verdict.anchors:
        return verdict.fail(first, "older entries were removed without a checkpoint")
    return verdict


def check_known_head(db: Session, verdict: Verdict, known_id: int, known_hash: str) -> str | None:
    """Compare an intact chain with a newest entry noted earlier, off the server.

    The chain alone cannot show that its newest entries were removed; a head noted before
    can: it must still be there with the same hash, or have been pruned since. Returns what
    is wrong, or None.
    """
    if verdict.head_id is None or known_id > verdict.head_id:
        return f"entry {known_id}, noted earlier, is gone: the log now ends before it"
    if verdict.first_id is not None and known_id < verdict.first_id:
        return None  # retention removed it since, and a checkpoint vouches for the cut
    found = db.scalar(select(AuditEntry.entry_hash).where(AuditEntry.id == known_id))
    if found is None or not hmac.compare_digest(found, known_hash.lower()):
        return f"entry {known_id} no longer has the hash noted earlier"
    return None
