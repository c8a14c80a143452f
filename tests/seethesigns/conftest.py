"""Core services of one real instance, built from its settings as create_app builds them, and
public keys that GnuPG must refuse, made once per module with the gpg command line."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from seethesigns.codenames import CodenameDeriver, generate_codename
from seethesigns.db import make_engine, make_session_factory
from seethesigns.encryption import GpgService
from seethesigns.settings import Settings
from seethesigns.sources import LoggedInSource, create_source
from seethesigns.storage import Store
from tests.conftest import short_tmpdir


@pytest.fixture
def db(settings: Settings) -> Iterator[Session]:
    """A database session on the instance's own file."""
    engine = make_engine(settings.database_url)
    with make_session_factory(engine)() as session:
        yield session
    engine.dispose()


@pytest.fixture
def gpg(settings: Settings) -> GpgService:
    """GnuPG with the instance's keyring, which holds the test submission key."""
    return GpgService(settings.gnupg_homedir, settings.submission_key_fingerprint, settings.tmp_dir)


@pytest.fixture
def store(settings: Settings) -> Store:
    """The instance's store directory."""
    return Store(settings.store_dir)


@pytest.fixture
def deriver(settings: Settings) -> CodenameDeriver:
    """Codename derivation with the instance's peppers and cheap argon2."""
    return CodenameDeriver(
        settings.pepper_filesystem_id, settings.pepper_key_secret, settings.argon2
    )


@pytest.fixture
def codename() -> str:
    """A fresh codename."""
    return generate_codename()


@pytest.fixture
def source(db: Session, deriver: CodenameDeriver, gpg: GpgService, codename: str) -> LoggedInSource:
    """A source created with that codename, as after /create."""
    return create_source(db, deriver, gpg, codename)


def gpg_cli(home: Path, *args: str, stdin: bytes | None = None) -> str:
    """Run the gpg command line on home, failing the test if it fails."""
    done = subprocess.run(
        ["gpg", "--homedir", str(home), "--batch", "--yes", "--passphrase", "", *args],
        input=stdin,
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


def fingerprint_of(home: Path, email: str) -> str:
    listing = gpg_cli(home, "--with-colons", "--list-keys", email)
    return next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))


@dataclass(frozen=True)
class BadKeys:
    """Armored public keys that must never become the submission key."""

    expired: str
    revoked: str
    sign_only: str
    other_valid: str


@pytest.fixture(scope="module")
def bad_keys() -> Iterator[BadKeys]:
    """Keys made once with the gpg command line, in a throwaway home."""
    home = short_tmpdir("stbk")
    old = ["--faked-system-time", "20200101T000000"]
    gpg_cli(home, *old, "--quick-gen-key", "Old <old@x.invalid>", "ed25519", "sign,cert", "1d")
    gpg_cli(
        home,
        *old,
        "--quick-add-key",
        fingerprint_of(home, "old@x.invalid"),
        "cv25519",
        "encr",
        "1d",
    )
    gpg_cli(home, "--quick-gen-key", "Signer <sign@x.invalid>", "ed25519", "sign,cert", "0")
    gpg_cli(home, "--quick-gen-key", "Revoked <rev@x.invalid>", "ed25519", "sign,cert", "0")
    revoked = fingerprint_of(home, "rev@x.invalid")
    gpg_cli(home, "--quick-add-key", revoked, "cv25519", "encr", "0")
    # gpg writes a revocation certificate for every new key, defused by a leading colon.
    certificate = (home / "openpgp-revocs.d" / f"{revoked}.rev").read_text()
    gpg_cli(home, "--import", stdin=certificate.replace(":-----BEGIN", "-----BEGIN").encode())
    gpg_cli(home, "--quick-gen-key", "Other <other@x.invalid>", "ed25519", "sign,cert", "0")
    gpg_cli(
        home, "--quick-add-key", fingerprint_of(home, "other@x.invalid"), "cv25519", "encr", "0"
    )
    yield BadKeys(
        expired=gpg_cli(home, "--armor", "--export", "old@x.invalid"),
        revoked=gpg_cli(home, "--armor", "--export", "rev@x.invalid"),
        sign_only=gpg_cli(home, "--armor", "--export", "sign@x.invalid"),
        other_valid=gpg_cli(home, "--armor", "--export", "other@x.invalid"),
    )
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)
    shutil.rmtree(home, ignore_errors=True)
