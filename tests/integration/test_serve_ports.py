"""Where `seethesigns serve` binds: one setting per port, shared with the onion services."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from seethesigns.settings import Settings, load_settings
from tests.conftest import OfflineKey, make_instance, short_tmpdir
from tests.databases import TemplateDatabase
from tests.integration.conftest import SEETHESIGNS, free_port, start_server, stop_server


@pytest.fixture
def instance(offline_key: OfflineKey, template_database: TemplateDatabase) -> Iterator[Settings]:
    """A fresh instance whose [tor] ports are free ones, not 8080 and 8081."""
    settings = make_instance(offline_key, template_database)
    config = settings.data_dir / "seethesigns.toml"
    text = config.read_text()
    for old in ("source_port = 8080", "journalist_port = 8081"):
        assert old in text
        text = text.replace(old, f"{old.split(' = ')[0]} = {free_port()}")
    config.write_text(text)
    yield load_settings(config)
    subprocess.run(
        ["gpgconf", "--homedir", str(settings.gnupg_homedir), "--kill", "all"], check=False
    )
    shutil.rmtree(settings.data_dir, ignore_errors=True)


def config_of(settings: Settings) -> Path:
    """The instance's configuration file."""
    return settings.data_dir / "seethesigns.toml"


def status_targets(config: Path) -> dict[str, tuple[str, bool]]:
    """`onion status --json` (no tor to ask): each service's target and whether it answers."""
    done = subprocess.run(
        [str(SEETHESIGNS), "onion", "status", "--json", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "SEETHESIGNS_TOR_CONTROL_PORT": str(free_port())},
    )
    assert done.returncode == 1, done.stdout + done.stderr  # nothing is published
    services = json.loads(done.stdout)["services"]
    return {name: (found["target"], found["target_answers"]) for name, found in services.items()}


def test_serve_binds_the_port_the_onion_service_points_at(instance: Settings) -> None:
    tor = instance.tor
    log_dir = short_tmpdir("stsports")
    server = start_server(
        "journalist", config_of(instance), log_dir, configured_port=tor.journalist_port
    )
    try:
        page = requests.get(f"http://127.0.0.1:{tor.journalist_port}/login", timeout=10)
        assert "<h1>Log in</h1>" in page.text
        assert status_targets(config_of(instance)) == {
            "source": (f"127.0.0.1:{tor.source_port}", False),
            "journalist": (f"127.0.0.1:{tor.journalist_port}", True),
        }
    finally:
        stop_server(server)
        shutil.rmtree(log_dir, ignore_errors=True)


def test_with_a_front_serve_binds_the_serve_port(instance: Settings) -> None:
    config = config_of(instance)
    behind = free_port()
    config.write_text(config.read_text().replace("# source_port = 8090", f"source_port = {behind}"))
    log_dir = short_tmpdir("stsports")
    server = start_server("source", config, log_dir, configured_port=behind)
    try:
        assert requests.get(f"http://127.0.0.1:{behind}/", timeout=10).status_code == 200
        # The onion (and status) point at the front's port, where nothing listens here.
        target, answers = status_targets(config)["source"]
        assert (target, answers) == (f"127.0.0.1:{instance.tor.source_port}", False)
    finally:
        stop_server(server)
        shutil.rmtree(log_dir, ignore_errors=True)
