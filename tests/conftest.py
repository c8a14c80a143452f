"""Fixtures shared by the whole suite: real GnuPG keys, real database files, real apps.

They build on each other: test_keys -> settings -> source_app / journalist_app -> clients.
"""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import gnupg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from seethesigns.config_file import render_config, write_private
from seethesigns.encryption import GpgService
from seethesigns.models import Staff
from seethesigns.models.staff import STAFF_ACTIVE
from seethesigns.settings import Argon2Settings, Settings, load_settings
from tests.databases import TemplateDatabase, chosen_backend, make_template

# Tests turn argon2 down through settings, never by patching: ~1 ms instead of ~0.25 s.
CHEAP_ARGON2 = Argon2Settings(time_cost=1, memory_cost_kib=64, parallelism=1)
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
CREATE_FIELDS = re.compile(r'name="(codename|issued|mac|csrf_token)" value="([^"]*)"')
# The two words /generate asks for, read from its labels ("Word 2") as a person reads them.
ASKED_WORD = re.compile(r'<label for="(word_[ab])">[^<]*?(\d)</label>')
T = TypeVar("T")


@dataclass(frozen=True)
class OfflineKey:
    """The test submission keypair; its private half plays the air-gapped workstation."""

    homedir: Path
    fingerprint: str
    public_key: str

    def decrypt(self, ciphertext: bytes) -> bytes:
        """Decrypt with the offline secret key, as staff would on the workstation."""
        gpg = gnupg.GPG(gnupghome=str(self.homedir))
        result = gpg.decrypt(ciphertext)
        assert result.ok, result.status
        return bytes(result.data)

    def opens(self, ciphertext: bytes) -> bool:
        """Whether this key alone decrypts ciphertext (its own home holds no other key)."""
        result = gnupg.GPG(gnupghome=str(self.homedir)).decrypt(ciphertext)
        return bool(result.ok) and result.returncode == 0


