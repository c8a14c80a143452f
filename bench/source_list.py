"""Benchmark: the staff source list at 100 sources and at 50,000 (with 200,000 submissions).

SecureDrop's list of all sources grew too slow with many sources (its issue #5183). Here a
page is 50 sources read by keyset from one index, with unread counts and labels for just those
50, so neither the time nor the number of SQL queries per request should grow with the number
of sources. Rows are bulk-inserted (the list never opens files); each source row carries a real
keypair so rows are their real width. Times are real HTTP requests to `seethesigns serve
journalist` under gunicorn, logged in; queries are counted in-process with the same app.

Each measured request is one function in MEASURED. GET /api/v1/sources is among them: SecureDrop's
API has no paging, so it answers every source with its ~1 KB public key; its time grows with
the size of that answer, its number of queries must not.

Teams (issue 14): the sources are split across three teams, 60 % owned by the front door, 30 %
by Police liaison and 10 % by Health, and one front-door case in 100 has a copy shared with
the police. Every request is measured as a front-door member; the list and the API also as a
police member (who sees their own cases and the shared ones) and as an admin (who sees all).
Issue 16: the API's list is also measured as a client's sync when nothing changed (it sends
back the Etag it was given: a 304 with no body), and what gzip would save on it is printed. A
repeated full fetch is sent from the bodies the app keeps by Etag; "(changed)" is the full
fetch right after a change (a source starred or unstarred, untimed), which builds the list anew.
The unread filter reads unread_sources, which the database's triggers fill as the rows are
inserted here, as they would be as reports arrive and staff read them.
Usage: python -m bench.source_list [--sources 50000] [--submissions-per-source 4]
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pyotp
import requests
from flask.testing import FlaskClient
from sqlalchemy import Engine, event, insert, not_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bench.instance import (
    SEETHESIGNS,
    activate_staff,
    free_port,
    make_instance,
    print_ratio_table,
    stop_agents,
)
from journalist_interface import create_app
from journalist_interface.list_query import Cursor
from journalist_interface.source_list import LIST_KEY, PAGE_SIZE
from seethesigns.db import engine_for, make_session_factory
from seethesigns.encryption import GpgService
from seethesigns.models import Case, CaseLabel, SeenSubmission, Source, Submission
from seethesigns.settings import Settings, load_settings
from seethesigns.staff_accounts import NewStaff, StaffAccounts
from seethesigns.teams.membership import create_team

SMALL = 100
BATCH = 5000
REPEATS = 25
START = datetime(2024, 1, 1)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Client:
    """A logged-in staff browser: real HTTP to gunicorn, or Flask's test client in-process."""

    def __init__(self, base_url: str | None = None, app_client: FlaskClient | None = None) -> None:
        self.base_url = base_url
        self.app_client = app_client
        self.http = requests.Session()
        self.tail = ""  # the cursor of the list's last page, set for each size
        self.api_token = ""  # a Journalist API token, for api_sources
        self.sources_etag = ""  # the Etag of /api/v1/sources as it is now, for api_unchanged
        self.change: Callable[[], None] = lambda: None  # a small change, for api_after_change

    def get(self, path: str, headers: dict[str, str] | None = None) -> int:
        """GET path; the status code (the body is read in full either way)."""
        if self.app_client is not None:
            return self.app_client.get(path, headers=headers).status_code
        response = self.http.get(f"{self.base_url}{path}", headers=headers, timeout=600)
        return response.status_code

    def log_in(self, staff: NewStaff, at: float) -> None:
        """Fill in the login form with the TOTP code of time `at`."""
        form = {
            "username": staff.staff.username,
            "passphrase": staff.passphrase,
            "token": pyotp.TOTP(staff.totp_secret).at(at),
        }
        if self.app_client is not None:
            page = self.app_client.get("/login").get_data(as_text=True)
            found = CSRF.search(page)
            assert found
            status = self.app_client.post("/login", data={**form, "csrf_token": found.group(1)})
            assert status.status_code == 302, status.status_code
            return
        found = CSRF.search(self.http.get(f"{self.base_url}/login", timeout=60).text)
        assert found
        response = self.http.post(
            f"{self.base_url}/login",
            data={**form, "csrf_token": found.group(1)},
            allow_redirects=False,
            timeout=60,
        )
        assert response.status_code == 302, response.status_code


def first_page(client: Client) -> int:
    """The list as staff first see it: starred, then latest activity."""
    return client.get("/")


def unread_filter(client: Client) -> int:
    """Only sources with something unread by this staff member."""
    return client.get("/?unread=1")


def rare_search(client: Client) -> int:
    """A search that matches nothing: the worst case, a scan of the whole list index."""
    return client.get("/?q=no+such+designation")


def status_filter(client: Client) -> int:
    """Only sources in review and assigned to this staff member (a third of all sources)."""
    return client.get("/?status=in_review&mine=1")


