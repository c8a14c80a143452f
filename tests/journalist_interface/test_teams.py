"""Teams (issue 14): a police-team account reaches no case it does not own, in the web UI or
the Journalist API; a shared case shows only its shared copies; a handover moves everything.

Every route whose URL names a source is enumerated from app.url_map, as the route-guard tests
do, and sent the form or body that would act; the database and the store must not change.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.models import AuditEntry, Source, Submission
from seethesigns.settings import Settings
from seethesigns.submissions import submit
from seethesigns.teams.membership import create_team
from seethesigns.web.setup import EXTENSION, Services
from tests.conftest import OfflineKey, SpareKeys, csrf_token
from tests.journalist_interface.api.conftest import API, auth, token_of
from tests.journalist_interface.conftest import Mash, client_of, page_of
from tests.journalist_interface.test_route_guards import PLACEHOLDER, snapshot

# What a form or body would need to act, for each endpoint that takes one.
FORMS: dict[str, dict[str, Any]] = {
    "sources.reply": {"message": "a reply that must not be sent"},
    "sources.delete": {"confirm": "yes"},
    "cases.update": {"status": "closed", "assignee": "", "note": "changed"},
    "cases.label": {"label": "taken"},
    "cases.unlabel": {"label": "county lines"},
    "bulk.items": {"action": "delete", "confirm": "yes"},
    "case_teams.handover": {"confirm": "yes"},
    "case_teams.share": {"package": (io.BytesIO(b"PK"), "p.zip")},
}
# Every route on a case a team member must be refused on, at the least.
MIN_WEB = frozenset(
    {
        "sources.source",
        "sources.reply",
        "sources.delete",
        "items.download",
        "items.seen",
        "items.unseen",
        "items.delete",
        "cases.update",
        "cases.label",
        "cases.unlabel",
        "bulk.items",
        "case_teams.handover",
        "case_teams.share",
    }
)
MIN_API = frozenset(
    {
        ("GET", f"{API}/sources/<source_uuid>"),
        ("DELETE", f"{API}/sources/<source_uuid>"),
        ("GET", f"{API}/sources/<source_uuid>/submissions"),
        ("GET", f"{API}/sources/<source_uuid>/submissions/<submission_uuid>"),
        ("GET", f"{API}/sources/<source_uuid>/submissions/<submission_uuid>/download"),
        ("GET", f"{API}/sources/<source_uuid>/replies"),
        ("POST", f"{API}/sources/<source_uuid>/replies"),
        ("GET", f"{API}/sources/<source_uuid>/replies/<reply_uuid>/download"),
        ("POST", f"{API}/sources/<source_uuid>/star"),
        ("DELETE", f"{API}/sources/<source_uuid>/conversation"),
    }
)


@dataclass(frozen=True)
class CaseRoute:
    """One method of one rule that names a source, with its placeholders filled in."""

    method: str
    rule: str
    endpoint: str
    path: str


def case_routes(app: Flask, values: dict[str, str]) -> Iterator[CaseRoute]:
    """Every method of every rule whose URL names a source."""
    for rule in app.url_map.iter_rules():
        if "<source_uuid>" not in rule.rule:
            continue
        path = PLACEHOLDER.sub(lambda match: values[match.group(1)], rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield CaseRoute(method, rule.rule, rule.endpoint, path)


def test_a_police_account_reaches_no_case_it_does_not_own(
    journalist_app: Flask,
    journalist_client: FlaskClient,
    mash: Mash,
    open_db: sessionmaker[Session],
    settings: Settings,
) -> None:
    as_paul = client_of(journalist_app, mash.paul)
    token = token_of(journalist_client, mash.paul, at=time.time() + 30)
    form_token = csrf_token(page_of(as_paul, "/"))
    before = snapshot(open_db, settings)
    checked_web, checked_api = set(), set()
    for route in case_routes(journalist_app, mash.placeholders(mash.police.uuid)):
        if route.rule.startswith(f"{API}/"):
            body = {"reply": mash.encrypted_reply} if route.endpoint.endswith("replies") else None
            response = journalist_client.open(
                route.path, method=route.method, json=body, headers=auth(token)
            )
            checked_api.add((route.method, route.rule))
        else:
            form = {"csrf_token": form_token, **FORMS.get(route.endpoint, {})}
            if route.endpoint == "bulk.items":
                form["item"] = [mash.document]
            if route.endpoint in ("case_teams.handover", "case_teams.share"):
                form["team"] = mash.police.uuid
            response = as_paul.open(route.path, method=route.method, data=form)
            checked_web.add(route.endpoint)
        # Not 403: for them the case does not exist, as for a uuid nobody was given.
        assert response.status_code == 404, (route, response.status_code)
    assert checked_web >= MIN_WEB
    assert checked_api >= MIN_API
    assert snapshot(open_db, settings) == before


def test_lists_and_exports_leave_out_other_teams_cases(
    journalist_app: Flask, journalist_client: FlaskClient, mash: Mash
) -> None:
    as_paul = client_of(journalist_app, mash.paul)
    as_fiona = client_of(journalist_app, mash.fiona)
    assert mash.designation in page_of(as_fiona, "/")
    assert mash.designation not in page_of(as_paul, "/")
    assert "No sources" in page_of(as_paul, "/") or "Nothing" in page_of(as_paul, "/")
    token = token_of(journalist_client, mash.paul, at=time.time() + 30)
    for kind in ("sources", "submissions", "replies"):
        listed = journalist_client.get(f"{API}/{kind}", headers=auth(token)).get_json()
        assert listed == {kind: []}, kind
    fiona_token = token_of(journalist_client, mash.fiona, at=time.time() + 30)
    fiona_sources = journalist_client.get(f"{API}/sources", headers=auth(fiona_token)).get_json()
    assert [found["uuid"] for found in fiona_sources["sources"]] == [mash.source]
    # Marking another team's items seen through the API: they are not found.
    response = journalist_client.post(
        f"{API}/seen", json={"messages": [mash.message]}, headers=auth(token)
    )
    assert response.status_code == 404
    # The "everything unread" zip holds nothing of another team's.
    form = {"csrf_token": csrf_token(page_of(as_paul, "/"))}
    unread = as_paul.post("/bulk/unread", data=form)
    assert unread.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(unread.get_data())).namelist() == []
    ticked = as_paul.post(
        "/bulk/sources", data={**form, "action": "download", "source": [mash.source]}
    )
    assert ticked.status_code in (200, 302)
    if ticked.status_code == 200:
        assert zipfile.ZipFile(io.BytesIO(ticked.get_data())).namelist() == []


def share_for_police(
    journalist_app: Flask, open_db: sessionmaker[Session], mash: Mash, spare_keys: SpareKeys
) -> str:
    """A shared copy of the message for Police liaison, stored as an upload would store it."""
    found: Services = journalist_app.extensions[EXTENSION]
    with open_db() as db:
        source = db.scalars(select(Source).where(Source.uuid == mash.source)).one()
        name = f"{source.interaction_count + 1}-shared-msg.gpg"
        with found.store.arriving(source.filesystem_id, name) as partial:
            found.gpg.encrypt_to_submission_key(
                b"what the police may read", partial, [spare_keys.second.fingerprint]
            )
        path = found.store.path(source.filesystem_id, name)
        copy = Submission(
            source_id=source.id,
            filename=name,
            size=path.stat().st_size,
            checksum="sha256:0",
            shared_with_team_id=mash.police.id,
        )
        source.interaction_count += 1
        db.add(copy)
        db.commit()
        return copy.uuid


def test_a_shared_case_shows_the_police_only_their_copies(
    journalist_app: Flask,
    journalist_client: FlaskClient,
    mash: Mash,
    open_db: sessionmaker[Session],
    settings: Settings,
    spare_keys: SpareKeys,
) -> None:
    copy = share_for_police(journalist_app, open_db, mash, spare_keys)
    as_paul = client_of(journalist_app, mash.paul)
    assert mash.designation in page_of(as_paul, "/")
    page = page_of(as_paul, f"/sources/{mash.source}")
    assert copy in page and mash.message not in page and mash.reply not in page
    assert "You see only the copies shared with your team" in page
    assert "Send reply" not in page and "Delete source" not in page
    downloaded = as_paul.get(f"/sources/{mash.source}/items/{copy}/download")
    body = downloaded.get_data()
    downloaded.close()
    assert spare_keys.second.decrypt(body) == b"what the police may read"
    assert as_paul.get(f"/sources/{mash.source}/items/{mash.message}/download").status_code == 404
    # Visible but not theirs to work: every owner-only action is forbidden, and changes nothing.
    before = snapshot(open_db, settings)
    token = csrf_token(page)
    for path, form in (
        (f"/sources/{mash.source}/reply", {"message": "from the police"}),
        (f"/sources/{mash.source}/delete", {"confirm": "yes"}),
        (f"/sources/{mash.source}/case", {"status": "closed", "assignee": "", "note": "x"}),
        (f"/sources/{mash.source}/handover", {"team": mash.police.uuid, "confirm": "yes"}),
        (f"/sources/{mash.source}/items/{copy}/delete", {}),
    ):
        response = as_paul.post(path, data={"csrf_token": token, **form})
        assert response.status_code == 403, path
    assert snapshot(open_db, settings) == before
    # The API says the same.
    api_token = token_of(journalist_client, mash.paul, at=time.time() + 30)
    sources = journalist_client.get(f"{API}/sources", headers=auth(api_token)).get_json()
    assert [(s["uuid"], s["number_of_messages"]) for s in sources["sources"]] == [(mash.source, 1)]
    items = journalist_client.get(f"{API}/submissions", headers=auth(api_token)).get_json()
    assert [item["uuid"] for item in items["submissions"]] == [copy]
    replies = journalist_client.get(f"{API}/replies", headers=auth(api_token)).get_json()
    assert replies == {"replies": []}
    posted = journalist_client.post(
        f"{API}/sources/{mash.source}/replies",
        json={"reply": mash.encrypted_reply},
        headers=auth(api_token),
    )
    assert posted.status_code == 403
    # Health still sees nothing; the front door does not list the police's copy as its own.
    as_hana = client_of(journalist_app, mash.hana)
    assert as_hana.get(f"/sources/{mash.source}").status_code == 404
    front = page_of(client_of(journalist_app, mash.fiona), f"/sources/{mash.source}")
    assert copy not in front and "Shared with Police liaison (1 copy)" in front


def test_a_handover_moves_the_case_and_new_items_go_to_the_new_teams_keys(
    journalist_app: Flask,
    mash: Mash,
    open_db: sessionmaker[Session],
    offline_key: OfflineKey,
    spare_keys: SpareKeys,
) -> None:
    as_fiona = client_of(journalist_app, mash.fiona)
    page = page_of(as_fiona, f"/sources/{mash.source}")
    form = {"csrf_token": csrf_token(page), "team": mash.police.uuid}
    unconfirmed = as_fiona.post(f"/sources/{mash.source}/handover", data=form)
    assert unconfirmed.status_code == 400 and "tick the box" in unconfirmed.get_data(as_text=True)
    done = as_fiona.post(f"/sources/{mash.source}/handover", data={**form, "confirm": "yes"})
    assert done.status_code == 302
    assert as_fiona.get(f"/sources/{mash.source}").status_code == 404
    as_paul = client_of(journalist_app, mash.paul)
    assert mash.message in page_of(as_paul, f"/sources/{mash.source}")
    with open_db() as db:
        entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "case.handover")).one()
        assert entry.staff_username == "fiona"
        assert "Front door" in entry.detail and "Police liaison" in entry.detail
        source = db.scalars(select(Source).where(Source.uuid == mash.source)).one()
        found: Services = journalist_app.extensions[EXTENSION]
        (later,) = submit(db, found.store, found.gpg, source, "after the handover", [])
        ciphertext = found.store.path(source.filesystem_id, later.filename).read_bytes()
    assert spare_keys.second.opens(ciphertext)
    assert not offline_key.opens(ciphertext) and not spare_keys.on_call.opens(ciphertext)


def test_a_handover_to_a_team_without_a_key_is_refused(
    journalist_app: Flask, mash: Mash, open_db: sessionmaker[Session]
) -> None:
    with open_db() as db:
        schools = create_team(db, "Schools")
    as_fiona = client_of(journalist_app, mash.fiona)
    page = page_of(as_fiona, f"/sources/{mash.source}")
    response = as_fiona.post(
        f"/sources/{mash.source}/handover",
        data={"csrf_token": csrf_token(page), "team": schools.uuid, "confirm": "yes"},
    )
    assert response.status_code == 400
    assert "Schools has no active key" in response.get_data(as_text=True)
    assert mash.message in page_of(as_fiona, f"/sources/{mash.source}")
