"""Backups taken from a running instance while sources submit, restored and served again.

The database copy and the store walk happen while gunicorn keeps writing: the restored
database must pass SQLite's integrity check and every row must find its file, whole.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
import requests

from tests.conftest import make_offline_key, short_tmpdir
from tests.integration.conftest import (
    SEETHESIGNS,
    LiveInstance,
    csrf,
    new_source,
    start_server,
    stop_server,
)
from tests.seethesigns.backups.conftest import BackupKeyFiles, export_keypair


@pytest.fixture(scope="module")
def backup_key() -> Iterator[BackupKeyFiles]:
    """A backup keypair made for this module."""
    home = short_tmpdir("stbki")
    yield export_keypair(make_offline_key(home / "gnupg", "Live Backup Key"), home)
    subprocess.run(["gpgconf", "--homedir", str(home / "gnupg"), "--kill", "all"], check=False)
    shutil.rmtree(home, ignore_errors=True)


class Submitters:
    """Sources that keep submitting over HTTP until stopped."""

    def __init__(self, url: str, count: int) -> None:
        self.url = url
        self.sent = 0
        self.codenames: list[str] = []
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run) for _ in range(count)]

    def _run(self) -> None:
        try:
            http = requests.Session()
            self.codenames.append(new_source(self.url, http))
            n = 0
            while not self._stop.is_set():
                n += 1
                token = csrf(http.get(self.url + "/lookup").text)
                files = {"fh": (f"f{n}.bin", b"\x00\x01" * 40_000)} if n % 3 == 0 else None
                response = http.post(
                    self.url + "/submit",
                    data={"csrf_token": token, "msg": f"message {n}"},
                    files=files,
                    allow_redirects=False,
                )
                assert response.status_code == 302, response.status_code
                self.sent += 1
        except BaseException as exc:
            self.errors.append(exc)

    def __enter__(self) -> Submitters:
        for thread in self._threads:
            thread.start()
        deadline = time.monotonic() + 30
        while self.sent < 4 and time.monotonic() < deadline and not self.errors:
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()


def seethesigns(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SEETHESIGNS), *map(str, args)], capture_output=True, text=True, check=False
    )


def check_restored(database: Path, store: Path) -> int:
    """Integrity check, and every submission's and reply's file there with its size and sum."""
    with closing(sqlite3.connect(database)) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        rows = db.execute(
            "SELECT s.filesystem_id, x.filename, x.size, x.checksum FROM submissions x "
            "JOIN sources s ON s.id = x.source_id"
        ).fetchall()
    for filesystem_id, filename, size, checksum in rows:
        data = (store / filesystem_id / filename).read_bytes()
        assert len(data) == size
        assert f"sha256:{hashlib.sha256(data).hexdigest()}" == checksum
    return len(rows)


@pytest.mark.sqlite_only  # SQLite's online backup under load; pg_dump takes one snapshot
def test_backups_taken_while_sources_submit_restore_to_a_consistent_instance(
    live: LiveInstance, backup_key: BackupKeyFiles
) -> None:
    work = short_tmpdir("stbli")
    archives = []
    with Submitters(live.source.url, 3) as submitters:
        for n in range(3):
            before = submitters.sent
            archive = work / f"backup-{n}.gpg"
            made = seethesigns(
                "backup",
                "--config",
                live.config,
                "--backup-key",
                backup_key.public,
                "--output",
                archive,
            )
            assert made.returncode == 0, made.stderr
            archives.append((archive, before))
        during = submitters.sent
    assert submitters.errors == []
    assert during > archives[-1][1], "nothing was submitted while backing up"

    for n, (archive, before) in enumerate(archives):
        target = work / f"restored-{n}"
        done = seethesigns(
            "restore",
            "--archive",
            archive,
            "--secret-key",
            backup_key.secret,
            "--config",
            target / "seethesigns.toml",
            "--data-dir",
            target / "data",
        )
        assert done.returncode == 0, done.stderr
        assert check_restored(target / "data" / "seethesigns.db", target / "data" / "store") >= (
            before
        )

    # The last one, migrated and served: a source from before the backup logs in.
    config = work / "restored-2" / "seethesigns.toml"
    assert seethesigns("migrate", "--config", config).returncode == 0
    server = start_server("source", config, work)
    try:
        http = requests.Session()
        page = http.get(server.url + "/login").text
        response = http.post(
            server.url + "/login",
            data={"csrf_token": csrf(page), "codename": submitters.codenames[0]},
            allow_redirects=False,
        )
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/lookup")
    finally:
        stop_server(server)
        subprocess.run(
            ["gpgconf", "--homedir", str(work / "restored-2" / "data" / "gnupg"), "--kill", "all"],
            check=False,
        )
        shutil.rmtree(work, ignore_errors=True)
