"""The same deletion, asked for several times at once, over real HTTP against gunicorn.

A client that retries, or two staff members acting together, may send identical DELETEs at
the same moment: each must be answered (200, or 404 once the item is gone), never a 500.
"""

from __future__ import annotations

from functools import partial

import requests
from sqlalchemy import select

from seethesigns.db import make_engine, make_session_factory
from seethesigns.models import Source
from tests.conftest import at_once
from tests.integration.conftest import LiveInstance
from tests.integration.test_api import Client, client_for, report

AT_ONCE = 4
ROUNDS = 3


def delete(client: Client, path: str) -> int:
    """DELETE an API path on a connection of its own; the status code."""
    with requests.Session() as http:
        http.headers.update(client.http.headers)
        return http.delete(client.base + path, timeout=30).status_code


def stored_files(live: LiveInstance, source_uuid: str) -> list[str]:
    """The names of a source's files in the store."""
    engine = make_engine(live.settings.database_url)
    with make_session_factory(engine)() as db:
        filesystem_id = db.scalar(select(Source.filesystem_id).where(Source.uuid == source_uuid))
    engine.dispose()
    assert filesystem_id is not None
    folder = live.settings.store_dir / filesystem_id
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_identical_deletes_at_once_are_all_answered(live: LiveInstance) -> None:
    client, _ = client_for(live)
    log_start = live.journalist.log.stat().st_size
    for _ in range(ROUNDS):
        report(live)  # a new source with a message and a document
        sources = client.call("GET", "/sources").json()["sources"]
        source = next(s for s in sources if s["number_of_messages"] + s["number_of_documents"])
        path = f"/sources/{source['uuid']}"
        first = client.call("GET", f"{path}/submissions").json()["submissions"][0]
        one = first["submission_url"].removeprefix("/api/v1")

        codes = at_once(AT_ONCE, partial(delete, client, one))
        assert set(codes) <= {200, 404} and 200 in codes, codes
        assert client.call("GET", one).status_code == 404
        assert len(stored_files(live, source["uuid"])) == 1

        codes = at_once(AT_ONCE, partial(delete, client, f"{path}/conversation"))
        assert codes == [200] * AT_ONCE
        assert client.call("GET", f"{path}/submissions").json()["submissions"] == []
        assert stored_files(live, source["uuid"]) == []
    with live.journalist.log.open("rb") as log:
        log.seek(log_start)
        assert b"Traceback" not in log.read()
