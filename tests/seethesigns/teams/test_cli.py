"""`seethesigns team add | list | members | front-door`, and `recipient add --team`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from seethesigns.models import AuditEntry
from seethesigns.settings import Settings
from seethesigns.staff_accounts import StaffAccounts
from tests.conftest import SpareKeys
from tests.seethesigns.test_cli import assert_clean_error, run


@pytest.fixture
def config(settings: Settings) -> Path:
    """The configuration file of the settings fixture."""
    return settings.data_dir / "seethesigns.toml"


def teams(config: Path) -> dict[str, dict[str, object]]:
    result = run("team", "list", "--json", "--config", str(config))
    assert result.exit_code == 0, result.output
    return {row["name"]: row for row in json.loads(result.output)}


def test_a_partnership_is_set_up_from_the_command_line(
    config: Path, settings: Settings, db: Session, tmp_path: Path, spare_keys: SpareKeys
) -> None:
    StaffAccounts(settings.argon2, settings.login).create(db, "paul")
    assert teams(config)["Front door"]["members"] == ["paul"]  # new accounts join it
    result = run("team", "add", "Police liaison", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert_clean_error(run("team", "add", "police LIAISON", "--config", str(config)), "already")
    # A team with no key cannot receive reports.
    refused = run("team", "front-door", "Police liaison", "--config", str(config))
    assert_clean_error(refused, "has no active key")
    key_file = tmp_path / "police.asc"
    key_file.write_text(spare_keys.second.public_key)
    added = run(
        "recipient", "add", "Police device", str(key_file), "--team", "Police liaison",
        "--config", str(config),
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "for Police liaison" in added.output
    listed = json.loads(run("recipient", "list", "--json", "--config", str(config)).output)
    assert [(row["name"], row["team"]) for row in listed] == [
        ("Submission key", "Front door"),
        ("Police device", "Police liaison"),
    ]
    moved = run("team", "members", "paul", "--team", "Police liaison", "--config", str(config))
    assert moved.exit_code == 0, moved.output
    found = teams(config)
    assert found["Front door"]["members"] == [] and found["Police liaison"]["members"] == ["paul"]
    assert found["Police liaison"]["active_keys"] == 1
    done = run("team", "front-door", "police liaison", "--config", str(config))
    assert done.exit_code == 0, done.output
    found = teams(config)
    assert found["Police liaison"]["front_door"] is True
    assert found["Front door"]["front_door"] is False
    unknown = run("team", "members", "nobody", "--team", "Police liaison", "--config", str(config))
    assert_clean_error(unknown, "no staff member called 'nobody'")
    assert_clean_error(
        run("team", "members", "paul", "--team", "Nope", "--config", str(config)),
        "no team called 'Nope'",
    )
    db.expire_all()
    actions = [entry.action for entry in db.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions[-4:] == ["team.add", "recipient.add", "team.members", "team.front_door"]
