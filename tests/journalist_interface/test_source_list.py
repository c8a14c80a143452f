"""The source list: starred first, keyset pages, search, filters, and queries that do not grow."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, event, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from journalist_interface.inbox import items_of, mark_seen
from journalist_interface.list_query import ListQuery
from journalist_interface.source_list import BY_ID, PAGE_SIZE, SourcePage, source_page
from seethesigns.cases import add_label, set_starred, update_case
from seethesigns.models import (
    Case,
    CaseLabel,
    SeenSubmission,
    SharedCase,
    Source,
    Staff,
    Submission,
    UnreadSource,
)
from seethesigns.settings import Settings
from seethesigns.staff_accounts import NewStaff
from seethesigns.teams.membership import create_team, front_door_id, set_teams
from seethesigns.web.setup import services
from tests.journalist_interface.conftest import add_staff, page_of
from tests.journalist_interface.test_inbox import START, add_source

SHARED_COLUMNS = (SharedCase.urgent, SharedCase.is_starred, SharedCase.last_updated)
ORDER_COLUMNS = (Source.urgent, Source.is_starred, Source.last_updated)


def add_many(db: Session, count: int, *, starred: tuple[int, ...] = ()) -> list[Source]:
    """count sources "source 0".."source N" (higher n: more recent), each with two items."""
    return [add_source(db, n, items=["1-msg", "2-doc"], starred=n in starred) for n in range(count)]


def names(page: SourcePage) -> list[str]:
    """The designations on a page, in order."""
    return [row.designation for row in page.rows]


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements run on engine while the block runs."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_starred_come_first_then_latest_activity_fifty_a_page(
    open_db: sessionmaker[Session], alice: NewStaff
) -> None:
    with open_db() as db:
        add_many(db, 120, starred=(3, 70))
        first = source_page(db, alice.staff, ListQuery())
    assert len(first.rows) == PAGE_SIZE
    assert names(first)[:4] == ["source 70", "source 3", "source 119", "source 118"]
    assert [row.designation for row in first.starred] == ["source 70", "source 3"]
    assert len(first.others) == PAGE_SIZE - 2
    assert first.newer is None and first.older is not None


def test_paging_older_then_newer_visits_every_source_once_in_order(
    open_db: sessionmaker[Session], alice: NewStaff
) -> None:
    with open_db() as db:
        add_many(db, 120, starred=(5,))
        pages = [source_page(db, alice.staff, ListQuery())]
        while pages[-1].older is not None:
            pages.append(source_page(db, alice.staff, ListQuery(after=pages[-1].older)))
        back = [pages[-1]]
        while back[-1].newer is not None:
            back.append(source_page(db, alice.staff, ListQuery(before=back[-1].newer)))
    listed = [name for page in pages for name in names(page)]
    expected = ["source 5"] + [f"source {n}" for n in range(119, -1, -1) if n != 5]
    assert listed == expected
    assert [len(page.rows) for page in pages] == [50, 50, 20]
    assert [names(page) for page in reversed(back)] == [names(page) for page in pages]
    assert pages[-1].older is None and back[-1].newer is None


def test_search_matches_part_of_a_designation_whatever_the_case(
    open_db: sessionmaker[Session], alice: NewStaff
) -> None:
    with open_db() as db:
        add_source(db, 1, items=[], designation="gentle otter")
        add_source(db, 2, items=[], designation="brave otterhound")
        add_source(db, 3, items=[], designation="calm heron")
        add_source(db, 4, items=[], designation="100 percent")

        def search(text: str) -> list[str]:
            query = ListQuery.from_args({"q": text})
            return names(source_page(db, alice.staff, query))

        assert search("otter") == ["brave otterhound", "gentle otter"]
        assert search("  GENTLE   Otter ") == ["gentle otter"]
        assert search("heron") == ["calm heron"]
        assert search("%") == [] and search("_") == []  # wildcards are matched literally
        assert search("nobody") == []
        assert len(search("")) == 4


def test_filters_starred_unread_status_assigned_and_label(
    open_db: sessionmaker[Session], alice: NewStaff, settings: Settings
) -> None:
    bob = add_staff(open_db, settings, "bob")
    with open_db() as db:
        sources = add_many(db, 6)
        set_starred(db, [sources[0].uuid], True)
        for item in items_of(db, sources[1], alice.staff):
            mark_seen(db, alice.staff, item.row)
        update_case(db, sources[2], status="in_review", assignee=alice.staff.uuid, note="")
        update_case(db, sources[3], status="closed", assignee=bob.staff.uuid, note="")
        update_case(db, sources[4], status="new", assignee="", note="")
        add_label(db, sources[5], "Knife Crime")

        def listed(**args: str) -> set[str]:
            return set(names(source_page(db, alice.staff, ListQuery.from_args(args))))

        everyone = {f"source {n}" for n in range(6)}
        assert listed() == everyone
        assert listed(starred="1") == {"source 0"}
        assert listed(unread="1") == everyone - {"source 1"}
        assert listed(mine="1") == {"source 2"}
        assert listed(status="in_review") == {"source 2"}
        assert listed(status="closed") == {"source 3"}
        assert listed(status="new") == everyone - {"source 2", "source 3"}
        assert listed(label="knife crime") == {"source 5"}
        assert listed(status="closed", unread="1", mine="1") == set()
        assert listed(status="bogus", starred="yes") == everyone  # nonsense is ignored
        assert set(names(source_page(db, bob.staff, ListQuery(mine=True)))) == {"source 3"}
        assert set(names(source_page(db, bob.staff, ListQuery(unread=True)))) == everyone


def test_rows_carry_case_labels_and_unread_counts(
    open_db: sessionmaker[Session], alice: NewStaff
) -> None:
    with open_db() as db:
        source = add_source(db, 1, items=["1-msg", "2-doc", "3-reply"])
        update_case(db, source, status="referred", assignee=alice.staff.uuid, note="")
        add_label(db, source, "school")
        add_label(db, source, "Brother")
        (row,) = source_page(db, alice.staff, ListQuery()).rows
    assert (row.status_name, row.assignee, row.labels, row.unread) == (
        "Referred",
        "alice",
        ["brother", "school"],
        3,
    )


def test_one_page_is_three_queries_at_any_size(
    open_db: sessionmaker[Session], alice: NewStaff
) -> None:
    with open_db() as db:
        engine = db.get_bind()
        assert isinstance(engine, Engine)
        add_many(db, 3)
        with counted(engine) as few:
            source_page(db, alice.staff, ListQuery(unread=True, search="source"))
        add_many_more = [add_source(db, n, items=["1-msg"]) for n in range(3, 130)]
        assert len(add_many_more) == 127
        with counted(engine) as many:
            page = source_page(db, alice.staff, ListQuery(unread=True, search="source"))
    assert len(page.rows) == PAGE_SIZE
    # Their teams, the sources the search index finds and those that may be unread for them
    # (issue 16), the page (their team's part of the list and what was shared with them,
    # issue 14), the unread counts and the labels.
    assert len(few) == len(many) == 6


@pytest.mark.sqlite_only
def test_mine_with_a_status_is_counted_from_one_index(
    open_db: sessionmaker[Session], alice: NewStaff
) -> None:
    """The count that picks a filter's path reads the cases index alone (migration 0020).

    With an index on assignee_id only, each of a staff member's cases was read to check its
    status: thousands of rows at 50,000 sources, from disk after any other connection wrote.
    """
    with open_db() as db:
        for source in add_many(db, 3):
            update_case(db, source, status="in_review", assignee=alice.staff.uuid, note="")
        engine = db.get_bind()
        assert isinstance(engine, Engine)
        run: list[tuple[str, Any]] = []

        def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
            run.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", keep)
        try:
            page = source_page(db, alice.staff, ListQuery(status="in_review", mine=True))
        finally:
            event.remove(engine, "before_cursor_execute", keep)
        assert len(page.rows) == 3
        ((count, parameters),) = [(sql, bound) for sql, bound in run if "group_concat" in sql]
        explained = db.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + count, parameters)
        plan = " ".join(row[-1] for row in explained)
    assert "COVERING INDEX ix_cases_assignee_status" in plan, plan


def test_an_admins_page_is_three_queries(
    open_db: sessionmaker[Session], settings: Settings
) -> None:
    admin = add_staff(open_db, settings, "root", is_admin=True)
    with open_db() as db:
        engine = db.get_bind()
        assert isinstance(engine, Engine)
        for n in range(60):
            add_source(db, n, items=["1-msg"])
        with counted(engine) as queries:
            page = source_page(db, admin.staff, ListQuery(unread=True, search="source"))
    assert len(page.rows) == PAGE_SIZE
    # The page, unread counts and labels; and for the search and the unread filter, the
    # sources the search index finds and those that may be unread for them (issue 16).
    assert len(queries) == 5


def list_queries(app: Flask, client: FlaskClient, path: str) -> int:
    """How many SQL statements one GET of a list page runs, all told."""
    engine = services_engine(app)
    page_of(client, path)  # steady state: the session row is not rewritten on every request
    with counted(engine) as statements:
        page_of(client, path)
    return len(statements)


def services_engine(app: Flask) -> Engine:
    """The engine behind the app's sessions."""
    with app.app_context():
        bind = services().db.kw["bind"]
    assert isinstance(bind, Engine)
    return bind


