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
    HttpsFront,
    render_nginx_config,
)
from seethesigns.onion import OnionError, OnionKeys
from seethesigns.settings import Settings


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
@click.option(
    "--https-domain",
    default=None,
    help="Also serve the source interface (never the staff one) over HTTPS at this domain "
    "(issue 17). Off unless given; needs --https-certificate and --https-key.",
)
@click.option("--https-certificate", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--https-key", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--https-port", type=int, default=443, show_default=True)
@click.option(
    "--http-port",
    type=int,
    default=80,
    show_default=True,
    help="Plain HTTP, which only redirects to HTTPS; 0 for none.",
)
@click.option(
    "--ocsp-stapling/--no-ocsp-stapling",
    default=False,
    help="Staple OCSP answers: only for a certificate from an issuer with a responder (ACME).",
)
@CONFIG_OPTION
def nginx_config(
    socket_dir: Path,
    app_threads: int,
    user: str,
    output: Path | None,
    https_domain: str | None,
    https_certificate: Path | None,
    https_key: Path | None,
    https_port: int,
    http_port: int,
    ocsp_stapling: bool,
    config_path: Path | None,
) -> None:
    """Print nginx's whole configuration: both interfaces on [tor]'s ports on 127.0.0.1,
    and with --https-domain the source interface on HTTPS too."""
    settings = settings_or_exit(config_path)
    try:
        https = None
        if https_domain is not None:
            if https_certificate is None or https_key is None:
                raise FrontConfigError("--https-domain needs --https-certificate and --https-key")
            https = HttpsFront(
                domain=https_domain,
                certificate=https_certificate,
                certificate_key=https_key,
                onion_address=source_onion_address(settings),
                port=https_port,
                http_port=http_port or None,
                ocsp_stapling=ocsp_stapling,
            )
        config = FrontConfig.from_settings(
            settings, socket_dir, app_threads=app_threads, user=user, https=https
        )
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


def source_onion_address(settings: Settings) -> str:
    """The source onion service's address, from its key (made now if there is none yet)."""
    try:
        return OnionKeys(settings.tor.keys_dir).service_key("source").address
    except OnionError as exc:
        raise FrontConfigError(str(exc)) from None
