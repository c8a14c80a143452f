"""Etags on /sources, /submissions and /replies: a 304 for an unchanged list (issue 16)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.test import TestResponse

from seethesigns.models import Source, Staff, Team
from seethesigns.settings import Settings
from seethesigns.staff_accounts import NewStaff, rename
from seethesigns.staff_admin import delete_staff
from seethesigns.teams.handover import hand_over
from tests.conftest import OfflineKey
from tests.journalist_interface.api.conftest import API, ApiClient, auth, token_of
from tests.journalist_interface.api.test_replies import post_reply
from tests.journalist_interface.api.test_seen import message_and_file
from tests.journalist_interface.conftest import (
    Mash,
    Reported,
    add_shared_copy,
    add_staff,
    send_follow_up,
)

LISTS = ("sources", "submissions", "replies")


def etag_of(response: TestResponse) -> str:
    """The validator, read as securedrop-sdk reads headers: a plain dict, "Etag"."""
    tag: str = dict(response.headers)["Etag"]
    return tag


def tags(api: ApiClient) -> dict[str, str]:
    """The Etag of each list, fetched in full."""
    found = {}
    for kind in LISTS:
        response = api.get(f"/{kind}")
        assert response.status_code == 200
        assert kind in response.get_json()
        found[kind] = etag_of(response)
    return found


def revalidate(api: ApiClient, kind: str, tag: str) -> TestResponse:
    """GET a list with If-None-Match."""
    headers = {"If-None-Match": tag, **auth(api.token)}
    return api.client.get(f"{API}/{kind}", headers=headers)


def assert_unchanged(api: ApiClient, before: dict[str, str]) -> None:
    """Each list answers its Etag with an empty 304 that repeats the Etag."""
    for kind, tag in before.items():
        response = revalidate(api, kind, tag)
        assert response.status_code == 304, kind
        assert response.get_data() == b""
        assert etag_of(response) == tag


def assert_changed(api: ApiClient, before: dict[str, str]) -> dict[str, str]:
    """Each list answers its old Etag with the full list and a new Etag; returns the new ones."""
    after = {}
    for kind, tag in before.items():
        response = revalidate(api, kind, tag)
        assert response.status_code == 200, kind
        assert kind in response.get_json()
        after[kind] = etag_of(response)
        assert after[kind] != tag, kind
    return after


def test_an_unchanged_list_is_an_empty_304_and_a_stale_tag_gets_the_list(
    api: ApiClient, reported: Reported
) -> None:
    before = tags(api)
    assert all(tag.startswith('"') and tag.endswith('"') for tag in before.values())  # strong
    assert len(set(before.values())) == 3  # one list's tag never answers another
    assert_unchanged(api, before)
    assert tags(api) == before  # the same rows give the same tag
    for kind in LISTS:
        for stale in (
            '"0123456789abcdef0123456789abcdef"',
            before["sources" if kind != "sources" else "replies"],
        ):
            response = revalidate(api, kind, stale)
            assert response.status_code == 200
            assert response.get_json()[kind] == api.get(f"/{kind}").get_json()[kind]
    # Several tags, a weak one, and "*" as RFC 9110 allows.
    assert revalidate(api, "sources", f'"x", W/{before["sources"]}').status_code == 304
    assert revalidate(api, "sources", "*").status_code == 304


def test_every_kind_of_change_gives_a_new_tag(
    api: ApiClient,
    root: NewStaff,
    reported: Reported,
    source_client: FlaskClient,
    journalist_client: FlaskClient,
    offline_key: OfflineKey,
    open_db: sessionmaker[Session],
    settings: Settings,
) -> None:
    bob = add_staff(open_db, settings, "bob")
    as_bob = ApiClient(journalist_client, token_of(journalist_client, bob))
    message, document = message_and_file(open_db)

    def step(change: Callable[[], object]) -> None:
        nonlocal now
        assert_unchanged(api, now)
        change()
        now = assert_changed(api, now)

    now = tags(api)
    step(lambda: send_follow_up(source_client))  # the young person writes again
    step(lambda: api.post(f"/sources/{reported.uuid}/add_star"))
    step(lambda: api.delete(f"/sources/{reported.uuid}/remove_star"))
    step(lambda: as_bob.post("/seen", json={"messages": [message]}))  # seen by someone else
    reply = post_reply(api, reported, "we are here", offline_key)
    now = assert_changed(api, now)
    step(lambda: as_bob.post("/seen", json={"replies": [reply]}))
    with open_db() as db:
        staff = db.get(Staff, bob.staff.id)
        assert staff is not None
        step(lambda: rename(db, staff, "Bob B."))
    step(lambda: api.delete(f"/sources/{reported.uuid}/submissions/{document}"))
    step(lambda: api.delete(f"/sources/{reported.uuid}/replies/{reply}"))
    with open_db() as db:
        admin = db.get(Staff, root.staff.id)
        gone = db.get(Staff, bob.staff.id)
        assert admin is not None and gone is not None
        step(lambda: delete_staff(db, admin, gone))  # bob's seen marks go with him
    # Whatever writes the row, not only this app: the database itself replaces the token.
    with open_db() as db:
        step(lambda: (db.execute(text("UPDATE sources SET interaction_count = 7")), db.commit()))
    step(lambda: api.delete(f"/sources/{reported.uuid}/conversation"))
    step(lambda: api.delete(f"/sources/{reported.uuid}"))
    assert api.get("/sources").get_json() == {"sources": []}


def test_a_login_changes_no_tag(
    api: ApiClient,
    reported: Reported,
    journalist_client: FlaskClient,
    open_db: sessionmaker[Session],
    settings: Settings,
) -> None:
    bob = add_staff(open_db, settings, "bob")
    before = tags(api)
    token_of(journalist_client, bob)  # writes bob's last login and TOTP step, not his name
    assert_unchanged(api, before)


def team_api(journalist_app: Flask, account: NewStaff) -> ApiClient:
    """An API client with this account's token."""
    client = journalist_app.test_client()
    return ApiClient(client, token_of(client, account))