@pytest.mark.parametrize("path", ["/", "/?unread=1&q=source&status=new", "/?starred=1&mine=1"])
def test_list_page_runs_as_many_queries_for_200_sources_as_for_5(
    journalist_app: Flask, logged_in: FlaskClient, open_db: sessionmaker[Session], path: str
) -> None:
    with open_db() as db:
        add_many(db, 5, starred=(1,))
    few = list_queries(journalist_app, logged_in, path)
    with open_db() as db:
        for n in range(5, 200):
            source = add_source(db, n, items=["1-msg", "2-doc", "3-reply"], starred=n % 7 == 0)
            add_label(db, source, f"label {n % 3}")
    many = list_queries(journalist_app, logged_in, path)
    assert few == many
    # One for unread_sources and one for the search index (issue 16).
    assert many <= (12 if "unread" in path else 10), many


def test_list_page_shows_starred_section_and_pages_through_links(
    logged_in: FlaskClient, open_db: sessionmaker[Session]
) -> None:
    with open_db() as db:
        add_many(db, 60, starred=(2,))
    first = page_of(logged_in, "/?q=source")
    assert first.index("<h2>Starred</h2>") < first.index("source 2") < first.index("Other sources")
    assert first.count('name="source" value=') == PAGE_SIZE
    assert "← Newer" not in first
    older = re.search(r'<a href="([^"]+)">Older →</a>', first)
    assert older
    second = page_of(logged_in, html.unescape(older.group(1)))
    assert "q=source" in html.unescape(older.group(1))
    assert second.count('name="source" value=') == 10
    assert ">source 0</a>" in second and "Older →" not in second and "← Newer" in second