def rare_status(client: Client) -> int:
    """A status no source has: the worst case, a probe of every source's case."""
    return client.get("/?status=referred")


def last_page(client: Client) -> int:
    """The last page, which an OFFSET would make the slowest."""
    return client.get(f"/?after={client.tail}")


def api_sources(client: Client) -> int:
    """The Journalist API's list: every source with its public key (SecureDrop's has no pages)."""
    return client.get("/api/v1/sources", headers={"Authorization": f"Token {client.api_token}"})


def api_unchanged(client: Client) -> int:
    """A client's sync when nothing changed: it sends the Etag it has and gets a 304."""
    headers = {"Authorization": f"Token {client.api_token}", "If-None-Match": client.sources_etag}
    return client.get("/api/v1/sources", headers=headers)


def api_after_change(client: Client) -> int:
    """The full list right after something changed (made untimed before each): built anew.

    A repeat of the plain full fetch is sent from the bodies kept by Etag
    (journalist_interface/api/list_cache.py); this is what the first sync after a change costs.
    """
    return api_sources(client)


# The requests that succeed with a 304, not a 200.
NOT_MODIFIED = {api_unchanged}
# The requests that come right after a change, made untimed before each.
AFTER_CHANGE = {api_after_change}


def expected(request: Callable[[Client], int]) -> int:
    """The status a measured request must answer with."""
    return 304 if request in NOT_MODIFIED else 200


# What the other roles are measured on: the list as first seen, its worst filter, and the API.
BY_ROLE: list[tuple[str, Callable[[Client], int]]] = [
    ("GET / (first page)", first_page),
    ("GET /?q=<no match>", rare_search),
    ("GET /api/v1/sources", api_sources),
    ("GET /api/v1/sources (304)", api_unchanged),
    ("GET /api/v1/sources (changed)", api_after_change),
]
API_PAIR = ("GET /api/v1/sources", "GET /api/v1/sources (304)")
API_CHANGED = "GET /api/v1/sources (changed)"
POLICE, HEALTH = 2, 3  # team ids: the front door is 1, made by migration 0013
SHARED_ID = 100_000_000  # shared copies' ids start here, clear of the submissions'


def team_of(i: int) -> int:
    """The team that owns source i: 60 % front door, 30 % police, 10 % health."""
    return 1 if i % 10 < 6 else (POLICE if i % 10 < 9 else HEALTH)


MEASURED: list[tuple[str, Callable[[Client], int]]] = [
    ("GET / (first page)", first_page),
    ("GET /?unread=1", unread_filter),
    ("GET /?q=<no match>", rare_search),
    ("GET /?status=..&mine=1", status_filter),
    ("GET /?status=<none>", rare_status),
    ("GET /?after=<last page>", last_page),
    ("GET /api/v1/sources", api_sources),
    ("GET /api/v1/sources (304)", api_unchanged),
    ("GET /api/v1/sources (changed)", api_after_change),
]


def add_sources(db: Session, keys: Any, start: int, stop: int, per_source: int) -> None:
    """Insert sources start..stop-1 with per_source submissions each, some seen, some cased."""
    for first in range(start, stop, BATCH):
        ids = range(first + 1, min(stop, first + BATCH) + 1)
        db.execute(insert(Source), [_source(keys, i) for i in ids])
        db.execute(
            insert(Submission),
            [
                {
                    "id": (i - 1) * per_source + n,
                    "uuid": f"10000000-0000-4000-8000-{(i - 1) * per_source + n:012d}",
                    "source_id": i,
                    "filename": f"{n}-bench_source_{i}-msg.gpg",
                    "size": 600,
                    "checksum": "sha256:" + "0" * 64,
                    "created_at": START + timedelta(seconds=i),
                }
                for i in ids
                for n in range(1, per_source + 1)
            ],
        )
        # The bench staff member (id 1) has kept up: only one source in 500 has news for them,
        # so the unread filter must look at nearly every source to fill a page (its worst case).
        db.execute(
            insert(SeenSubmission),
            [
                {"submission_id": (i - 1) * per_source + n, "staff_id": 1}
                for i in ids
                if i % 500 != 7
                for n in range(1, per_source + 1)
            ],
        )
        # Two sources in three have a case: in review and assigned to the bench user, or closed.
        db.execute(
            insert(Case),
            [
                {
                    "source_id": i,
                    "status": "in_review" if i % 3 == 1 else "closed",
                    "assignee_id": 1,
                }
                for i in ids
                if i % 3
            ],
        )
        db.execute(insert(CaseLabel), [{"source_id": i, "label": "bench"} for i in ids if i % 5])
        # One front-door case in 100 has shared a copy with the police.
        db.execute(
            insert(Submission),
            [
                {
                    "id": SHARED_ID + i,
                    "uuid": f"20000000-0000-4000-8000-{i:012d}",
                    "source_id": i,
                    "filename": f"{per_source + 1}-bench_source_{i}-msg.gpg",
                    "size": 600,
                    "checksum": "sha256:" + "0" * 64,
                    "created_at": START + timedelta(seconds=i),
                    "shared_with_team_id": POLICE,
                }
                for i in ids
                if i % 100 == 1 and team_of(i) == 1
            ],
        )
    db.commit()


