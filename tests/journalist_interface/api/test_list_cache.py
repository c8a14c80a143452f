"""The bodies of synced lists kept by Etag: sent again as they are, never stale (issue 16)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from journalist_interface.api.list_cache import EXTENSION, ListCache
from seethesigns.models import Submission
from tests.journalist_interface.api.conftest import ApiClient
from tests.journalist_interface.api.test_sync import LISTS, etag_of
from tests.journalist_interface.conftest import Reported


def test_a_repeat_is_the_kept_body_and_a_change_is_never_served_stale(
    api: ApiClient, reported: Reported, journalist_app: Flask, open_db: sessionmaker[Session]
) -> None:
    cache: ListCache = journalist_app.extensions[EXTENSION]
    first = {kind: api.get(f"/{kind}") for kind in LISTS}
    # Not the sources: they keep each source's part (test_source_fragments.py).
    kept = [response.get_data() for kind, response in first.items() if kind != "sources"]
    assert cache.size == sum(map(len, kept))
    for kind, response in first.items():
        again = api.get(f"/{kind}")
        assert again.get_data() == response.get_data()
        assert etag_of(again) == etag_of(response)
    # What is sent is what is kept under the Etag: a planted body comes back as it is.
    planted = b'{"submissions":[]}\n'
    cache.put(etag_of(first["submissions"]), planted)
    assert api.get("/submissions").get_data() == planted
    assert len(first["submissions"].get_json()["submissions"]) == 2
    with open_db() as db:  # a change made beside the app, as another server would make it
        db.execute(delete(Submission).where(Submission.filename.endswith("-doc.gz.gpg")))
        db.commit()
    changed = api.get("/submissions")
    assert etag_of(changed) != etag_of(first["submissions"])
    assert len(changed.get_json()["submissions"]) == 1


def test_the_least_recently_used_body_goes_first_and_none_exceeds_the_budget() -> None:
    cache = ListCache(budget=100)
    cache.put('"a"', b"a" * 40)
    cache.put('"b"', b"b" * 40)
    assert cache.get('"a"') == b"a" * 40  # now a is the more recently used
    cache.put('"c"', b"c" * 40)
    assert cache.get('"b"') is None
    assert cache.get('"a"') == b"a" * 40 and cache.get('"c"') == b"c" * 40
    assert cache.size == 80
    cache.put('"d"', b"d" * 101)  # larger than the whole budget: not kept, nothing dropped
    assert cache.get('"d"') is None and cache.size == 80
    cache.put('"a"', b"A" * 10)  # the same tag again replaces, counted once
    assert cache.size == 50
