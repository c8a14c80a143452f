"""Storing shared copies: items the offline workstation re-encrypted for another team.

Sharing keeps the cryptographic boundary: the server never decrypts. The workstation
re-encrypts chosen items to the target team's keys (`seethesigns-workstation share`); the
package is checked (seethesigns/teams/share_package.py) and its items stored here as shared
copies, which only the target team and admins see (seethesigns/teams/reach.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy.orm import Session

from seethesigns.models import Source, Submission, Team
from seethesigns.sources import reserve_number
from seethesigns.storage import CHUNK, Store, checksum, designation_slug
from seethesigns.teams.share_package import SharePackage


def store_shared_copies(
    db: Session, store: Store, source: Source, team: Team, package: SharePackage
) -> list[Submission]:
    """Store every item of a checked package as a shared copy for the team: all or none.

    Each copy is named like any submission ({n}-{designation}-msg.gpg / -doc.gz.gpg), so the
    target team's workstation opens an export of it with the same `open` command.
    """
    written: list[Path] = []
    rows: list[Submission] = []
    try:
        for item in package.items:
            number = reserve_number(db, source)
            suffix = "msg.gpg" if item.kind == "message" else "doc.gz.gpg"
            name = f"{number}-{designation_slug(source.designation)}-{suffix}"
            # Nested, not one `with`: the item's checksum is checked as it closes, which must
            # happen before the stored file is renamed into place.
            with store.arriving(source.filesystem_id, name) as partial:  # noqa: SIM117
                with package.open_item(item) as stream, partial.open("xb") as out:
                    shutil.copyfileobj(stream, out, CHUNK)
            path = store.path(source.filesystem_id, name)
            written.append(path)
            rows.append(
                Submission(
                    source_id=source.id,
                    filename=name,
                    size=path.stat().st_size,
                    checksum=checksum(path),
                    shared_with_team_id=team.id,
                )
            )
        db.add_all(rows)
        db.commit()
    except BaseException:
        db.rollback()
        for path in written:
            store.destroy(path)
        raise
    return rows
