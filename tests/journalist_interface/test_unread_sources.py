"""The unread filter reads unread_sources, kept by the database's triggers (issue 16)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from journalist_interface.inbox import mark_seen, mark_unseen
from journalist_interface.list_query import ListQuery
from journalist_interface.source_list import source_page
from seethesigns.models import Reply, Source, Staff, Submission, Team, UnreadSource
from seethesigns.settings import Settings
from seethesigns.staff_accounts import NewStaff
from seethesigns.staff_admin import set_admin
from seethesigns.teams.handover import hand_over
from tests.journalist_interface.conftest import Mash, add_shared_copy, add_staff
from tests.journalist_interface.test_inbox import add_source


def unread(db: Session, staff_id: int) -> list[str]:
    """The designations the unread filter lists for this staff member."""
    staff = db.get(Staff, staff_id)
    assert staff is not None
    return [row.designation for row in source_page(db, staff, ListQuery(unread=True)).rows]


def candidates(db: Session, staff_id: int) -> set[int]:
    """The source ids unread_sources holds for this staff member."""
    return set(db.scalars(select(UnreadSource.source_id).where(UnreadSource.staff_id == staff_id)))


def items(db: Session, model: type[Submission] | type[Reply], source: Source) -> list[Submission]:
    """The source's submissions or replies."""
    return list(db.scalars(select(model).where(model.source_id == source.id)))  # type: ignore[arg-type]


def test_arrivals_seen_marks_and_unmarks_move_a_source_in_and_out(
    open_db: sessionmaker[Session], alice: NewStaff, root: NewStaff, settings: Settings
) -> None:
    me = alice.staff.id
    with open_db() as db:
        first = add_source(db, 1, items=["1-msg", "2-doc"])
        second = add_source(db, 2, items=["1-msg"])
        assert unread(db, me) == ["source 2", "source 1"]
        assert unread(db, root.staff.id) == ["source 2", "source 1"]  # an admin sees all
        staff = db.get(Staff, me)
        assert staff is not None
        for item in items(db, Submission, first):
            mark_seen(db, staff, item)
        assert unread(db, me) == ["source 2"]
        assert candidates(db, me) == {second.id}  # the seen source's row is gone, not skipped
        mark_unseen(db, staff, [items(db, Submission, first)[0]])
        assert unread(db, me) == ["source 2", "source 1"]
        for item in items(db, Submission, first) + items(db, Submission, second):
            mark_seen(db, staff, item)
        assert unread(db, me) == [] and candidates(db, me) == set()
        db.add(Submission(source_id=first.id, filename="3-x-msg.gpg", size=1, checksum="x"))
        db.commit()
        assert unread(db, me) == ["source 1"]  # the young person wrote again
        for item in items(db, Submission, first):
            mark_seen(db, staff, item)
        db.add(Reply(source_id=second.id, staff_id=me, filename="2-r.gpg", size=1, checksum="x"))
        db.commit()
        assert unread(db, me) == []  # their own reply is not news to them
    bob = add_staff(open_db, settings, "bob")  # joins the front door: all of it is news
    with open_db() as db:
        assert unread(db, bob.staff.id) == ["source 2", "source 1"]
        assert unread(db, me) == []
        bob_staff = db.get(Staff, bob.staff.id)
        assert bob_staff is not None
        db.add(
            Reply(
                source_id=first.id, staff_id=bob.staff.id, filename="4-r.gpg", size=1, checksum="x"
            )
        )
        db.commit()
        assert unread(db, me) == ["source 1"]  # a colleague's reply is


def test_shares_handovers_and_new_admins_reach_the_right_staff(
    open_db: sessionmaker[Session], mash: Mash, root: NewStaff
) -> None:
    paul, hana, fiona = mash.paul.staff.id, mash.hana.staff.id, mash.fiona.staff.id
    with open_db() as db:
        assert unread(db, fiona) == [mash.designation]
        assert unread(db, paul) == unread(db, hana) == []
        source = add_shared_copy(db, mash.police)
        assert unread(db, paul) == [mash.designation]
        # Each has seen all they may see: the rows go, though the other's items stay unseen.
        copy = db.scalars(select(Submission).where(Submission.shared_with_team_id.is_not(None)))
        for staff_id, seen in ((paul, [copy.one()]), (fiona, items(db, Submission, source)[:2])):
            staff = db.get(Staff, staff_id)
            assert staff is not None
            for item in [*seen, *(items(db, Reply, source) if staff_id == fiona else [])]:
                mark_seen(db, staff, item)
            assert candidates(db, staff_id) == set(), staff.username
        db.add(Submission(source_id=source.id, filename="10-x-msg.gpg", size=1, checksum="x"))
        db.commit()
        assert unread(db, fiona) == [mash.designation] and unread(db, paul) == []
        assert unread(db, hana) == []  # (a row left from joining the front door first is checked)
        # As for a health member who never passed through the front door: nothing to find yet.
        db.execute(delete(UnreadSource).where(UnreadSource.staff_id == hana))
        db.commit()
        team = db.get(Team, mash.health.id)
        assert team is not None
        hand_over(db, source, team)
        assert unread(db, hana) == [mash.designation]
        assert unread(db, fiona) == []  # no longer their case
        actor, made = db.get(Staff, root.staff.id), db.get(Staff, fiona)
        assert actor is not None and made is not None
        set_admin(db, actor, made, True)
        assert unread(db, fiona) == [mash.designation]