def test_list_page_says_when_nothing_matches(logged_in: FlaskClient) -> None:
    assert "No sources yet." in page_of(logged_in, "/")
    assert "No sources match." in page_of(logged_in, "/?q=nobody")
    assert "No sources match." in page_of(logged_in, "/?after=11-20240501120003000120-42")
    assert page_of(logged_in, "/?after=garbage&status=%00")  # ignored, not an error


def every_page(db: Session, staff: Staff, query: ListQuery) -> tuple[list[int], list[int]]:
    """The ids on every page from the first on, and again read back from the last page up."""
    page = source_page(db, staff, query)
    forward = [row.id for row in page.rows]
    while page.older is not None:
        page = source_page(db, staff, replace(query, after=page.older))
        forward += [row.id for row in page.rows]
    backward = [row.id for row in page.rows]
    while page.newer is not None:
        page = source_page(db, staff, replace(query, before=page.newer))
        backward = [row.id for row in page.rows] + backward
    return forward, backward


def add_teams_cases(db: Session, teams: list[int], count: int) -> dict[int, int]:
    """count sources owned in turn by teams, three to a moment; each source's id by its n."""
    db.execute(
        insert(Source),
        [
            {
                "filesystem_id": "TEAMS" + "".join("ABCDEFGHIJ"[int(d)] for d in f"{n:08d}"),
                "designation": f"team case {n}",
                "pgp_fingerprint": "0" * 40,
                "pgp_public_key": "-",
                "pgp_secret_key": "-",
                "interaction_count": 1,
                "is_starred": n % 50 == 0,
                "urgent": n % 301 == 0,
                # Three sources at each moment, so the merge breaks ties by id across teams.
                "last_updated": START + timedelta(minutes=n // 3),
                "team_id": teams[n % len(teams)],
            }
            for n in range(count)
        ],
    )
    found = db.execute(select(Source.designation, Source.id)).tuples()
    return {int(designation.rsplit(" ", 1)[1]): id_ for designation, id_ in found}


def test_a_member_of_two_teams_pages_through_the_admins_order_of_their_cases(
    open_db: sessionmaker[Session], settings: Settings
) -> None:
    """Each team's walk and the cases shared with them, merged: the admin's list, restricted.

    Enough sources that the unread filter, a label and a search most cases match walk the list
    and probe each source, while a status or search few cases match looks its sources up by id
    (issue 16).
    """
    admin = add_staff(open_db, settings, "root", is_admin=True)
    account = add_staff(open_db, settings, "mo")
    with open_db() as db:
        front = front_door_id(db)
        police, health = create_team(db, "Police liaison").id, create_team(db, "Health").id
        member = db.get(Staff, account.staff.id)
        assert member is not None
        set_teams(db, member, {front, police})
        ids = add_teams_cases(db, [front, front, police, health], 3400)
        # Copies shared with the police: of a tenth of Health's cases, and of a front-door
        # case, which the member sees once, as their own.
        shared = {ids[n] for n in range(3, 3400, 40)} | {ids[0]}
        db.execute(
            insert(Submission),
            [
                {"source_id": id_, "filename": "1-msg.gpg", "size": 1, "checksum": "sha256:0"}
                for id_ in ids.values()
            ]
            + [
                {
                    "source_id": id_,
                    "filename": "2-msg.gpg",
                    "size": 1,
                    "checksum": "sha256:0",
                    "shared_with_team_id": police,
                }
                for id_ in shared
            ],
        )
        # The member has read every item of one case in seven.
        read = {ids[n] for n in range(0, 3400, 7)}
        db.execute(
            insert(SeenSubmission),
            [
                {"submission_id": submission_id, "staff_id": member.id}
                for submission_id in db.scalars(
                    select(Submission.id).where(Submission.source_id.in_(read))
                )
            ],
        )
        in_review = {ids[n] for n in range(0, 3400, 17)}
        db.execute(insert(Case), [{"source_id": id_, "status": "in_review"} for id_ in in_review])
        labelled = {ids[n] for n in range(3400) if n % 9}
        db.execute(insert(CaseLabel), [{"source_id": id_, "label": "knife"} for id_ in labelled])
        db.commit()
        candidates = select(func.count()).where(UnreadSource.staff_id == member.id)
        assert db.scalars(candidates).one() > BY_ID
        root = db.get(Staff, admin.staff.id)
        assert root is not None
        order, _ = every_page(db, root, ListQuery())
        everything = set(ids.values())
        # Urgent, then starred, then the latest, and of those at one moment the later made.
        made = sorted(ids, key=lambda n: (n % 301 == 0, n % 50 == 0, n // 3, n), reverse=True)
        assert order == [ids[n] for n in made]
        visible = {ids[n] for n in range(3400) if n % 4 != 3} | shared
        for staff, sees, unseen in [
            (root, everything, everything),
            (member, visible, visible - read),
        ]:
            for args, wanted in [
                ({}, sees),
                ({"unread": "1"}, unseen),
                ({"starred": "1"}, sees & {ids[n] for n in range(0, 3400, 50)}),
                ({"status": "in_review"}, sees & in_review),
                ({"label": "knife"}, sees & labelled),
                ({"q": "case 1"}, {id_ for n, id_ in ids.items() if str(n).startswith("1")} & sees),
                ({"q": "team case"}, sees),  # more than BY_ID candidates: a walk
            ]:
                forward, backward = every_page(db, staff, ListQuery.from_args(args))
                expected = [id_ for id_ in order if id_ in wanted]
                assert len(expected) > PAGE_SIZE
                assert forward == backward == expected, (staff.username, args)


def share(db: Session, source_id: int, team_id: int) -> Submission:
    """A copy of one of the source's items shared with the team, as the workstation shares."""
    copy = Submission(
        source_id=source_id,
        filename="9-copy-msg.gpg",
        size=1,
        checksum="sha256:0",
        shared_with_team_id=team_id,
    )
    db.add(copy)
    db.commit()
    return copy


def in_order(db: Session, staff: Staff, query: ListQuery | None = None) -> list[int]:
    """Every id the staff member's list shows, read forwards and checked backwards."""
    forward, backward = every_page(db, staff, query or ListQuery())
    assert forward == backward
    return forward


def admins_order_of(db: Session, root: Staff, wanted: set[int]) -> list[int]:
    """The admin's list, restricted to these sources."""
    return [id_ for id_ in in_order(db, root) if id_ in wanted]


def police_and_admin(
    db: Session, account: NewStaff, admin: NewStaff, count: int
) -> tuple[Staff, Staff, int, int, dict[int, int]]:
    """account as a police member and the admin, in this session; the police's and health's
    team ids; and count cases across the front door, the police and health."""
    front = front_door_id(db)
    police, health = create_team(db, "Police liaison").id, create_team(db, "Health").id
    member, root = db.get(Staff, account.staff.id), db.get(Staff, admin.staff.id)
    assert member is not None and root is not None
    set_teams(db, member, {police})
    ids = add_teams_cases(db, [front, police, health], count)
    db.commit()
    return member, root, police, health, ids


def test_a_case_is_listed_for_a_team_while_a_copy_is_shared_with_it(
    open_db: sessionmaker[Session], settings: Settings
) -> None:
    """shared_cases (migration 0019) gains and loses its rows with the shared copies."""
    admin = add_staff(open_db, settings, "root", is_admin=True)
    account = add_staff(open_db, settings, "pc")
    with open_db() as db:
        member, root, police, health, ids = police_and_admin(db, account, admin, 120)
        own = {id_ for n, id_ in ids.items() if n % 3 == 1}
        assert in_order(db, member) == admins_order_of(db, root, own)
        first, second = share(db, ids[0], police), share(db, ids[0], police)
        health_copy = share(db, ids[2], police)
        share(db, ids[5], health)  # shared with another team: never the police's
        shared = own | {ids[0], ids[2]}
        assert in_order(db, member) == admins_order_of(db, root, shared)
        db.delete(first)
        db.commit()
        assert in_order(db, member) == admins_order_of(db, root, shared)  # one copy is left
        db.delete(second)
        health_copy.shared_with_team_id = health  # its copy moved to another team
        db.commit()
        assert in_order(db, member) == admins_order_of(db, root, own)
        police_rows = select(SharedCase.source_id).where(SharedCase.team_id == police)
        assert db.scalars(police_rows).all() == []
        # A case handed over to the police is theirs once, not shared as well.
        share(db, ids[3], police)
        handed = db.get(Source, ids[3])
        assert handed is not None
        handed.team_id = police
        db.commit()
        assert in_order(db, member) == admins_order_of(db, root, own | {ids[3]})
        # A member of two teams a case is shared with sees it once.
        set_teams(db, member, {police, health})
        share(db, ids[3], health)
        share(db, ids[6], health)
        share(db, ids[6], police)
        mine = own | {ids[n] for n in range(120) if n % 3 == 2} | {ids[3], ids[6]}
        assert in_order(db, member) == admins_order_of(db, root, mine)


def test_starring_urgency_and_activity_reorder_the_shared_cases(
    open_db: sessionmaker[Session], settings: Settings
) -> None:
    """Each change of a source's place in the list moves its shared rows with it."""
    admin = add_staff(open_db, settings, "root", is_admin=True)
    account = add_staff(open_db, settings, "pc")
    with open_db() as db:
        member, root, police, _health, ids = police_and_admin(db, account, admin, 330)
        # More shared cases than a page: the shared part is paged through as well.
        shared = {ids[n] for n in range(330) if n % 3 == 2 or n % 9 == 0}
        for id_ in shared:
            share(db, id_, police)
        visible = shared | {ids[n] for n in range(330) if n % 3 == 1}
        sources = {source.id: source for source in db.scalars(select(Source))}
        later = START + timedelta(days=1)
        changes = [
            lambda n: setattr(sources[ids[n]], "is_starred", not sources[ids[n]].is_starred),
            lambda n: setattr(sources[ids[n]], "urgent", True),
            lambda n: setattr(sources[ids[n]], "last_updated", later + timedelta(minutes=n)),
            lambda n: setattr(sources[ids[n]], "urgent", False),
        ]
        for turn, change in enumerate(changes):
            for n in range(turn, 330, 7):
                change(n)
            db.commit()
            order, _ = every_page(db, root, ListQuery())
            assert in_order(db, member) == [id_ for id_ in order if id_ in visible], turn
            starred, _ = every_page(db, root, ListQuery(starred=True))
            wanted = [id_ for id_ in starred if id_ in visible]
            assert in_order(db, member, ListQuery(starred=True)) == wanted, turn
        kept = db.execute(
            select(SharedCase.source_id, *SHARED_COLUMNS).where(SharedCase.team_id == police)
        ).tuples()
        assert sorted(kept) == sorted(
            db.execute(select(Source.id, *ORDER_COLUMNS).where(Source.id.in_(shared))).tuples()
        )
