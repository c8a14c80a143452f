"""Benchmark: GET /api/v1/sources (and /submissions) at 100 sources and at 50,000.

SecureDrop's get-all-sources was too slow with many sources (its issue #5183): it loaded each
source's submissions to count them. Here the list is one query with the counts aggregated in
SQL, so the number of queries per request must not grow with the number of sources, and the
time should grow only with the size of the answer (each source carries its ~1 KB public key).
Rows are bulk-inserted; the times are real HTTP requests to `seethesigns serve journalist`
under gunicorn; the queries are counted in-process with the same app.
Usage: python -m bench.api_sources [--sources 50000] [--submissions-per-source 4]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyotp
import requests
from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from bench.instance import SEETHESIGNS, free_port, make_instance, stop_agents
from journalist_interface import create_app
from seethesigns.db import make_engine, make_session_factory
from seethesigns.encryption import GpgService
from seethesigns.models import Source, Submission
from seethesigns.settings import Settings, load_settings
from seethesigns.staff_accounts import StaffAccounts

SMALL = 100
BATCH = 5000
PATHS = ("/api/v1/sources", "/api/v1/submissions")


def add_sources(db: Session, public_key: str, start: int, stop: int, per_source: int) -> None:
    """Insert sources start..stop-1, each with per_source submissions (half messages)."""
    for first in range(start, stop, BATCH):
        ids = range(first + 1, min(stop, first + BATCH) + 1)
        db.execute(
            insert(Source),
            [
                {
                    "id": i,
                    "uuid": f"00000000-0000-4000-8000-{i:012d}",
                    "filesystem_id": f"BENCH{i:012d}",
                    "designation": f"bench source {i}",
                    "pgp_fingerprint": "0" * 40,
                    "pgp_public_key": public_key,
                    "pgp_secret_key": "not used by the staff interface",
                    "interaction_count": per_source,
                }
                for i in ids
            ],
        )
        db.execute(
            insert(Submission),
            [
                {
                    "source_id": i,
                    "filename": f"{n}-bench-{'msg.gpg' if n % 2 else 'doc.gz.gpg'}",
                    "size": 600,
                    "checksum": "sha256:" + "0" * 64,
                }
                for i in ids
                for n in range(1, per_source + 1)
            ],
        )
    db.commit()


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
            try:
                requests.get(url + "/api/v1/", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def http_ms(url: str, token: str, path: str, repeats: int) -> tuple[float, int]:
    """Median time of GET path over HTTP, in ms, and the size of the answer in bytes."""
    times, size = [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        response = requests.get(
            url + path, headers={"Authorization": f"Token {token}"}, timeout=600
        )
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.text
        size = len(response.content)
    return statistics.median(times), size


def queries_per_request(settings: Settings, token: str, path: str) -> int:
    """How many SQL statements one GET of path runs, counted in-process."""
    app = create_app(settings)
    engine = app.extensions["seethesigns"].db.kw["bind"]
    statements: list[Any] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    response = app.test_client().get(path, headers={"Authorization": f"Token {token}"})
    event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200
    return len(statements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sources", type=int, default=50_000)
    parser.add_argument("--submissions-per-source", type=int, default=4)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="stsa", dir="/tmp"))
    try:
        instance = make_instance(work)
        settings = load_settings(instance.config)
        factory = make_session_factory(make_engine(settings.database_url))
        gpg = GpgService(
            settings.gnupg_homedir, settings.submission_key_fingerprint, settings.tmp_dir
        )
        # A real source public key, so each source in the answer is its real size.
        public_key = gpg.generate_source_keypair("bench only").public_key
        with factory() as db:
            staff = StaffAccounts(settings.argon2, settings.login).create(db, "bench")
            add_sources(db, public_key, 0, SMALL, args.submissions_per_source)
        with serving(instance.config) as url:
            response = requests.post(
                url + "/api/v1/token",
                json={
                    "username": "bench",
                    "passphrase": staff.passphrase,
                    "one_time_code": pyotp.TOTP(staff.totp_secret).now(),
                },
                timeout=60,
            )
            token = response.json()["token"]
            rows = []
            for count, repeats in ((SMALL, 15), (args.sources, 5)):
                if count > SMALL:
                    with factory() as db:
                        add_sources(db, public_key, SMALL, count, args.submissions_per_source)
                for path in PATHS:
                    ms, size = http_ms(url, token, path, repeats)
                    rows.append((path, count, ms, size, queries_per_request(settings, token, path)))
        submissions = args.sources * args.submissions_per_source
        print(f"sources: {SMALL} -> {args.sources}; submissions: -> {submissions}")
        print(f"{'request':<22}{'sources':>9}{'median ms':>12}{'answer MB':>11}{'queries':>9}")
        for path, count, ms, size, queries in rows:
            print(f"GET {path:<18}{count:>9}{ms:>12.1f}{size / 1e6:>11.2f}{queries:>9}")
    finally:
        stop_agents(work)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
