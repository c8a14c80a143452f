"""Benchmark: the partnership's figures page and its CSV at 100 sources and at 50,000.

The figures (issue 13) group every report, rank its waits and pick the medians and 90th
percentiles in SQL, so the number of queries must not grow with the number of sources, and
the time grows only with the database's own work, never with a Python loop per source.

The instance is the source list benchmark's (bench/source_list.py, bulk-inserted rows of real
width), with its times spread over a year: each source sends one report (two items sent
together), one in four a second one three days later, one in ten marked urgent; nearly every
report is downloaded within a day, and two sources in three get a reply within two days.
Times are real HTTP requests to `seethesigns serve journalist` under gunicorn, logged in as an
admin; queries are counted in-process with the same app.
Usage: python -m bench.figures [--sources 50000]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from bench.instance import activate_staff, make_instance, print_ratio_table, stop_agents
from bench.source_list import REPEATS, Client, add_sources, median_ms, queries, serving
from journalist_interface import create_app
from seethesigns.db import engine_for, make_session_factory
from seethesigns.encryption import GpgService
from seethesigns.models import Reply
from seethesigns.settings import load_settings
from seethesigns.staff_accounts import StaffAccounts

SMALL = 100
ITEMS_PER_SOURCE = 2
MEASURED = (
    ("figures page", lambda client: client.get("/admin/figures")),
    ("weekly figures CSV", lambda client: client.get("/admin/figures/weeks.csv")),
)


def spread_over_a_year(db: Session, start: int, stop: int) -> None:
    """Give sources start+1..stop the arrival, download and reply times described above."""
    bounds = {"start": start, "stop": stop}
    # Arrivals every ~10 minutes over a year; a second report for one source in four.
    db.execute(
        text(
            "UPDATE submissions SET created_at = datetime('2025-01-06', "
            "'+' || ((source_id * 631) % 31536000 + "
            "CASE WHEN source_id % 4 = 0 AND id % 2 = 0 THEN 259200 ELSE 0 END) || ' seconds'),"
            " urgent = (source_id % 10 = 0) WHERE source_id > :start AND source_id <= :stop"
        ),
        bounds,
    )
    db.execute(
        text(
            "UPDATE seen_submissions SET seen_at = (SELECT datetime(s.created_at, '+' || "
            "((s.id * 7919) % 86400) || ' seconds') FROM submissions s "
            "WHERE s.id = seen_submissions.submission_id) WHERE submission_id IN "
            "(SELECT id FROM submissions WHERE source_id > :start AND source_id <= :stop)"
        ),
        bounds,
    )
    arrivals = db.execute(
        text(
            "SELECT source_id, MIN(created_at) FROM submissions WHERE source_id > :start "
            "AND source_id <= :stop AND source_id % 3 != 0 GROUP BY source_id"
        ),
        bounds,
    ).all()
    db.execute(
        insert(Reply),
        [
            {
                "uuid": f"20000000-0000-4000-8000-{source_id:012d}",
                "source_id": source_id,
                "staff_id": 1,
                "filename": f"9-bench_source_{source_id}-reply.gpg",
                "size": 600,
                "checksum": "sha256:" + "0" * 64,
                "created_at": _later(arrived, (source_id * 104729) % 172800),
            }
            for source_id, arrived in arrivals
        ],
    )
    db.commit()


def _later(arrived: Any, seconds: int) -> datetime:
    return datetime.fromisoformat(str(arrived)) + timedelta(seconds=seconds)


def measure(config: Path, sizes: list[int]) -> dict[tuple[str, int], Any]:
    """Time and count the figures requests at each size."""
    settings = load_settings(config)
    factory = make_session_factory(engine_for(settings))
    gpg = GpgService(settings.gnupg_homedir, settings.submission_key_fingerprint, settings.tmp_dir)
    keys = gpg.generate_source_keypair("bench only")
    with factory() as db:
        staff = StaffAccounts(settings.argon2, settings.login).create(db, "bench", is_admin=True)
        activate_staff(db, staff.staff)
    app = create_app(settings)
    engine = app.extensions["seethesigns"].db.kw["bind"]
    results: dict[tuple[str, int], Any] = {}
    with serving(config) as url:
        web, local = Client(base_url=url), Client(app_client=app.test_client())
        web.log_in(staff, time.time())
        local.log_in(staff, time.time() + 30)  # the next code: each is accepted once
        done = 0
        for size in sizes:
            with factory() as db:
                add_sources(db, keys, done, size, ITEMS_PER_SOURCE)
                spread_over_a_year(db, done, size)
            done = size
            for name, request in MEASURED:
                results[name, size] = (median_ms(web, request), queries(engine, local, request))
    return results


def report(results: dict[tuple[str, int], Any], large: int) -> None:
    """Print the figures, and the ratio of each at the large size to the small."""
    print(f"sources: {SMALL:,} -> {large:,}; median of {REPEATS} over HTTP")
    print_ratio_table([name for name, _ in MEASURED], results, SMALL, large, width=22)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sources", type=int, default=50_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="stsf", dir="/tmp"))
    try:
        results = measure(make_instance(work).config, [SMALL, args.sources])
        report(results, args.sources)
    finally:
        stop_agents(work)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
