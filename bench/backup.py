"""Benchmark: `seethesigns backup`, `backup --verify` and `restore` of a sizeable instance.

Builds an instance with `seethesigns init`, adds sources (copies of one real source's keypair
row, as bench.source_scaling does) each with one stored file of random bytes, then runs the
three commands as an operator would and prints each one's wall time and the peak resident
memory of its largest process (Python or gpg). The archive is streamed, so memory should not
grow with the store. Usage: python -m bench.backup [--sources 1000] [--store-mib 200]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select

from bench.instance import SEETHESIGNS, make_instance, stop_agents, unprotected_keypair
from seethesigns.codenames import CodenameDeriver, generate_codename
from seethesigns.db import engine_for, make_session_factory
from seethesigns.encryption import GpgService
from seethesigns.models import Source, Submission
from seethesigns.settings import Argon2Settings, load_settings
from seethesigns.sources import create_source
from seethesigns.storage import Store, message_name

MIB = 1024 * 1024


def backup_keypair(home: Path) -> tuple[Path, Path]:
    """An unprotected backup keypair (benchmarks only): its public and secret key files."""
    gpg, key = unprotected_keypair(home, "Bench Backup", "backup@seethesigns.invalid")
    public, secret = home.parent / "backup-public.asc", home.parent / "backup-secret.asc"
    public.write_text(gpg.export_keys(key.fingerprint))
    secret.write_text(gpg.export_keys(key.fingerprint, secret=True, passphrase=""))
    return public, secret


def _letters(n: int) -> str:
    """n in base 26, written a-z: designations (and so stored file names) have no digits."""
    out = ""
    while True:
        n, digit = divmod(n, 26)
        out = chr(ord("a") + digit) + out
        if not n:
            return out


def populate(config: Path, sources: int, store_bytes: int) -> None:
    """Add sources with one stored file each, store_bytes in all."""
    settings = load_settings(config)
    gpg = GpgService(settings.gnupg_homedir, settings.submission_key_fingerprint, settings.tmp_dir)
    store = Store(settings.store_dir)
    cheap = CodenameDeriver(
        settings.pepper_filesystem_id,
        settings.pepper_key_secret,
        Argon2Settings(time_cost=1, memory_cost_kib=64),
    )
    per_source = store_bytes // sources
    engine = engine_for(settings)
    with make_session_factory(engine)() as db:
        template = create_source(db, cheap, gpg, generate_codename()).source
        rows = []
        for i in range(sources - 1):
            rows.append(
                {
                    "uuid": f"00000000-0000-4000-8000-{i:012d}",
                    "filesystem_id": base64.b32encode(i.to_bytes(10, "big")).decode(),
                    "designation": f"bulk source {_letters(i)}",
                    "pgp_fingerprint": template.pgp_fingerprint,
                    "pgp_public_key": template.pgp_public_key,
                    "pgp_secret_key": template.pgp_secret_key,
                    "interaction_count": 1,
                    "created_at": template.created_at,
                    "last_updated": template.last_updated,
                }
            )
        db.execute(insert(Source), rows)
        db.commit()
        files = []
        for source in db.scalars(select(Source)):
            name = message_name(1, source.designation)
            data = os.urandom(per_source)  # ciphertext is as incompressible as this
            path = store.path(source.filesystem_id, name)
            path.parent.mkdir(mode=0o700, exist_ok=True)
            path.write_bytes(data)
            checksum = f"sha256:{hashlib.sha256(data).hexdigest()}"
            files.append(
                {"source_id": source.id, "filename": name, "size": per_source, "checksum": checksum}
            )
        db.execute(insert(Submission), files)
        db.commit()
    engine.dispose()
    os.sync()  # the store's writes are not charged to the backup


def timed(*args: str | Path) -> tuple[float, float]:
    """Run seethesigns with args; return wall seconds and the peak RSS in MiB of its largest
    process (the child's own, or that of a process it waited for: gpg)."""
    started = time.perf_counter()
    process = subprocess.Popen([str(SEETHESIGNS), *map(str, args)], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"seethesigns {args[0]} failed with exit code {process.returncode}")
    return elapsed, usage.ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--store-mib", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="stsb", dir="/tmp"))
    try:
        instance = make_instance(work)
        public, secret = backup_keypair(work / "backup-key")
        populate(instance.config, args.sources, args.store_mib * MIB)
        database = instance.data_dir / "seethesigns.db"
        archive = work / "backup.tar.gpg"
        config = ["--config", instance.config]
        backup = timed("backup", *config, "--backup-key", public, "--output", archive)
        verify = timed("backup", "--verify", archive, "--secret-key", secret)
        target = ["--config", work / "restored.toml", "--data-dir", work / "restored"]
        restore = timed("restore", "--archive", archive, "--secret-key", secret, *target)
        print(f"instance:   {args.sources} sources, store {args.store_mib} MiB, ", end="")
        print(f"database {database.stat().st_size / MIB:.1f} MiB")
        print(f"archive:    {archive.stat().st_size / MIB:.1f} MiB")
        for name, (seconds, rss) in (("backup", backup), ("verify", verify), ("restore", restore)):
            rate = archive.stat().st_size / MIB / seconds
            print(f"{name + ':':11} {seconds:6.2f} s  ({rate:5.0f} MiB/s)  peak RSS {rss:6.1f} MiB")
    finally:
        stop_agents(work)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
