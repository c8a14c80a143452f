"""Core services of one real instance, built from its settings as create_app builds them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from seethesigns.codenames import CodenameDeriver, generate_codename
from seethesigns.db import make_engine, make_session_factory
from seethesigns.encryption import GpgService
from seethesigns.settings import Settings
from seethesigns.sources import LoggedInSource, create_source
from seethesigns.storage import Store


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
