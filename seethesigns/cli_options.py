"""What every `seethesigns` command shares: the --config option and loading settings."""

from __future__ import annotations

from pathlib import Path

import click

from seethesigns.settings import CONFIG_ENV, Settings, SettingsError, load_settings

CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=CONFIG_ENV,
    help=f"TOML configuration (default: ${CONFIG_ENV}).",
)


def settings_or_exit(config_path: Path | None) -> Settings:
    """Load settings, turning a bad configuration into a clear command-line error."""
    try:
        return load_settings(config_path)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