def _source(keys: Any, i: int) -> dict[str, Any]:
    return {
        "id": i,
        "uuid": f"00000000-0000-4000-8000-{i:012d}",
        "filesystem_id": f"BENCH{i:012d}".replace("0", "A").replace("1", "B"),
        "designation": f"bench source {i}",
        "pgp_fingerprint": keys.fingerprint,
        "pgp_public_key": keys.public_key,
        "pgp_secret_key": keys.secret_key,
        "interaction_count": 4,
        "is_starred": i % 100 == 0,
        # About one report in 200 marked urgent by the child (issue 13): they sort first.
        "urgent": i % 200 == 0,
        "created_at": START + timedelta(seconds=i),
        "last_updated": START + timedelta(seconds=i),
        "team_id": team_of(i),
    }


def star_or_unstar(factory: sessionmaker[Session]) -> None:
    """A change every list shows: source 1's star turned on or off."""
    with factory() as db:
        db.execute(update(Source).where(Source.id == 1).values(is_starred=not_(Source.is_starred)))
        db.commit()


def tail_cursor(db: Session) -> str:
    """The cursor after which the list's last page begins."""
    count = len(db.scalars(select(Source.id)).all())
    row = db.execute(
        select(Source.urgent, Source.is_starred, Source.last_updated, Source.id)
        .order_by(*(key.desc() for key in LIST_KEY.clauses))
        .offset(max(count - PAGE_SIZE - 1, 0))
        .limit(1)
    ).one()
    return str(Cursor(row.urgent, row.is_starred, row.last_updated, row.id))


