"""Recipients: the public keys every new submission and reply is encrypted to (issue 14).

The key fingerprinted in the configuration is the first recipient. An instance from before
recipients has no rows yet: until one is written it keeps encrypting to that key alone, and the
first key check, `migrate` or `recipient` command writes it down (ensure_configured).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from seethesigns.encryption import EncryptionError, GpgService
from seethesigns.models import Recipient, Source, Team
from seethesigns.models.base import utcnow
from seethesigns.pgp_packets import leading_recipient_key_ids
from seethesigns.teams.membership import front_door_id

CONFIGURED_NAME = "Submission key"
MAX_NAME_CHARS = 100
# Session-key packets for a handful of keys take well under 1 KB each; a stored file's first
# 4 KB name its recipients without reading the content.
HEAD_BYTES = 4096


class RecipientError(Exception):
    """A recipient could not be added or retired."""


def grouped(fingerprint: str) -> str:
    """A fingerprint in groups of four, as people compare them."""
    return " ".join(fingerprint[i : i + 4] for i in range(0, len(fingerprint), 4))


def _normalised(fingerprint: str) -> str:
    return "".join(fingerprint.split()).upper()


def all_recipients(db: Session) -> list[Recipient]:
    """Every recipient, active and retired, in the order they were added."""
    return list(db.scalars(select(Recipient).order_by(Recipient.id)))


def _active(db: Session, team_id: int | None = None) -> list[Recipient]:
    statement = select(Recipient).where(Recipient.retired_at.is_(None))
    if team_id is not None:
        statement = statement.where(Recipient.team_id == team_id)
    return list(db.scalars(statement.order_by(Recipient.id)))


def active_fingerprints(db: Session, gpg: GpgService, team_id: int | None) -> list[str]:
    """The fingerprints a new item of a case owned by this team is encrypted to (issue 14).

    None stands for the front door (a source row from before teams). Before any recipient
    row exists, the configured key.
    """
    active = _active(db, team_id if team_id is not None else front_door_id(db))
    if active:
        return [recipient.fingerprint for recipient in active]
    if db.scalar(select(Recipient.id).limit(1)) is None and gpg.submission_fingerprint:
        return [gpg.submission_fingerprint]
    return []


def team_recipients(db: Session, team_id: int) -> dict[str, frozenset[str]]:
    """A team's active fingerprints, each with its encryption key ids: what a share must name."""
    return {
        recipient.fingerprint: frozenset(recipient.key_ids.split())
        for recipient in _active(db, team_id)
    }


def team_public_keys(db: Session, team_id: int) -> str:
    """A team's active public keys in one armored text, to carry to the workstation."""
    return "\n".join(recipient.public_key.strip() for recipient in _active(db, team_id)) + "\n"


def checked_fingerprints(db: Session, gpg: GpgService) -> list[str]:
    """The active fingerprints for the key check, in one query; writes the first one down."""
    rows = db.execute(select(Recipient.fingerprint, Recipient.retired_at)).all()
    if rows:
        return [fingerprint for fingerprint, retired_at in rows if retired_at is None]
    ensure_configured(db, gpg)  # an instance from before recipients
    return [gpg.submission_fingerprint] if gpg.submission_fingerprint else []


def _row(gpg: GpgService, name: str, fingerprint: str, armored: str, team_id: int) -> Recipient:
    key_ids = " ".join(sorted(gpg.encryption_key_ids(armored)))
    return Recipient(
        name=name, fingerprint=fingerprint, public_key=armored, key_ids=key_ids, team_id=team_id
    )


def ensure_configured(db: Session, gpg: GpgService) -> None:
    """Write the configured submission key down as the first recipient, if there is none yet.

    It is already in the server keyring. If it is missing from there, nothing is written:
    the key check reports the key unusable instead.
    """
    if db.scalar(select(Recipient.id).limit(1)) is not None or not gpg.submission_fingerprint:
        return
    try:
        armored = gpg.submission_public_key()
        row = _row(gpg, CONFIGURED_NAME, gpg.submission_fingerprint, armored, front_door_id(db))
    except EncryptionError:
        return
    db.add(row)
    try:
        db.commit()
    except IntegrityError:  # another worker wrote it first
        db.rollback()


def add_recipient(
    db: Session, gpg: GpgService, name: str, armored: str, team_id: int | None = None
) -> Recipient:
    """Check and import a public key of a team (the front door unless named), and encrypt
    every new item of that team's cases to it from now on.

    The checks are init's (GpgService.import_submission_key): a secret, expired, revoked,
    sign-only or multi-key file is refused with KeyFileRejected.
    """
    name = name.strip()
    if not name or len(name) > MAX_NAME_CHARS:
        raise RecipientError(f"give the key a name of 1 to {MAX_NAME_CHARS} characters")
    ensure_configured(db, gpg)  # so the configured key stays a recipient
    fingerprint = gpg.import_submission_key(armored)
    existing = db.scalar(select(Recipient).where(Recipient.fingerprint == fingerprint))
    if existing is not None:
        state = "retired" if existing.retired_at else "active"
        raise RecipientError(f"key {grouped(fingerprint)} is already a recipient ({state})")
    if team_id is not None and db.get(Team, team_id) is None:
        raise RecipientError("that team does not exist")
    row = _row(gpg, name, fingerprint, armored, team_id or front_door_id(db))
    db.add(row)
    db.commit()
    return row


def retire_recipient(db: Session, gpg: GpgService, fingerprint: str) -> Recipient:
    """Stop encrypting new items to a recipient; what it can already open stays readable."""
    ensure_configured(db, gpg)
    wanted = _normalised(fingerprint)
    row = db.scalar(select(Recipient).where(Recipient.fingerprint == wanted))
    if row is None:
        raise RecipientError(f"no recipient has the fingerprint {grouped(wanted)}")
    if row.retired_at is not None:
        raise RecipientError(f"{row.name} ({grouped(wanted)}) is already retired")
    team_id = row.team_id if row.team_id is not None else front_door_id(db)
    if [active.id for active in _active(db, team_id)] == [row.id] and _needs_a_key(db, team_id):
        raise RecipientError(
            "this is the last active key of a team that receives reports or owns cases: add "
            "its replacement first, or nothing new could be encrypted for it"
        )
    row.retired_at = utcnow()
    db.commit()
    return row


def _needs_a_key(db: Session, team_id: int) -> bool:
    """True for the front door, and for a team that owns a case."""
    if front_door_id(db) == team_id:
        return True
    return db.scalar(select(Source.id).where(Source.team_id == team_id).limit(1)) is not None


def key_names(db: Session) -> dict[str, str]:
    """Each known encryption key id, and the name of the recipient it belongs to."""
    names: dict[str, str] = {}
    for recipient in all_recipients(db):
        for key_id in recipient.key_ids.split():
            names[key_id] = recipient.name
    return names


def encrypted_to(path: Path, names: dict[str, str]) -> list[str]:
    """Who a stored item is encrypted to: recipient names, or key ids nobody here knows.

    Only the session-key packets at the head of the file are read; nothing is decrypted.
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError:
        return []
    return sorted({names.get(key_id, key_id) for key_id in leading_recipient_key_ids(head)})
