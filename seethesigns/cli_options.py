"""What `seethesigns` commands share: --config, tor's control options, loading settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import click
from click.core import ParameterSource

from seethesigns.settings import CONFIG_ENV, Settings, SettingsError, TorControl, load_settings

CONTROL_PORT_ENV = "SEETHESIGNS_TOR_CONTROL_PORT"
CONTROL_SOCKET_ENV = "SEETHESIGNS_TOR_CONTROL_SOCKET"
# A flag beats the environment, which beats the configuration file.
RANK = {ParameterSource.COMMANDLINE: 2, ParameterSource.ENVIRONMENT: 1}

CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=CONFIG_ENV,
    help=f"TOML configuration (default: ${CONFIG_ENV}).",
)

Command = TypeVar("Command", bound=Callable[..., object])


def control_options(command: Command) -> Command:
    """--control-port and --control-socket, each also read from its environment variable."""
    socket = click.option(
        "--control-socket",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar=CONTROL_SOCKET_ENV,
        help=f"tor's control socket, instead of the one in [tor] (or ${CONTROL_SOCKET_ENV}).",
    )
    port = click.option(
        "--control-port",
        type=click.IntRange(1, 65535),
        envvar=CONTROL_PORT_ENV,
        help=f"tor's control port on 127.0.0.1, instead of [tor] (or ${CONTROL_PORT_ENV}).",
    )
    return port(socket(command))


def chosen_control(port: int | None, socket: Path | None) -> TorControl | None:
    """The control port or socket given as a flag or in the environment, if any.

    The one given the stronger way wins (a flag over an environment variable), and either
    replaces what the file says. Both given the same way is a usage error: neither is meant
    more than the other.
    """
    context = click.get_current_context()

    def rank(name: str, value: object) -> int:
        source = context.get_parameter_source(name) if value is not None else None
        return RANK.get(source or ParameterSource.DEFAULT, 0)

    port_rank, socket_rank = rank("control_port", port), rank("control_socket", socket)
    if port_rank and port_rank == socket_rank:
        how = "options" if port_rank == RANK[ParameterSource.COMMANDLINE] else "variables"
        raise click.UsageError(f"give tor's control port or its control socket, not both {how}")
    if port is not None and port_rank > socket_rank:
        return TorControl(port=port)
    if socket is not None and socket_rank > port_rank:
        return TorControl(socket=socket.absolute())
    return None


class ConfigurationError(click.ClickException):
    """A command that cannot start because of its configuration: exit code 2, as for usage."""

    exit_code = 2


def settings_or_exit(
    config_path: Path | None,
    control: TorControl | None = None,
    *,
    error: type[click.ClickException] = click.ClickException,
) -> Settings:
    """Load settings (with tor's control choice, if given), or raise error with a clear message."""
    try:
        settings = load_settings(config_path)
    except SettingsError as exc:
        raise error(str(exc)) from None
    return settings if control is None else replace(settings, tor=control.apply(settings.tor))
