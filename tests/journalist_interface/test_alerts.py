"""Issue 13 on the staff side: urgent sources first, the acknowledge banner, each staff
member's own alert address (re-authenticated, with CSRF), and the admin's batch interval."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from journalist_interface.list_query import ListQuery
from journalist_interface.source_list import source_page
from seethesigns.alerts.outbox import note_report
from seethesigns.instance_settings import alert_batch_minutes
from seethesigns.models import AlertEvent, Source, Submission
from seethesigns.settings import Settings
from seethesigns.staff_accounts import NewStaff
from seethesigns.storage import Store
from seethesigns.submissions import delete_submission
from tests.journalist_interface.conftest import page_of, stored, submit
from tests.journalist_interface.test_account import reauthed  # noqa: F401 (a fixture)
from tests.journalist_interface.test_inbox import add_source
from tests.journalist_interface.test_source_list import names


def mark_urgent(db: Session, source: Source) -> None:
    """As an urgent report from this source would have left it."""
    for item in db.scalars(select(Submission).where(Submission.source_id == source.id)):
        item.urgent = True
    source.urgent = True
    db.commit()


def test_urgent_sources_come_first_then_starred_then_latest(
    open_db: sessionmaker[Session], alice: NewStaff
) -> None:
    with open_db() as db:
        sources = [add_source(db, n, items=["1-msg"], starred=n == 4) for n in range(60)]
        mark_urgent(db, sources[2])
        mark_urgent(db, sources[7])
        first = source_page(db, alice.staff, ListQuery())
        assert names(first)[:4] == ["source 7", "source 2", "source 4", "source 59"]
        assert [row.designation for row in first.urgent] == ["source 7", "source 2"]
        assert [row.designation for row in first.starred] == ["source 4"]
        second = source_page(db, alice.staff, ListQuery(after=first.older))
        listed = names(first) + names(second)
        assert len(listed) == len(set(listed)) == 60  # paging crosses the urgent part once


def test_the_list_shows_urgent_sources_under_their_own_heading(
    open_db: sessionmaker[Session], logged_in: FlaskClient
) -> None:
    with open_db() as db:
        add_source(db, 1, items=["1-msg"])
        mark_urgent(db, add_source(db, 2, items=["1-msg"]))
    page = page_of(logged_in, "/")
    assert page.index("Marked urgent by the young person") < page.index(">source 2<")
    assert page.index(">source 2<") < page.index("Other sources") < page.index(">source 1<")


def test_deleting_the_urgent_item_takes_the_source_off_the_top(
    open_db: sessionmaker[Session], settings: Settings
) -> None:
    store = Store(settings.store_dir)
    with open_db() as db:
        source = add_source(db, 1, items=["1-msg", "2-msg"], designation="gentle otter")
        mark_urgent(db, source)
        first, second = db.scalars(select(Submission).order_by(Submission.id)).all()
        second.urgent = False
        db.commit()
        delete_submission(db, store, source, second)
        assert db.get(Source, source.id).urgent is True  # type: ignore[union-attr]
        delete_submission(db, store, source, first)
        assert db.get(Source, source.id).urgent is False  # type: ignore[union-attr]


def test_the_api_lists_urgent_sources_first(
    open_db: sessionmaker[Session], journalist_client: FlaskClient, alice: NewStaff
) -> None:
    from tests.journalist_interface.api.conftest import auth, token_of

    with open_db() as db:
        sources = [add_source(db, n, items=["1-msg"]) for n in range(3)]
        for source in sources:
            source.interaction_count = 1
        db.commit()
        mark_urgent(db, sources[1])
        uuids = [s.uuid for s in sources]
    response = journalist_client.get(
        "/api/v1/sources", headers=auth(token_of(journalist_client, alice))
    )
    listed = [s["uuid"] for s in response.get_json()["sources"]]
    assert listed == [uuids[1], uuids[0], uuids[2]]


def test_the_banner_shows_until_someone_acknowledges(
    open_db: sessionmaker[Session], logged_in: FlaskClient, alice: NewStaff
) -> None:
    assert "stop the alert" not in page_of(logged_in, "/")
    with open_db() as db:
        note_report(db, urgent=True)
        db.commit()
    assert "stop the alert" in page_of(logged_in, "/")
    assert logged_in.post("/alerts/acknowledge").status_code == 400  # no CSRF token
    assert "stop the alert" in page_of(logged_in, "/")
    response = submit(logged_in, "/", "/alerts/acknowledge")
    assert response.status_code == 302
    assert "The urgent alert has stopped" in page_of(logged_in, response.headers["Location"])
    with open_db() as db:
        event = db.scalars(select(AlertEvent)).one()
        assert event.acknowledged_by == alice.staff.id and event.acknowledged_at is not None


def test_choosing_alerts_needs_a_recent_re_authentication(logged_in: FlaskClient) -> None:
    response = submit(
        logged_in,
        "/account",
        "/account/alerts",
        alerts_enabled="1",
        alert_address="alice@example.org",
    )
    assert response.headers["Location"] == "/reauthenticate"


def test_each_staff_member_chooses_their_own_alerts(
    reauthed: FlaskClient,  # noqa: F811
    open_db: sessionmaker[Session],
) -> None:
    assert 'id="alert_address"' in page_of(reauthed, "/account")
    response = submit(
        reauthed, "/account", "/account/alerts", alerts_enabled="1", alert_address=" a@b.org "
    )
    assert response.status_code == 302
    account = stored(open_db, "alice")
    assert account.alerts_enabled and account.alert_address == "a@b.org"
    for bad in ("nobody", "a@b.org\r\nBcc: x@y.org", "a@b.org, c@d.org", "<a@b.org>"):
        response = submit(
            reauthed, "/account", "/account/alerts", alerts_enabled="1", alert_address=bad
        )
        assert response.status_code == 400, bad
        assert "Not saved" in response.get_data(as_text=True)
    assert stored(open_db, "alice").alert_address == "a@b.org"
    response = submit(reauthed, "/account", "/account/alerts", alert_address="")
    assert response.status_code == 302
    account = stored(open_db, "alice")
    assert not account.alerts_enabled and account.alert_address is None


@pytest.mark.parametrize("value", ["0", "1441", "soon", ""])
def test_the_admin_sets_the_batch_interval_within_bounds(
    as_admin: FlaskClient, open_db: sessionmaker[Session], value: str
) -> None:
    assert "Gather other reports for" in page_of(as_admin, "/admin/alerts")
    assert (
        submit(as_admin, "/admin/alerts", "/admin/alerts", batch_minutes=value).status_code == 400
    )
    response = submit(as_admin, "/admin/alerts", "/admin/alerts", batch_minutes="30")
    assert response.status_code == 302
    with open_db() as db:
        assert alert_batch_minutes(db) == 30


def test_only_admins_set_the_batch_interval(logged_in: FlaskClient) -> None:
    assert logged_in.get("/admin/alerts").status_code in (302, 403, 404)


@pytest.mark.sqlite_only  # reads SQLite's query plan
def test_the_list_reads_urgent_first_from_its_index_without_sorting(
    open_db: sessionmaker[Session], alice: NewStaff
) -> None:
    with open_db() as db:
        for n in range(30):
            add_source(db, n, items=["1-msg"], starred=n % 7 == 0)
        engine = db.get_bind()
        seen: list[tuple[str, object]] = []

        def keep(
            _conn: object, _cursor: object, statement: str, params: object, *_: object
        ) -> None:
            seen.append((statement, params))

        event.listen(engine, "before_cursor_execute", keep)
        try:
            page = source_page(db, alice.staff, ListQuery())
            source_page(db, alice.staff, ListQuery(after=page.older))
        finally:
            event.remove(engine, "before_cursor_execute", keep)
        # One walk of the team's part of the list a page (issue 14), on the team index.
        listing = [
            (s, p) for s, p in seen if "ORDER BY sources.urgent" in s and "sources.team_id = " in s
        ]
        assert len(listing) == 2
        for statement, params in listing:
            plan = " | ".join(
                str(row[-1])
                for row in db.connection().exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + statement,
                    params,  # type: ignore[arg-type]
                )
            )
            assert "ix_sources_team_order" in plan, plan
            assert "TEMP B-TREE" not in plan, plan
