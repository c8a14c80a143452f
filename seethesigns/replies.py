"""Replies from staff: encrypted to the source and the recipient keys; read by the source."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from seethesigns.encryption import GpgService
from seethesigns.models import Reply, Source, Staff
from seethesigns.pgp_packets import NotAnEncryptedMessage, parse_encrypted_message
from seethesigns.recipients import active_fingerprints
from seethesigns.sources import reserve_number
from seethesigns.storage import Store, checksum, reply_name

MAX_REPLY_CHARS = 100_000
# An armored, client-encrypted reply of MAX_REPLY_CHARS characters of 4-byte UTF-8 is < 1 MB.
MAX_PREPARED_REPLY_CHARS = 1_000_000


class ReplyError(Exception):
    """A reply could not be sent."""


class AccountDeleted(ReplyError):
    """The young person deleted their account: no key is left to reply to (issue 13)."""


def _can_reach(source: Source) -> None:
    if source.deleted_at is not None:
        raise AccountDeleted("the young person deleted their account, so replies cannot reach them")


class NotEncryptedForSource(ReplyError):
    """A client-encrypted reply is not ciphertext that the source's key can open."""


class ReplyUuidTaken(ReplyError):
    """A client chose a reply uuid that another reply already has."""


@dataclass(frozen=True)
class DecryptedReply:
    """A reply as the source reads it."""

    reply: Reply
    text: str


def send_reply(
    db: Session, store: Store, gpg: GpgService, source: Source, author: Staff, text: str
) -> Reply:
    """Encrypt a reply to the source's key and the owning team's active keys, and store it."""
    _can_reach(source)
    if not text.strip():
        raise ReplyError("the reply is empty")
    if len(text) > MAX_REPLY_CHARS:
        raise ReplyError(f"a reply can be at most {MAX_REPLY_CHARS} characters")
    name = reply_name(reserve_number(db, source), source.designation)
    with store.arriving(source.filesystem_id, name) as partial:
        team_keys = active_fingerprints(db, gpg, source.team_id)
        gpg.encrypt_reply(text, source.pgp_public_key, partial, team_keys)
    return _record(db, store, source, author, name)


def store_prepared_reply(
    db: Session,
    store: Store,
    gpg: GpgService,
    source: Source,
    author: Staff,
    armored: str,
    reply_uuid: str | None = None,
) -> Reply:
    """Store a reply that the client encrypted itself (the Journalist API's way of replying).

    Only a well-formed public-key encrypted message addressed to the source's own key is
    accepted: plaintext must never be stored, and one reply the source cannot decrypt would
    hide every reply from them. The dearmored bytes are stored, so armor headers (which a
    client could fill with anything) never reach the disk.
    """
    _can_reach(source)
    if len(armored) > MAX_PREPARED_REPLY_CHARS:
        raise ReplyError(f"an encrypted reply can be at most {MAX_PREPARED_REPLY_CHARS} characters")
    try:
        message = parse_encrypted_message(armored)
    except NotAnEncryptedMessage as exc:
        raise NotEncryptedForSource(str(exc)) from None
    if not message.recipient_key_ids & gpg.encryption_key_ids(source.pgp_public_key):
        raise NotEncryptedForSource("the reply is not encrypted to the source's key")
    if reply_uuid is not None and db.scalar(select(Reply.id).where(Reply.uuid == reply_uuid)):
        raise ReplyUuidTaken("that uuid is already in use")
    name = reply_name(reserve_number(db, source), source.designation)
    with store.arriving(source.filesystem_id, name) as partial:
        partial.write_bytes(message.data)
    return _record(db, store, source, author, name, reply_uuid)


def _record(
    db: Session,
    store: Store,
    source: Source,
    author: Staff,
    name: str,
    reply_uuid: str | None = None,
) -> Reply:
    """Write the row of a reply file already stored under name; destroy the file on failure."""
    path = store.path(source.filesystem_id, name)
    reply = Reply(
        source_id=source.id,
        staff_id=author.id,
        filename=name,
        size=path.stat().st_size,
        checksum=checksum(path),
    )
    if reply_uuid is not None:
        reply.uuid = reply_uuid
    db.add(reply)
    try:
        db.commit()
    except IntegrityError:  # the same uuid, sent twice at once
        db.rollback()
        store.destroy(path)
        raise ReplyUuidTaken("that uuid is already in use") from None
    except BaseException:
        db.rollback()
        store.destroy(path)
        raise
    return reply


def replies_of(db: Session, source: Source) -> list[Reply]:
    """A source's replies, oldest first."""
    return list(db.scalars(select(Reply).where(Reply.source_id == source.id).order_by(Reply.id)))


def visible_to_source(db: Session, source: Source) -> list[Reply]:
    """The replies a source has not deleted, oldest first."""
    return [reply for reply in replies_of(db, source) if not reply.deleted_by_source]


def count_deleted_by_source(db: Session, source: Source) -> int:
    """How many replies the source has deleted (and staff still keep)."""
    found = select(func.count()).where(Reply.source_id == source.id, Reply.deleted_by_source)
    return int(db.scalar(found) or 0)


def read_replies(
    db: Session,
    store: Store,
    gpg: GpgService,
    source: Source,
    key_secret: str,
    since: datetime | None = None,
) -> list[DecryptedReply]:
    """Decrypt in memory, with their own key, the replies a source has not deleted.

    With since (UTC), only those sent from then on: nothing is decrypted while there are none.
    """
    replies, ciphertexts = [], []
    for reply in visible_to_source(db, source):
        if since is not None and reply.created_at < since:
            continue
        try:
            ciphertexts.append(store.path(source.filesystem_id, reply.filename).read_bytes())
        except FileNotFoundError:  # deleted by staff a moment ago
            continue
        replies.append(reply)
    texts = gpg.decrypt_replies(ciphertexts, source.pgp_secret_key, key_secret)
    return [
        DecryptedReply(reply, text)
        for reply, text in zip(replies, texts, strict=True)
        if text is not None
    ]


def delete_for_source(db: Session, source: Source, reply_uuids: list[str] | None = None) -> int:
    """Hide a source's replies (those named, or all) from them; staff keep them. Returns how many.

    As SecureDrop does: a child deleting a reply must not destroy the record staff work from.
    """
    visible = select(Reply).where(Reply.source_id == source.id, Reply.deleted_by_source.is_(False))
    if reply_uuids is not None:
        visible = visible.where(Reply.uuid.in_(reply_uuids))
    hidden = list(db.scalars(visible))
    for reply in hidden:
        reply.deleted_by_source = True
    db.commit()
    return len(hidden)


def delete_reply(db: Session, store: Store, source: Source, reply: Reply) -> None:
    """Destroy one reply's file, then its row (staff deleting, or retention)."""
    store.destroy(store.path(source.filesystem_id, reply.filename))
    # A statement, not db.delete(): the row may be gone already (the same deletion at once).
    db.execute(delete(Reply).where(Reply.id == reply.id))
    db.commit()
