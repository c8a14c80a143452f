"""`seethesigns onion` without tor: client keys and clear errors (with tor: integration/tor)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from seethesigns.onion import OnionKeys
from seethesigns.settings import Settings
from tests.integration.conftest import free_port
from tests.seethesigns.test_cli import assert_clean_error, run
from tests.seethesigns.test_onion import device_keypair


def test_add_client_prints_one_instruction_and_the_auth_private_line(settings: Settings) -> None:
    config = str(settings.data_dir / "seethesigns.toml")
    result = run("onion", "add-client", "laptop-alex", "--config", config)
    assert result.exit_code == 0, result.output
    address = OnionKeys(settings.tor.keys_dir).service_key("journalist").address
    instruction, line, note = result.output.splitlines()
    assert f"save this line as {address}.auth_private in Tor Browser" in instruction
    assert re.fullmatch(rf"{address}:descriptor:x25519:[A-Z2-7]{{52}}", line)
    assert note == "No `seethesigns onion up` is running: this applies when it starts."


def test_revoke_client_removes_the_key(settings: Settings) -> None:
    config = str(settings.data_dir / "seethesigns.toml")
    assert run("onion", "add-client", "phone", "--config", config).exit_code == 0
    result = run("onion", "revoke-client", "phone", "--config", config)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Revoked phone.\n")
    assert OnionKeys(settings.tor.keys_dir).clients() == {}
    assert_clean_error(
        run("onion", "revoke-client", "phone", "--config", config),
        "no staff device named 'phone' is authorised",
    )


def test_status_says_when_tor_cannot_be_reached(settings: Settings) -> None:
    config = settings.data_dir / "seethesigns.toml"
    port = free_port()  # nothing listens there
    config.write_text(
        config.read_text().replace('control_socket = "/run/tor/control"', f"control_port = {port}")
    )
    assert_clean_error(
        run("onion", "status", "--config", str(config)),
        f"cannot reach tor's control port at 127.0.0.1:{port}",
    )


def test_a_missing_control_socket_is_named(settings: Settings, tmp_path: Path) -> None:
    config = settings.data_dir / "seethesigns.toml"
    socket = tmp_path / "no-such-control"
    config.write_text(config.read_text().replace('"/run/tor/control"', f'"{socket}"'))
    assert_clean_error(
        run("onion", "status", "--config", str(config)), f"tor's control port at {socket}"
    )


def test_add_client_with_a_public_key_prints_no_key(settings: Settings) -> None:
    config = str(settings.data_dir / "seethesigns.toml")
    public, private = device_keypair()
    result = run("onion", "add-client", "laptop", "--public-key", public, "--config", config)
    assert result.exit_code == 0, result.output
    address = OnionKeys(settings.tor.keys_dir).service_key("journalist").address
    assert result.stdout == f"Authorised laptop for http://{address}.onion.\n"
    assert private not in result.output
    assert OnionKeys(settings.tor.keys_dir).clients() == {"laptop": public}
    assert_clean_error(
        run("onion", "add-client", "again", "--public-key", public, "--config", config),
        "that key is already authorised, as 'laptop'",
    )
    assert_clean_error(
        run("onion", "add-client", "bad", "--public-key", public.lower(), "--config", config),
        "52 base32 characters",
    )


def test_list_clients_shows_names_and_public_keys(settings: Settings) -> None:
    config = str(settings.data_dir / "seethesigns.toml")
    assert run("onion", "list-clients", "--json", "--config", config).stdout == "[]\n"
    line = run("onion", "add-client", "phone", "--config", config).stdout.splitlines()[1]
    public, _ = device_keypair()
    run("onion", "add-client", "laptop", "--public-key", public, "--config", config)
    phone = OnionKeys(settings.tor.keys_dir).clients()["phone"]
    listed = run("onion", "list-clients", "--config", config)
    assert listed.exit_code == 0, listed.output
    assert listed.stdout == f"laptop  {public}\nphone  {phone}\n"
    as_json = run("onion", "list-clients", "--json", "--config", config)
    assert json.loads(as_json.stdout) == [
        {"name": "laptop", "public_key": public},
        {"name": "phone", "public_key": phone},
    ]
    assert line.rsplit(":", 1)[1] not in listed.output + as_json.output  # the private half


def test_the_idna_codec_is_loaded_before_serve_onion_starts_its_thread() -> None:
    """A worker forked while the publisher thread imported it could never encode a Host.

    CI saw every request through the onion answered with gunicorn's 500: "unknown encoding:
    idna" in the worker. A fresh interpreter shows the codec is loaded by the import alone.
    """
    check = (
        "import sys; import seethesigns.onion_cli; "
        "sys.exit(0 if 'encodings.idna' in sys.modules else 1)"
    )
    assert subprocess.run([sys.executable, "-c", check], check=False).returncode == 0
