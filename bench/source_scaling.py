"""Benchmark: per-source key work at 10 sources and at 50,000.

SecureDrop kept every source key in one GnuPG keyring and slowed to a crawl at 10-20k keys
(its issue #6389). Here each source's keypair lives in its own database row and every key
operation uses a throwaway keyring, so logging in (finding the source and decrypting its
replies) and replying should cost the same at any size. This prints the median times at both
sizes and their ratio, and the time a login takes with a right and a wrong codename at the
production argon2 cost. Usage: python -m bench.source_scaling [--sources 50000]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import gnupg
from sqlalchemy import insert, select

from bench.instance import make_instance, stop_agents
from seethesigns.codenames import CodenameDeriver, generate_codename
from seethesigns.db import engine_for, make_session_factory
from seethesigns.encryption import GpgService
from seethesigns.models import Source, Staff
from seethesigns.replies import read_replies, send_reply
from seethesigns.settings import Argon2Settings, load_settings
from seethesigns.sources import create_source, find_source
from seethesigns.storage import Store

REAL_SOURCES = 10
REPEATS = 15


def median_ms(action: Callable[[], object], repeats: int = REPEATS) -> float:
    """Median wall time of action, in milliseconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sources", type=int, default=50_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="stss", dir="/tmp"))
    try:
        settings = load_settings(make_instance(work).config)
        factory = make_session_factory(engine_for(settings))
        gpg = GpgService(
            settings.gnupg_homedir, settings.submission_key_fingerprint, settings.tmp_dir
        )
        store = Store(settings.store_dir)
        # Key and database work only: argon2 is constant per login and would hide the rest.
        cheap = CodenameDeriver(
            settings.pepper_filesystem_id,
            settings.pepper_key_secret,
            Argon2Settings(time_cost=1, memory_cost_kib=64),
        )
        production = CodenameDeriver(
            settings.pepper_filesystem_id, settings.pepper_key_secret, settings.argon2
        )
        with factory() as db:
            staff = Staff(username="bench", passphrase_hash="unused", totp_secret="unused")  # noqa: S106
            db.add(staff)
            db.commit()
            codenames = [generate_codename() for _ in range(REAL_SOURCES)]
            made = [create_source(db, cheap, gpg, c) for c in codenames]
            for text in ("one", "two", "three"):
                send_reply(db, store, gpg, made[-1].source, staff, text)
            target_codename = codenames[-1]

            def login() -> None:
                found = find_source(db, cheap, target_codename)
                assert found is not None
                assert len(read_replies(db, store, gpg, found.source, found.key_secret)) >= 3

            def reply() -> None:
                # Another source, so the login above always decrypts the same three replies.
                send_reply(db, store, gpg, made[0].source, staff, "a reply")

            small = (median_ms(login), median_ms(reply))
            template = made[0].source
            batch = []
            for i in range(args.sources - REAL_SOURCES):
                batch.append(
                    {
                        "uuid": f"00000000-0000-4000-8000-{i:012d}",
                        "filesystem_id": f"BULK{i:012d}".replace("0", "A").replace("1", "B"),
                        "designation": f"bulk source {i}",
                        "pgp_fingerprint": template.pgp_fingerprint,
                        "pgp_public_key": template.pgp_public_key,
                        "pgp_secret_key": template.pgp_secret_key,
                        "interaction_count": 0,
                        "created_at": template.created_at,
                        "last_updated": template.last_updated,
                    }
                )
                if len(batch) == 5000:
                    db.execute(insert(Source), batch)
                    batch = []
            if batch:
                db.execute(insert(Source), batch)
            db.commit()
            total = len(db.scalars(select(Source.id)).all())
            large = (median_ms(login), median_ms(reply))
            keyring = gnupg.GPG(gnupghome=str(settings.gnupg_homedir)).list_keys()

            def timed_login(codename: str) -> Callable[[], object]:
                return lambda: find_source(db, production, codename)

            right = median_ms(timed_login(target_codename), 7)
            wrong = median_ms(timed_login(generate_codename()), 7)
            malformed = median_ms(timed_login("x" * 500), 7)

        print(f"sources:                          {REAL_SOURCES:>8} -> {total}")
        print(
            f"login + decrypt 3+ replies (ms):  {small[0]:8.1f} -> {large[0]:8.1f}"
            f"   ratio {large[0] / small[0]:.2f}"
        )
        print(
            f"reply to source (ms):             {small[1]:8.1f} -> {large[1]:8.1f}"
            f"   ratio {large[1] / small[1]:.2f}"
        )
        print(f"keys in the server keyring:       {len(keyring)} (the submission key only)")
        print(
            f"production argon2 login (ms):     right codename {right:.0f}, "
            f"wrong {wrong:.0f}, malformed {malformed:.0f}"
        )
    finally:
        stop_agents(work)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
