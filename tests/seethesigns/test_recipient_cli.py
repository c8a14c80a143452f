"""`seethesigns recipient add | list | retire`, and migrate/init writing the first recipient."""

from __future__ import annotations

import json
from pathlib import Path

import gnupg
import pytest
from alembic import command
from sqlalchemy.orm import Session

from seethesigns.db import alembic_config
from seethesigns.encryption import GpgService
from seethesigns.models import Source
from seethesigns.recipients import CONFIGURED_NAME, active_fingerprints
from seethesigns.settings import Settings
from seethesigns.sources import LoggedInSource
from seethesigns.storage import Store
from seethesigns.submissions import submit
from tests.conftest import OfflineKey, SpareKeys
from tests.databases import run_sql, schema_version
from tests.seethesigns.conftest import BadKeys
from tests.seethesigns.test_cli import assert_clean_error, run


@pytest.fixture
def config(settings: Settings) -> Path:
    """The configuration file of the settings fixture."""
    return settings.data_dir / "seethesigns.toml"


def grouped(fingerprint: str) -> str:
    return " ".join(fingerprint[i : i + 4] for i in range(0, 40, 4))


def listed(config: Path) -> list[dict[str, object]]:
    result = run("recipient", "list", "--json", "--config", str(config))
    assert result.exit_code == 0, result.output
    found: list[dict[str, object]] = json.loads(result.output)
    return found


def test_add_list_and_retire(
    config: Path,
    settings: Settings,
    tmp_path: Path,
    offline_key: OfflineKey,
    spare_keys: SpareKeys,
) -> None:
    key_file = tmp_path / "second.asc"
    key_file.write_text(spare_keys.second.public_key)
    result = run("recipient", "add", "Second workstation", str(key_file), "--config", str(config))
    assert result.exit_code == 0, result.output
    assert f"Fingerprint: {grouped(spare_keys.second.fingerprint)}" in result.output
    rows = listed(config)
    assert [(row["name"], row["fingerprint"], row["active"]) for row in rows] == [
        (CONFIGURED_NAME, offline_key.fingerprint, True),
        ("Second workstation", spare_keys.second.fingerprint, True),
    ]
    result = run("recipient", "retire", grouped(offline_key.fingerprint), "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "Retired 'Submission key'" in result.output
    assert [row["active"] for row in listed(config)] == [False, True]
    entries = run_sql(
        settings.database_url,
        "SELECT staff_username, action, object_id FROM audit_entries ORDER BY id",
    )
    assert entries == [
        ("system", "recipient.add", spare_keys.second.fingerprint),
        ("system", "recipient.retire", offline_key.fingerprint),
    ]
    text = run("recipient", "list", "--config", str(config)).output
    assert f"{grouped(offline_key.fingerprint)}  retired" in text
    assert f"{grouped(spare_keys.second.fingerprint)}  active" in text


def test_retiring_the_last_recipient_is_a_clean_error(
    config: Path, offline_key: OfflineKey
) -> None:
    result = run("recipient", "retire", offline_key.fingerprint, "--config", str(config))
    assert_clean_error(result, "last active key")
    assert [row["active"] for row in listed(config)] == [True]


@pytest.mark.parametrize(
    ("which", "message"),
    [
        ("secret", "SECRET key"),
        ("expired", "expired"),
        ("revoked", "revoked"),
        ("sign_only", "cannot encrypt"),
        ("two_keys", "exactly one public key, found 2"),
    ],
)
def test_add_refuses_what_init_refuses(
    config: Path,
    tmp_path: Path,
    offline_key: OfflineKey,
    spare_keys: SpareKeys,
    bad_keys: BadKeys,
    which: str,
    message: str,
) -> None:
    armored = {
        "secret": gnupg.GPG(gnupghome=str(spare_keys.second.homedir)).export_keys(
            spare_keys.second.fingerprint, secret=True, passphrase=""
        ),
        "two_keys": spare_keys.second.public_key + bad_keys.other_valid,
    }.get(which) or getattr(bad_keys, which)
    key_file = tmp_path / "key.asc"
    key_file.write_text(armored)
    result = run("recipient", "add", "Bad", str(key_file), "--config", str(config))
    assert_clean_error(result, message)
    assert [row["fingerprint"] for row in listed(config)] == [offline_key.fingerprint]


def test_migrate_from_0011_keeps_an_instance_with_a_configured_key_working(
    settings: Settings,
    config: Path,
    db: Session,
    store: Store,
    gpg: GpgService,
    source: LoggedInSource,
    offline_key: OfflineKey,
) -> None:
    (old,) = submit(db, store, gpg, source.source, "before the upgrade", [])
    old_name = old.filename
    source_id, filesystem_id = source.source.id, source.source.filesystem_id
    db.close()
    command.downgrade(alembic_config(settings.database_url), "0011")
    assert schema_version(settings.database_url) == "0011"
    result = run("migrate", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert schema_version(settings.database_url) == "0020"
    rows = run_sql(settings.database_url, "SELECT name, fingerprint, retired_at FROM recipients")
    assert rows == [(CONFIGURED_NAME, offline_key.fingerprint, None)]
    assert active_fingerprints(db, gpg, None) == [offline_key.fingerprint]
    upgraded = db.get(Source, source_id)
    assert upgraded is not None
    (new,) = submit(db, store, gpg, upgraded, "after the upgrade", [])
    for name, text in ((old_name, b"before the upgrade"), (new.filename, b"after the upgrade")):
        data = store.path(filesystem_id, name).read_bytes()
        assert offline_key.decrypt(data) == text


def test_init_makes_the_key_the_first_recipient(tmp_path: Path, offline_key: OfflineKey) -> None:
    key_file = tmp_path / "submission.asc"
    key_file.write_text(offline_key.public_key)
    data_dir = tmp_path / "d"
    result = run("init", "--data-dir", str(data_dir), "--submission-key", str(key_file))
    assert result.exit_code == 0, result.output
    rows = listed(data_dir / "seethesigns.toml")
    assert [(row["name"], row["fingerprint"]) for row in rows] == [
        (CONFIGURED_NAME, offline_key.fingerprint)
    ]
