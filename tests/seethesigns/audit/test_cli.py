"""`seethesigns audit verify`, `migrate` adding the key, and `purge` pruning the log."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from seethesigns.config_file import render_config
from seethesigns.db import make_engine, make_session_factory
from seethesigns.instance_settings import instance_config
from seethesigns.settings import Settings, SettingsError, load_settings
from tests.seethesigns.audit.conftest import fill, raw
from tests.seethesigns.test_cli import run


@pytest.fixture
def config(settings: Settings) -> Path:
    """The instance's configuration file."""
    return settings.data_dir / "seethesigns.toml"


@pytest.fixture
def instance_db(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """Sessions on the instance's database file."""
    engine = make_engine(settings.database_url)
    yield make_session_factory(engine)
    engine.dispose()


def database_file(settings: Settings) -> str:
    """The instance's database (a SQLite file or a PostgreSQL database), for raw()."""
    return settings.database_url


def key_of(settings: Settings) -> bytes:
    """The instance's [audit] key (init writes one)."""
    assert settings.audit_key is not None
    return settings.audit_key


def test_verify_says_intact_with_a_summary(
    settings: Settings, config: Path, instance_db: sessionmaker[Session]
) -> None:
    """Exit 0 and one line: how many entries, which ids, the newest hash."""
    fill(instance_db, key_of(settings), 5)
    result = run("audit", "verify", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "Audit log intact: 5 entries, 1 to 5" in result.output


@pytest.mark.parametrize(
    ("statements", "bad_id"),
    [
        (["UPDATE audit_entries SET object_id = 'other' WHERE id = 2"], 2),
        (["DELETE FROM audit_entries WHERE id = 3"], 4),
        (
            [
                "UPDATE audit_entries SET id = -1 WHERE id = 3",
                "UPDATE audit_entries SET id = 3 WHERE id = 4",
                "UPDATE audit_entries SET id = 4 WHERE id = -1",
            ],
            3,
        ),
    ],
    ids=["altered", "removed", "reordered"],
)
def test_verify_fails_naming_the_first_bad_entry(
    settings: Settings,
    config: Path,
    instance_db: sessionmaker[Session],
    statements: list[str],
    bad_id: int,
) -> None:
    """Exit 1, and the id of the first entry that does not check out."""
    fill(instance_db, key_of(settings), 5)
    for sql in statements:
        raw(database_file(settings), sql)
    result = run("audit", "verify", "--config", str(config))
    assert result.exit_code == 1
    assert f"Audit log BROKEN at entry {bad_id}:" in result.output


def test_a_new_configuration_has_its_own_audit_key(settings: Settings) -> None:
    """init writes a fresh 32-byte key for each instance."""
    other = render_config(settings.data_dir, settings.submission_key_fingerprint)
    assert settings.audit_key is not None and len(settings.audit_key) == 32
    assert settings.audit_key.hex() not in other


def test_migrate_adds_a_key_to_an_older_configuration(settings: Settings, config: Path) -> None:
    """A configuration from before issue 13 gets an [audit] key at the upgrade's migrate."""
    text = config.read_text()
    start = text.index("[audit]")
    end = text.index("\n", text.index('key = "', start))
    config.write_text(text[:start] + text[end + 1 :])
    assert load_settings(config).audit_key is None
    refused = run("audit", "verify", "--config", str(config))
    assert refused.exit_code == 1 and "seethesigns migrate" in refused.output
    result = run("migrate", "--config", str(config))
    assert result.exit_code == 0, result.output
    added = load_settings(config).audit_key
    assert added is not None and added != settings.audit_key
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    again = run("migrate", "--config", str(config))
    assert again.exit_code == 0 and load_settings(config).audit_key == added


def test_a_malformed_audit_key_is_refused(settings: Settings, config: Path) -> None:
    """A key that is not 32 bytes of hex stops the instance with a clear error."""
    text = config.read_text()
    key = settings.audit_key
    assert key is not None
    config.write_text(text.replace(key.hex(), "abc"))
    with pytest.raises(SettingsError, match=r"\[audit\] key"):
        load_settings(config)


def test_purge_prunes_the_audit_log_and_it_still_verifies(
    settings: Settings, config: Path, instance_db: sessionmaker[Session]
) -> None:
    """The daily purge removes entries past the audit retention, leaving a checkpoint."""
    fill(instance_db, key_of(settings), 3)
    with instance_db() as db:
        # Zero days (below what the settings page accepts) makes every entry old enough now.
        instance_config(db).audit_retention_days = 0
        db.commit()
    result = run("purge", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "Removed 3 audit log entries older than 0 days." in result.output
    verified = run("audit", "verify", "--config", str(config))
    assert verified.exit_code == 0, verified.output
    assert "1 entries, 4 to 4" in verified.output


def test_a_noted_head_finds_a_truncated_tail(
    settings: Settings, config: Path, instance_db: sessionmaker[Session]
) -> None:
    """Removing the newest entries leaves a valid chain; the head noted before shows it."""
    fill(instance_db, key_of(settings), 5)
    first = run("audit", "verify", "--config", str(config))
    noted = first.output.rsplit("Newest entry: ", 1)[1].strip()
    assert noted.startswith("5:")
    still = run("audit", "verify", "--known-head", noted, "--config", str(config))
    assert still.exit_code == 0, still.output
    raw(database_file(settings), "DELETE FROM audit_entries WHERE id >= 4")
    assert run("audit", "verify", "--config", str(config)).exit_code == 0  # the chain's limit
    caught = run("audit", "verify", "--known-head", noted, "--config", str(config))
    assert caught.exit_code == 1
    assert "entry 5, noted earlier, is gone" in caught.output
    fill(instance_db, key_of(settings), 2)  # new entries 4 and 5 take the old places
    replaced = run("audit", "verify", "--known-head", noted, "--config", str(config))
    assert replaced.exit_code == 1
    assert "entry 5 no longer has the hash noted earlier" in replaced.output
    malformed = run("audit", "verify", "--known-head", "5:abc", "--config", str(config))
    assert malformed.exit_code == 2