@contextmanager
def serving(config: Path) -> Iterator[str]:
    """The staff interface under gunicorn, as an operator runs it."""
    port = free_port()
    command = [str(SEETHESIGNS), "serve", "journalist", "--port", str(port), "--workers", "1"]
    process = subprocess.Popen(
        [*command, "--config", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if process.poll() is not None:
                raise RuntimeError("the staff interface did not start")
            try:
                requests.get(url + "/login", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def median_ms(client: Client, request: Callable[[Client], int]) -> float:
    """Median wall time of a request, in ms, after one warm-up."""
    assert request(client) == expected(request)
    times = []
    for _ in range(REPEATS):
        if request in AFTER_CHANGE:
            client.change()
        start = time.perf_counter()
        assert request(client) == expected(request)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def queries(engine: Engine, client: Client, request: Callable[[Client], int]) -> int:
    """How many SQL statements one request runs, counted in-process."""
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    if request in AFTER_CHANGE:
        client.change()
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert request(client) == expected(request)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(statements)


def new_staff(
    factory: sessionmaker[Session],
    settings: Settings,
    username: str,
    *,
    teams: set[int],
    admin: bool,
) -> NewStaff:
    """An active staff account in these teams."""
    with factory() as db:
        made = StaffAccounts(settings.argon2, settings.login).create(
            db, username, admin, team_ids=teams
        )
        activate_staff(db, made.staff)
    return made


def api_token(url: str, staff: NewStaff) -> str:
    """A Journalist API token for a staff member, with the code of a step not yet used."""
    response = requests.post(
        f"{url}/api/v1/token",
        json={
            "username": staff.staff.username,
            "passphrase": staff.passphrase,
            "one_time_code": pyotp.TOTP(staff.totp_secret).at(time.time() + 30),
        },
        timeout=60,
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


def sources_body(client: Client) -> tuple[bytes, str]:
    """The body of /api/v1/sources, and its Etag."""
    response = client.http.get(
        f"{client.base_url}/api/v1/sources",
        headers={"Authorization": f"Token {client.api_token}"},
        timeout=600,
    )
    assert response.status_code == 200
    return response.content, response.headers["Etag"]


def distinct_keys(body: bytes) -> bytes:
    """The list as it would be with a key of its own per source, re-encoded as Flask does.

    The bench gives every source the same keypair, which gzip would fold into back-references;
    real keys are random to a compressor. Each key's base64 lines and each fingerprint are
    replaced with random ones of the same length, the armour lines kept.
    """
    found = json.loads(body)
    for source in found["sources"]:
        key = source["key"]
        lines = key["public"].split("\n")
        key["public"] = "\n".join(
            line
            if not line or line.startswith(("-----", "=")) or ":" in line
            else base64.b64encode(os.urandom(len(line) * 3 // 4)).decode()[: len(line)]
            for line in lines
        )
        key["fingerprint"] = os.urandom(20).hex().upper()
    return json.dumps(found, separators=(",", ":"), sort_keys=True).encode()


def gzip_figures(body: bytes) -> list[str]:
    """What gzip Content-Encoding would save on this body, and what it would cost, per level."""
    real = distinct_keys(body)
    lines = [
        f"/api/v1/sources as admin: {len(body):,} bytes ({len(real):,} with distinct keys);"
        f" pretty-printed: {b', ' in body[:2000] or b': ' in body[:2000]}"
    ]
    for level in (1, 6):
        start = time.perf_counter()
        packed = gzip.compress(real, compresslevel=level)
        took = (time.perf_counter() - start) * 1000
        lines.append(
            f"  gzip level {level}: {len(packed):,} bytes ({len(packed) / len(real):.0%}),"
            f" {took:,.0f} ms to compress"
        )
    return lines


def measure(config: Path, sizes: list[int], per_source: int) -> dict[tuple[str, int], Any]:
    """Time and count every measured request at each size, for each role."""
    settings = load_settings(config)
    factory = make_session_factory(engine_for(settings))
    gpg = GpgService(settings.gnupg_homedir, settings.submission_key_fingerprint, settings.tmp_dir)
    keys = gpg.generate_source_keypair("bench only")
    with factory() as db:
        assert create_team(db, "Police liaison").id == POLICE
        assert create_team(db, "Health").id == HEALTH
    roles = {
        "front door": new_staff(factory, settings, "bench", teams={1}, admin=False),
        "police": new_staff(factory, settings, "bench-police", teams={POLICE}, admin=False),
        "admin": new_staff(factory, settings, "bench-admin", teams=set(), admin=True),
    }
    assert roles["front door"].staff.id == 1  # add_sources marks items seen by staff 1
    app = create_app(settings)
    engine = app.extensions["seethesigns"].db.kw["bind"]
    results: dict[tuple[str, int], Any] = {}
    with serving(config) as url:
        clients = {}
        for role, staff in roles.items():
            web, local = Client(base_url=url), Client(app_client=app.test_client())
            web.log_in(staff, time.time())
            local.log_in(staff, time.time() + 30)  # the next code: each is accepted once
            clients[role] = (web, local)
        time.sleep(31)  # a code is accepted once: the tokens take the step after those
        for role, staff in roles.items():
            web, local = clients[role]
            web.api_token = local.api_token = api_token(url, staff)
            web.change = local.change = partial(star_or_unstar, factory)
        done = 0
        for size in sizes:
            with factory() as db:
                add_sources(db, keys, done, size, per_source)
                tail = tail_cursor(db)
            done = size
            for role, (web, local) in clients.items():
                web.tail = local.tail = tail
                web.sources_etag = local.sources_etag = sources_body(web)[1]
                for name, request in MEASURED if role == "front door" else BY_ROLE:
                    key = f"{role}: {name}"
                    results[key, size] = (median_ms(web, request), queries(engine, local, request))
        results["gzip", done] = gzip_figures(sources_body(clients["admin"][0])[0])
    return results


def report(results: dict[tuple[str, int], Any], large: int, per_source: int) -> None:
    """Print the figures, and the ratio of each at the large size to the small."""
    print(
        f"sources: {SMALL:,} -> {large:,}; submissions: {SMALL * per_source:,} -> "
        f"{large * per_source:,}; {PAGE_SIZE} sources a page; median of {REPEATS} over HTTP"
    )
    names = [name for name, _ in MEASURED]
    rows = [f"front door: {name}" for name in names]
    rows += [f"{role}: {name}" for role in ("police", "admin") for name, _ in BY_ROLE]
    print("teams: front door 60 %, police 30 %, health 10 %; 1 front-door case in 100 shared")
    print_ratio_table(rows, results, SMALL, large, width=40)
    for role in ("front door", "police", "admin"):
        full, unchanged = (results[f"{role}: {name}", large][0] for name in API_PAIR)
        print(
            f"{role}: /api/v1/sources at {large:,}: full {full:,.1f} ms, unchanged (304)"
            f" {unchanged:,.1f} ms: {full / unchanged:,.0f} times less;"
            f" first after a change {results[f'{role}: {API_CHANGED}', large][0]:,.1f} ms"
        )
    print("\n".join(results["gzip", large]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sources", type=int, default=50_000)
    parser.add_argument("--submissions-per-source", type=int, default=4)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="stsl", dir="/tmp"))
    try:
        sizes = [SMALL, args.sources]
        results = measure(make_instance(work).config, sizes, args.submissions_per_source)
        report(results, args.sources, args.submissions_per_source)
    finally:
        stop_agents(work)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
