"""The Onionbalance frontend's files and a backend's ob_config (running it is tested over Tor)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from seethesigns.onion import OnionKeys, ServiceKey
from seethesigns.onion_balance import (
    BalanceError,
    backend_torrc,
    frontend_key,
    onionbalance_command,
    v3_address,
    write_backend_config,
    write_onionbalance_files,
)
from seethesigns.settings import Settings, TorSettings
from tests.seethesigns.test_cli import assert_clean_error, run

BACKEND_A = ServiceKey(bytes(range(32))).address
BACKEND_B = ServiceKey(bytes(range(1, 33))).address


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_an_address_is_checked_and_normalised() -> None:
    assert v3_address(f" {BACKEND_A.upper()}.onion\n") == BACKEND_A
    broken = BACKEND_A[:-2] + ("ab" if not BACKEND_A.endswith("ab") else "cd")
    for text in ("", "example.onion", BACKEND_A[:-1], broken):
        with pytest.raises(BalanceError):
            v3_address(text)


def test_the_frontend_files_are_private_and_name_the_backends(tmp_path: Path) -> None:
    keys = OnionKeys(tmp_path / "onion")
    config = write_onionbalance_files(keys, [BACKEND_A, f"{BACKEND_B}.onion"])
    assert mode(keys.directory / "frontend.ed25519") == 0o600
    assert mode(config.parent) == 0o700
    assert mode(config) == mode(config.parent / "frontend.pem") == 0o600
    # onionbalance reads it with yaml.safe_load; JSON is YAML.
    loaded = yaml.safe_load(config.read_text())
    assert loaded == json.loads(config.read_text())
    (service,) = loaded["services"]
    assert [i["address"] for i in service["instances"]] == [
        f"{BACKEND_A}.onion",
        f"{BACKEND_B}.onion",
    ]
    pem = load_pem_private_key(Path(service["key"]).read_bytes(), password=None)
    assert isinstance(pem, Ed25519PrivateKey)
    assert pem.private_bytes_raw() == frontend_key(keys).seed
    # The key is kept: a second start writes the same one.
    before = (config.parent / "frontend.pem").read_bytes()
    write_onionbalance_files(keys, [BACKEND_A])
    assert (config.parent / "frontend.pem").read_bytes() == before


def test_bad_backend_lists_are_refused(tmp_path: Path) -> None:
    keys = OnionKeys(tmp_path / "onion")
    frontend = frontend_key(keys).address
    for backends in ([], [BACKEND_A, BACKEND_A], [frontend], ["not-an-address"]):
        with pytest.raises(BalanceError):
            write_onionbalance_files(keys, backends)


def test_a_backend_gets_ob_config_and_the_options_onion_up_would_set(tmp_path: Path) -> None:
    service_dir = tmp_path / "hs"
    path = write_backend_config(service_dir, f"{BACKEND_A}.onion")
    assert path.read_text() == f"MasterOnionAddress {BACKEND_A}.onion\n"
    assert mode(service_dir) == 0o700
    settings = TorSettings(keys_dir=tmp_path / "onion", pow_queue_rate=7, pow_queue_burst=9)
    lines = backend_torrc(service_dir, "127.0.0.1:8080", settings)
    assert lines[:3] == [
        f"HiddenServiceDir {service_dir}",
        "HiddenServicePort 80 127.0.0.1:8080",
        "HiddenServiceOnionBalanceInstance 1",
    ]
    assert "HiddenServicePoWQueueRate 7" in lines
    assert "HiddenServicePoWQueueBurst 9" in lines


def test_onionbalance_uses_the_control_port_or_socket(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    by_port = TorSettings(keys_dir=tmp_path, control_port=9051, control_socket=None)
    command = onionbalance_command(config, by_port, testnet=False)
    assert command[1:] == [
        "--config", str(config), "--ip", "127.0.0.1", "--port", "9051", "--socket", "",
        "--verbosity", "info",
    ]  # fmt: skip
    by_socket = TorSettings(keys_dir=tmp_path, control_socket=Path("/run/tor/control"))
    command = onionbalance_command(config, by_socket, testnet=True)
    assert command[-1] == "--is-testnet"
    assert command[command.index("--socket") + 1] == "/run/tor/control"


def test_the_commands_refuse_bad_addresses_with_a_clear_error(settings: Settings) -> None:
    config = str(settings.data_dir / "seethesigns.toml")
    address = run("onion", "balance", "address", "--config", config)
    assert address.exit_code == 0, address.output
    frontend = address.output.strip()
    assert frontend == f"{frontend_key(OnionKeys(settings.tor.keys_dir)).address}.onion"
    bad = run("onion", "balance", "backend", str(settings.data_dir / "hs"), "--frontend", "x.onion",
              "--config", config)  # fmt: skip
    assert_clean_error(bad, "is not a v3 onion address")
    alone = run("onion", "balance", "up", frontend, "--config", config)
    assert_clean_error(alone, "the frontend address cannot also be a backend")