def test_each_team_has_its_own_tags_and_a_handover_or_share_changes_them(
    journalist_app: Flask, mash: Mash, open_db: sessionmaker[Session]
) -> None:
    fiona, paul = team_api(journalist_app, mash.fiona), team_api(journalist_app, mash.paul)
    hana = team_api(journalist_app, mash.hana)
    front, police, health = tags(fiona), tags(paul), tags(hana)
    assert paul.get("/sources").get_json() == {"sources": []}
    for kind in LISTS:
        # Other rows, another tag: fiona's tag is no use to paul, nor his to her.
        assert front[kind] != police[kind]
        assert revalidate(paul, kind, front[kind]).status_code == 200
        assert revalidate(fiona, kind, police[kind]).status_code == 200
    with open_db() as db:  # a copy shared with the police, as store_shared_copies stores it
        add_shared_copy(db, mash.police)
    police = assert_changed(paul, police)
    assert [s["uuid"] for s in paul.get("/sources").get_json()["sources"]] == [mash.source]
    front = assert_changed(fiona, front)
    health = assert_changed(hana, health)
    with open_db() as db:
        source = db.scalars(select(Source)).one()
        team = db.get(Team, mash.health.id)
        assert team is not None
        hand_over(db, source, team)
    for api, before in ((fiona, front), (paul, police), (hana, health)):
        assert_changed(api, before)
    assert hana.get("/replies").get_json()["replies"] != []
    assert fiona.get("/sources").get_json() == {"sources": []}


def test_joining_a_team_changes_the_tags_without_any_case_changing(
    journalist_app: Flask, mash: Mash, open_db: sessionmaker[Session]
) -> None:
    paul = team_api(journalist_app, mash.paul)
    before = tags(paul)
    with open_db() as db:
        db.execute(update(Staff).where(Staff.id == mash.paul.staff.id).values(is_admin=True))
        db.commit()
    assert_changed(paul, before)
