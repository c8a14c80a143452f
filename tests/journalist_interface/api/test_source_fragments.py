"""The source list built from each source's kept JSON: the same bytes, never stale (issue 16)."""

from __future__ import annotations

import json

from flask import Flask
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from journalist_interface.api.list_cache import EXTENSION as LIST_CACHE
from journalist_interface.api.list_cache import ListCache
from journalist_interface.api.records import source_records
from journalist_interface.api.representations import source_json
from journalist_interface.api.source_fragments import EXTENSION, SourceFragments
from seethesigns.models import Source, Staff, Submission
from seethesigns.staff_accounts import NewStaff
from seethesigns.teams.reach import Reach
from tests.journalist_interface.api.conftest import API, ApiClient
from tests.journalist_interface.api.test_sync import team_api
from tests.journalist_interface.conftest import Mash, add_shared_copy

BASE = API + "/sources"


def whole_list(open_db: sessionmaker[Session], account: NewStaff) -> bytes:
    """The list encoded at once, as it was before sources' JSON was kept."""
    with open_db() as db:
        staff = db.get(Staff, account.staff.id)
        assert staff is not None
        found = [source_json(record, BASE) for record in source_records(db, Reach.of(db, staff))]
    return json.dumps({"sources": found}, separators=(",", ":"), sort_keys=True).encode() + b"\n"


def fresh_list(app: Flask, api: ApiClient) -> bytes:
    """The list, built now: the bodies kept by Etag are emptied first."""
    app.extensions[LIST_CACHE] = ListCache()
    response = api.get("/sources")
    assert response.status_code == 200
    return response.get_data()


def test_each_team_gets_the_bytes_of_the_whole_list_encoded_at_once(
    journalist_app: Flask, mash: Mash, open_db: sessionmaker[Session]
) -> None:
    with open_db() as db:
        add_shared_copy(db, mash.police)
    fiona, paul = team_api(journalist_app, mash.fiona), team_api(journalist_app, mash.paul)
    for _ in range(2):  # made, then from what was kept
        for account, api in ((mash.fiona, fiona), (mash.paul, paul)):
            assert fresh_list(journalist_app, api) == whole_list(open_db, account)
    # The police see only the shared copy (the owner, only the originals): other counts.
    [front] = json.loads(whole_list(open_db, mash.fiona))["sources"]
    [police] = json.loads(whole_list(open_db, mash.paul))["sources"]
    counts = ("number_of_messages", "number_of_documents")
    assert [front[n] for n in counts] == [1, 1] and [police[n] for n in counts] == [1, 0]
    with open_db() as db:
        db.execute(
            update(Source).values(is_starred=True, interaction_count=Source.interaction_count + 1)
        )
        db.commit()
    for account, api in ((mash.fiona, fiona), (mash.paul, paul)):
        assert fresh_list(journalist_app, api) == whole_list(open_db, account)
        assert json.loads(fresh_list(journalist_app, api))["sources"][0]["is_starred"] is True


def test_kept_json_is_used_while_its_stamp_holds_and_remade_when_it_changes(
    journalist_app: Flask, mash: Mash, open_db: sessionmaker[Session]
) -> None:
    fiona = team_api(journalist_app, mash.fiona)
    fragments: SourceFragments = journalist_app.extensions[EXTENSION]
    before = fresh_list(journalist_app, fiona)
    assert fragments.size == len(before) - len(b'{"sources":[]}\n')
    [(key, (stamp, _))] = fragments._views[(BASE, "1")].items()
    fragments._views[(BASE, "1")][key] = (stamp, b'{"planted":true}')
    assert fresh_list(journalist_app, fiona) == b'{"sources":[{"planted":true}]}\n'
    with open_db() as db:  # a new message, and nothing else of the source's row changed
        source = db.scalars(select(Source)).one()
        db.add(Submission(source_id=source.id, filename="9-x-msg.gpg", size=1, checksum="x"))
        db.commit()
    after = fresh_list(journalist_app, fiona)
    assert b"planted" not in after
    assert after == whole_list(open_db, mash.fiona)
    assert json.loads(after)["sources"][0]["number_of_messages"] == 2
    with open_db() as db:  # and it is removed again
        db.execute(delete(Submission).where(Submission.filename == "9-x-msg.gpg"))
        db.commit()
    assert json.loads(fresh_list(journalist_app, fiona))["sources"][0]["number_of_messages"] == 1


def test_nothing_kept_beyond_the_budget_and_the_list_is_whole_all_the_same(
    journalist_app: Flask, mash: Mash, open_db: sessionmaker[Session]
) -> None:
    journalist_app.extensions[EXTENSION] = SourceFragments(budget=10)
    fiona = team_api(journalist_app, mash.fiona)
    assert fresh_list(journalist_app, fiona) == whole_list(open_db, mash.fiona)
    assert journalist_app.extensions[EXTENSION].size == 0


def test_urgent_sources_come_first_then_the_rest_by_id(
    api: ApiClient, alice: NewStaff, journalist_app: Flask, open_db: sessionmaker[Session]
) -> None:
    with open_db() as db:
        for n in range(1, 5):
            db.add(
                Source(
                    filesystem_id=f"fs{n}",
                    designation=f"source {n}",
                    pgp_fingerprint=f"F{n}",
                    pgp_public_key=f"key {n}",
                    pgp_secret_key="",
                    interaction_count=1,
                    urgent=n in (2, 4),
                    team_id=1,
                )
            )
        db.commit()
    body = fresh_list(journalist_app, api)
    listed = [source["journalist_designation"] for source in json.loads(body)["sources"]]
    assert listed == ["source 2", "source 4", "source 1", "source 3"]
    assert body == whole_list(open_db, alice)
    assert fresh_list(journalist_app, api) == body  # and again from what was kept
