"""Creating, finding and deleting sources."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from seethesigns.codename_reading import readings
from seethesigns.codenames import CodenameDeriver, generate_designation, normalize_codename
from seethesigns.db import forget_deleted
from seethesigns.encryption import GpgService
from seethesigns.models import Source
from seethesigns.models.base import utcnow
from seethesigns.storage import Store
from seethesigns.teams.membership import front_door_id

DESIGNATION_TRIES = 50
# Derived when what was typed cannot be a codename, so a malformed login costs the same time.
_PLACEHOLDER = "placeholder codename that no source can have"


class SourceError(Exception):
    """A source could not be created."""


@dataclass(frozen=True)
class LoggedInSource:
    """A source found by codename, with the key secret that opens their replies."""

    source: Source
    key_secret: str


def _free_designation(db: Session) -> str:
    for _ in range(DESIGNATION_TRIES):
        candidate = generate_designation()
        if db.scalar(select(Source.id).where(Source.designation == candidate)) is None:
            return candidate
    raise SourceError("no free designation found")


def create_source(
    db: Session, deriver: CodenameDeriver, gpg: GpgService, codename: str
) -> LoggedInSource:
    """Create a source for a freshly generated codename, with its reply keypair."""
    normal = normalize_codename(codename)
    if normal is None:
        raise SourceError("not a codename")
    derived = deriver.derive(normal)
    if db.scalar(select(Source.id).where(Source.filesystem_id == derived.filesystem_id)):
        raise SourceError("this codename is already in use")
    keys = gpg.generate_source_keypair(derived.key_secret)
    source = Source(
        filesystem_id=derived.filesystem_id,
        designation=_free_designation(db),
        pgp_fingerprint=keys.fingerprint,
        pgp_public_key=keys.public_key,
        pgp_secret_key=keys.secret_key,
        team_id=front_door_id(db),  # issue 14: new reports go to the front door
    )
    db.add(source)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise SourceError("this codename or designation is already in use") from None
    return LoggedInSource(source, derived.key_secret)


def find_source(db: Session, deriver: CodenameDeriver, codename: str) -> LoggedInSource | None:
    """The source a codename belongs to, or None; the time taken does not depend on which.

    What was typed is read first, so one typo or a word typed in part is forgiven (issue 12).
    Raises WordNotOnList or WrongWordCount when the text cannot be a codename.
    """
    normal = normalize_codename(codename)
    options = readings(normal) if normal else []

    def known(filesystem_id: str) -> bool:
        return db.scalar(select(Source.id).where(Source.filesystem_id == filesystem_id)) is not None

    derived = deriver.derive_first(options or [_PLACEHOLDER], known)
    if derived is None:
        return None
    source = db.scalar(select(Source).where(Source.filesystem_id == derived.filesystem_id))
    return None if source is None else LoggedInSource(source, derived.key_secret)


def reserve_number(db: Session, source: Source) -> int:
    """Take the next item number for a source (shared by submissions and replies)."""
    db.execute(
        update(Source)
        .where(Source.id == source.id)
        .values(interaction_count=Source.interaction_count + 1, last_updated=utcnow())
    )
    db.commit()
    db.refresh(source)
    return source.interaction_count


def delete_source(db: Session, store: Store, source: Source) -> None:
    """Destroy every file of a source, then every row (replies and submissions cascade)."""
    store.destroy_source(source.filesystem_id)
    # A statement, not db.delete(): the row may be gone already (the same deletion at once).
    db.execute(delete(Source).where(Source.id == source.id))
    db.commit()
    forget_deleted(db)  # its keys, case note and labels are still in the WAL until then
