"""Which tor control port or socket a command uses: flag over environment over the file.

`onion status` is the probe: with no tor listening, it names where it tried to connect.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from seethesigns.cli_options import CONTROL_PORT_ENV, CONTROL_SOCKET_ENV
from seethesigns.settings import Settings
from tests.integration.conftest import free_port
from tests.seethesigns.test_cli import run

FILE_SOCKET = 'control_socket = "/run/tor/control"'


def config_with(settings: Settings, tor_control: str) -> str:
    """The instance's config file with [tor]'s control line replaced; return its path."""
    config = settings.data_dir / "seethesigns.toml"
    text = config.read_text()
    assert FILE_SOCKET in text
    config.write_text(text.replace(FILE_SOCKET, tor_control))
    return str(config)


def tried(result_output: str) -> str:
    """Where the command tried to reach tor's control port, from its message."""
    marker = "cannot reach tor's control port at "
    assert marker in result_output, result_output
    return result_output.split(marker, 1)[1].split(":", 1)[0].split(" ")[0]


def test_a_flag_port_overrides_the_files_socket(settings: Settings) -> None:
    port = free_port()
    config = config_with(settings, FILE_SOCKET)
    result = run("onion", "status", "--control-port", str(port), "--config", config)
    assert f"cannot reach tor's control port at 127.0.0.1:{port}" in result.output


def test_a_flag_socket_overrides_the_files_port(settings: Settings, tmp_path: Path) -> None:
    config = config_with(settings, f"control_port = {free_port()}")
    socket = tmp_path / "control"
    result = run("onion", "status", "--control-socket", str(socket), "--config", config)
    assert tried(result.output) == str(socket)


def test_a_relative_socket_is_taken_from_the_working_directory(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = config_with(settings, FILE_SOCKET)
    result = run("onion", "status", "--control-socket", "tor/control", "--config", config)
    assert tried(result.output) == str(tmp_path / "tor" / "control")


def test_the_environment_overrides_the_file(settings: Settings, tmp_path: Path) -> None:
    port = free_port()
    config = config_with(settings, FILE_SOCKET)
    result = run("onion", "status", "--config", config, env={CONTROL_PORT_ENV: str(port)})
    assert f"at 127.0.0.1:{port}" in result.output
    config = config_with(settings, f"control_port = {port}")
    socket = tmp_path / "env-control"
    result = run("onion", "status", "--config", config, env={CONTROL_SOCKET_ENV: str(socket)})
    assert tried(result.output) == str(socket)


def test_a_flag_overrides_the_other_kind_in_the_environment(
    settings: Settings, tmp_path: Path
) -> None:
    port = free_port()
    socket = tmp_path / "control"
    config = config_with(settings, FILE_SOCKET)
    by_port = run(
        *("onion", "status", "--control-port", str(port), "--config", config),
        env={CONTROL_SOCKET_ENV: str(socket)},
    )
    assert f"at 127.0.0.1:{port}" in by_port.output
    by_socket = run(
        *("onion", "status", "--control-socket", str(socket), "--config", config),
        env={CONTROL_PORT_ENV: str(port)},
    )
    assert tried(by_socket.output) == str(socket)


def test_both_given_the_same_way_is_a_usage_error(settings: Settings, tmp_path: Path) -> None:
    config = config_with(settings, FILE_SOCKET)
    socket = str(tmp_path / "control")
    flags = run(
        *("onion", "status", "--control-port", "9051", "--control-socket", socket),
        *("--config", config),
    )
    assert flags.exit_code == 2, flags.output
    assert "not both options" in flags.output
    variables = run(
        "onion",
        "status",
        "--config",
        config,
        env={CONTROL_PORT_ENV: "9051", CONTROL_SOCKET_ENV: socket},
    )
    assert variables.exit_code == 2, variables.output
    assert "not both variables" in variables.output


@pytest.mark.parametrize("value", ["0", "65536", "ninety"])
def test_an_invalid_port_in_the_environment_is_a_usage_error(
    settings: Settings, value: str
) -> None:
    config = config_with(settings, FILE_SOCKET)
    result = run("onion", "status", "--config", config, env={CONTROL_PORT_ENV: value})
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--control-port'" in result.output
