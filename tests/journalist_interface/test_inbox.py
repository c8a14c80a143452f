"""A source's items as one staff member sees them, and marking them seen."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from journalist_interface.inbox import items_of, mark_many_seen, mark_seen
from journalist_interface.list_query import ListQuery
from journalist_interface.source_list import source_page
from seethesigns.models import Reply, SeenReply, SeenSubmission, Source, Submission
from seethesigns.settings import Settings
from seethesigns.staff_accounts import NewStaff
from seethesigns.teams.membership import front_door_id
from tests.journalist_interface.conftest import add_staff

# The listing never opens files or keys, so rows alone stand in for sources here.
START = datetime(2024, 5, 1, 12, 0)


def add_source(
    db: Session,
    n: int,
    *,
    items: list[str],
    starred: bool = False,
    designation: str = "",
    silent: bool = False,
) -> Source:
    """A source with stored items named like "1-msg", "2-reply" (no files on disk).

    Without items it has sent something whose items were deleted since, unless it is silent:
    a codename that never sent anything (issue 13: not listed).
    """
    source = Source(
        # Letters only, as a real (base32) filesystem id: "AAAAAAAAAAAAAAAABCDE" for 1234.
        filesystem_id="A" * 16 + "".join("ABCDEFGHIJ"[int(digit)] for digit in f"{n:04d}"),
        designation=designation or f"source {n}",
        pgp_fingerprint="0" * 40,
        pgp_public_key="-",
        pgp_secret_key="-",
        is_starred=starred,
        last_updated=START + timedelta(minutes=n),
        interaction_count=0 if silent else max(len(items), 1),
        team_id=front_door_id(db),
    )
    db.add(source)
    db.flush()
    for name in items:
        number, kind = name.split("-")
        slug = source.designation.replace(" ", "_")
        filename = f"{number}-{slug}-{'doc.gz' if kind == 'doc' else kind}.gpg"
        model = Reply if kind == "reply" else Submission
        db.add(model(source_id=source.id, filename=filename, size=1, checksum="sha256:0"))
    db.commit()
    return source


def test_unread_counts_skip_own_replies_and_seen_items(
    open_db: sessionmaker[Session], alice: NewStaff, settings: Settings
) -> None:
    bob = add_staff(open_db, settings, "bob")
    with open_db() as db:
        source = add_source(db, 1, items=["1-msg", "2-doc"])
        db.add_all(
            [
                Reply(
                    source_id=source.id,
                    staff_id=alice.staff.id,
                    size=1,
                    checksum="-",
                    filename="3-source_1-reply.gpg",
                ),
                Reply(
                    source_id=source.id,
                    staff_id=None,
                    size=1,
                    checksum="-",
                    filename="4-source_1-reply.gpg",
                ),
            ]
        )
        db.commit()
        mark_seen(db, alice.staff, items_of(db, source, alice.staff)[0].row)
        mark_seen(db, alice.staff, items_of(db, source, alice.staff)[0].row)  # harmless again
        unread = {row.id: row.unread for row in source_page(db, alice.staff, ListQuery()).rows}
        # alice: the document and the deleted account's reply; not her own reply.
        assert unread == {source.id: 2}
        assert source_page(db, bob.staff, ListQuery()).rows[0].unread == 4


def test_items_are_interleaved_by_number_not_by_text(
    open_db: sessionmaker[Session], alice: NewStaff
) -> None:
    with open_db() as db:
        source = add_source(db, 1, items=["10-msg", "2-reply", "1-msg", "11-reply", "3-doc"])
        found = items_of(db, source, alice.staff)
    assert [item.number for item in found] == [1, 2, 3, 10, 11]
    assert [item.kind for item in found] == ["message", "reply", "document", "message", "reply"]
    assert found[1].author == "a deleted account"
    assert not any(item.seen for item in found)


def test_marking_many_seen_skips_what_was_seen_and_counts_once(
    open_db: sessionmaker[Session], alice: NewStaff, settings: Settings
) -> None:
    bob = add_staff(open_db, settings, "bob")
    with open_db() as db:
        source = add_source(db, 1, items=["1-msg", "2-doc", "3-reply"])
        rows = [item.row for item in items_of(db, source, alice.staff)]
        submissions = [row.id for row in rows if isinstance(row, Submission)]
        replies = [row.id for row in rows if isinstance(row, Reply)]
        mark_seen(db, alice.staff, rows[0])
        mark_many_seen(db, alice.staff, submissions, replies)
        mark_many_seen(db, alice.staff, submissions, replies)  # again: harmless
        mark_many_seen(db, alice.staff, [], [])
        assert all(item.seen for item in items_of(db, source, alice.staff))
        assert not any(item.seen for item in items_of(db, source, bob.staff))
        assert len(db.scalars(select(SeenSubmission)).all()) == 2
        assert len(db.scalars(select(SeenReply)).all()) == 1
        assert source_page(db, alice.staff, ListQuery()).rows[0].unread == 0
        assert source_page(db, bob.staff, ListQuery()).rows[0].unread == 3
