"""`seethesigns front nginx-config`: nginx's configuration for this instance."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import click

from seethesigns.cli_options import CONFIG_OPTION, settings_or_exit
from seethesigns.front.nginx import (
    DEFAULT_APP_THREADS,
    DEFAULT_SOCKET_DIR,
    DEFAULT_USER,
    FrontConfig,
    FrontConfigError,
    render_nginx_config,
)


@click.group()
def front() -> None:
    """The nginx front before both interfaces (see docs/operators.md)."""


@front.command("nginx-config")
@click.option(
    "--socket-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_SOCKET_DIR,
    show_default=True,
    help="Where gunicorn's source.sock and journalist.sock are (systemd's sockets), for "
    "an interface that [serve] does not put on a port.",
)
@click.option(
    "--app-threads",
    type=int,
    default=DEFAULT_APP_THREADS,
    show_default=True,
    help="Workers x threads of `seethesigns serve source`; uploads may hold half.",
)
@click.option("--user", default=DEFAULT_USER, show_default=True, help="nginx's worker user.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Replace this file (e.g. /etc/nginx/nginx.conf) instead of printing.",
)
@CONFIG_OPTION
def nginx_config(
    socket_dir: Path, app_threads: int, user: str, output: Path | None, config_path: Path | None
) -> None:
    """Print nginx's whole configuration: both interfaces on [tor]'s ports on 127.0.0.1."""
    settings = settings_or_exit(config_path)
    try:
        config = FrontConfig.from_settings(settings, socket_dir, app_threads=app_threads, user=user)
    except FrontConfigError as exc:
        raise click.ClickException(str(exc)) from None
    text = render_nginx_config(config)
    if output is None:
        click.echo(text, nl=False)
        return
    # Written whole and renamed: nginx never reads half a file, and a failure leaves the old.
    temporary = output.with_name(f".{output.name}.{secrets.token_hex(4)}.tmp")
    try:
        temporary.write_text(text, "utf-8")
        temporary.chmod(0o644)
        os.replace(temporary, output)
    finally:
        temporary.unlink(missing_ok=True)
    click.echo(f"Wrote {output}; check it with: nginx -t -c {output}", err=True)