def short_tmpdir(prefix: str) -> Path:
    """A directory with a short path: gpg-agent's socket paths must fit in 107 bytes."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))


def make_offline_key(homedir: Path, name: str = "Test Submission Key") -> OfflineKey:
    """Generate an ed25519/cv25519 keypair with real GnuPG, unprotected (tests only)."""
    homedir.mkdir(mode=0o700, parents=True, exist_ok=True)
    gpg = gnupg.GPG(gnupghome=str(homedir))
    result = gpg.gen_key(
        gpg.gen_key_input(
            key_type="EDDSA",
            key_curve="ed25519",
            subkey_type="ECDH",
            subkey_curve="cv25519",
            name_real=name,
            name_email="submission@seethesigns.invalid",
            no_protection=True,
            expire_date=0,
        )
    )
    assert result.fingerprint, result.stderr
    return OfflineKey(homedir, str(result.fingerprint), str(gpg.export_keys(result.fingerprint)))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL, skip the tests of SQLite's own file, WAL and backup API."""
    if chosen_backend() != "postgresql":
        return
    skip = pytest.mark.skip(reason="about SQLite itself; this run is on PostgreSQL")
    for item in items:
        if item.get_closest_marker("sqlite_only"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def offline_key() -> Iterator[OfflineKey]:
    """One test submission keypair for the whole session."""
    home = short_tmpdir("stsk")
    yield make_offline_key(home / "offline")
    subprocess.run(["gpgconf", "--homedir", str(home / "offline"), "--kill", "all"], check=False)
    shutil.rmtree(home, ignore_errors=True)


@dataclass(frozen=True)
class SpareKeys:
    """Two more offline keypairs, each in its own GnuPG home: recipients added later."""

    second: OfflineKey
    on_call: OfflineKey


@pytest.fixture(scope="session")
def spare_keys() -> Iterator[SpareKeys]:
    """A second workstation's key and an on-call device's key, made once per session."""
    home = short_tmpdir("stsp")
    yield SpareKeys(
        make_offline_key(home / "second", "Second Workstation"),
        make_offline_key(home / "oncall", "On-call Device"),
    )
    for name in ("second", "oncall"):
        subprocess.run(["gpgconf", "--homedir", str(home / name), "--kill", "all"], check=False)
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def template_database() -> Iterator[TemplateDatabase]:
    """A database migrated once with Alembic; each test gets its own copy of it.

    SQLite unless SEETHESIGNS_TEST_DATABASE=postgresql (tests/databases.py).
    """
    template = make_template()
    yield template
    template.close()


def make_instance(
    offline_key: OfflineKey,
    template_database: TemplateDatabase,
    *,
    max_bytes: int = 2 * 1024**3,
    extra: str = "",
) -> Settings:
    """A real instance on disk: config file, keyring with the public key, database file."""
    data_dir = short_tmpdir("sts")
    for sub in ("gnupg", "store", "tmp"):
        (data_dir / sub).mkdir(mode=0o700)
    GpgService(data_dir / "gnupg", "", data_dir / "tmp").import_submission_key(
        offline_key.public_key
    )
    url = template_database.new_url(data_dir)
    config = data_dir / "seethesigns.toml"
    text = render_config(
        data_dir, offline_key.fingerprint, argon2=CHEAP_ARGON2, max_bytes=max_bytes
    )
    text = text.replace(f'url = "sqlite:///{data_dir}/seethesigns.db"', f'url = "{url}"')
    text = text.replace("key_check_interval_seconds = 30", "key_check_interval_seconds = 0")
    write_private(config, text + extra)
    return load_settings(config)


@pytest.fixture
def settings(offline_key: OfflineKey, template_database: TemplateDatabase) -> Iterator[Settings]:
    """Settings of a fresh instance with its own database and keyring."""
    found = make_instance(offline_key, template_database)
    yield found
    template_database.drop(found.database_url)
    subprocess.run(["gpgconf", "--homedir", str(found.gnupg_homedir), "--kill", "all"], check=False)
    shutil.rmtree(found.data_dir, ignore_errors=True)


@pytest.fixture
def source_app(settings: Settings) -> Flask:
    """The source interface of that instance."""
    from source_interface import create_app

    app = create_app(settings)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def journalist_app(settings: Settings) -> Flask:
    """The staff interface of the same instance."""
    from journalist_interface import create_app

    app = create_app(settings)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def source_client(source_app: Flask) -> FlaskClient:
    """A browser on the source interface."""
    return source_app.test_client()


@pytest.fixture
def journalist_client(journalist_app: Flask) -> FlaskClient:
    """A browser on the staff interface."""
    return journalist_app.test_client()


def activate(db: Session, staff: Staff) -> None:
    """Make an account active as if its owner had done their first login.

    For tests about something else; tests of the first login itself start from pending.
    """
    db.execute(update(Staff).where(Staff.id == staff.id).values(status=STAFF_ACTIVE))
    db.commit()
    staff.status = STAFF_ACTIVE


def remove_submission_key(settings: Settings) -> None:
    """Delete the submission key from the server keyring, as a broken deployment might."""
    command = ["gpg", "--homedir", str(settings.gnupg_homedir), "--batch", "--yes"]
    command += ["--delete-keys", settings.submission_key_fingerprint]
    subprocess.run(command, check=True, capture_output=True)


def csrf_token(html: str) -> str:
    """The CSRF token embedded in a page's form."""
    found = CSRF_FIELD.search(html)
    assert found, "page has no CSRF token"
    return found.group(1)


def create_form(html: str, *, typed_back: bool = True) -> dict[str, str]:
    """The /create form on a /generate page, with the two words it asks for typed back."""
    form = dict(CREATE_FIELDS.findall(html))
    if typed_back:
        words = form["codename"].split(" ")
        asked = ASKED_WORD.findall(html)
        assert len(asked) == 2, "the page does not ask for two words"
        form.update({field: words[int(number) - 1] for field, number in asked})
    return form


def multipart(
    fields: dict[str, str], file_field: str, filename: str, content: bytes
) -> tuple[bytes, str]:
    """A multipart/form-data body and its content type."""
    boundary = "sts" + secrets.token_hex(12)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
        f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        + content
        + b"\r\n"
    )
    return b"".join(
        parts
    ) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def at_once(count: int, action: Callable[[], T]) -> list[T]:
    """Run action in count threads released together; their results (re-raising any error)."""
    start = threading.Barrier(count)

    def run(_: int) -> T:
        start.wait(timeout=30)
        return action()

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))
