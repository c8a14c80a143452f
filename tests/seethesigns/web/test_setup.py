"""The key check both apps run (issue 14): every active recipient, and the first one written."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from seethesigns.db import make_engine, make_session_factory
from seethesigns.encryption import GpgService
from seethesigns.models import Recipient
from seethesigns.recipients import CONFIGURED_NAME, add_recipient, retire_recipient
from seethesigns.settings import Settings
from tests.conftest import SpareKeys
from tests.seethesigns.conftest import gpg_cli


def test_the_first_request_writes_the_configured_key_down(
    source_client: FlaskClient, settings: Settings
) -> None:
    factory = make_session_factory(make_engine(settings.database_url))
    with factory() as db:
        assert db.scalars(select(Recipient)).all() == []
    assert source_client.get("/").status_code == 200
    with factory() as db:
        (row,) = db.scalars(select(Recipient)).all()
    assert (row.name, row.fingerprint) == (CONFIGURED_NAME, settings.submission_key_fingerprint)


def test_an_unusable_active_recipient_closes_the_site_until_retired(
    source_client: FlaskClient, settings: Settings, spare_keys: SpareKeys
) -> None:
    gpg = GpgService(settings.gnupg_homedir, settings.submission_key_fingerprint, settings.tmp_dir)
    factory = make_session_factory(make_engine(settings.database_url))
    with factory() as db:
        add_recipient(db, gpg, "On call", spare_keys.on_call.public_key)
    assert source_client.get("/").status_code == 200
    gpg_cli(settings.gnupg_homedir, "--delete-keys", spare_keys.on_call.fingerprint)
    response = source_client.get("/")
    assert response.status_code == 503
    assert "can't take reports right now" in response.get_data(as_text=True)
    with factory() as db:
        retire_recipient(db, gpg, spare_keys.on_call.fingerprint)
    assert source_client.get("/").status_code == 200
