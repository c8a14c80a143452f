"""The front's nginx configuration: its numbers, and nginx's own check of the text."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from seethesigns.cli import serve
from seethesigns.front.nginx import (
    DEFAULT_APP_THREADS,
    MAX_PAGE_BYTES,
    FrontConfig,
    FrontConfigError,
    nginx_string,
    render_nginx_config,
)
from seethesigns.onion import MAX_STREAMS
from seethesigns.settings import Settings
from source_interface.views.reports import submission_body
from tests.integration.conftest import nginx_binary

EXAMPLE = Path(__file__).parents[3] / "deploy" / "nginx" / "nginx.conf"


def front(**values: object) -> FrontConfig:
    """A front for the default ports and upload limit, with values changed."""
    ports = {"source_port": 8080, "journalist_port": 8081}
    return FrontConfig(**ports, max_upload_bytes=2**31, **values)  # type: ignore[arg-type]


def test_nginx_accepts_the_rendered_configuration(settings: Settings, tmp_path: Path) -> None:
    nginx = nginx_binary()
    directory = tmp_path
    (directory / "temp").mkdir()
    config = FrontConfig.from_settings(
        settings,
        directory,
        user=None,
        pid_file=directory / "nginx.pid",
        temp_dir=directory / "temp",
    )
    conf = directory / "nginx.conf"
    conf.write_text(render_nginx_config(config))
    checked = subprocess.run(
        [nginx, "-t", "-q", "-e", "stderr", "-p", str(directory), "-c", str(conf)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr


def test_the_example_in_deploy_is_what_a_default_instance_renders(settings: Settings) -> None:
    rendered = render_nginx_config(FrontConfig.from_settings(settings))
    assert EXAMPLE.read_text("utf-8") == rendered, (
        "deploy/nginx/nginx.conf is out of date: for an instance with the default [tor] ports "
        "and upload limit, run `seethesigns front nginx-config --output deploy/nginx/nginx.conf`"
    )


def test_the_upload_limit_is_the_apps_own(settings: Settings) -> None:
    front = FrontConfig.from_settings(settings)
    assert front.upload_body_bytes == submission_body(settings).max_bytes
    assert f"client_max_body_size {front.upload_body_bytes};" in render_nginx_config(front)


def test_the_default_threads_are_what_serve_starts() -> None:
    defaults = {param.name: param.default for param in serve.params}
    assert defaults["workers"] * defaults["threads"] == DEFAULT_APP_THREADS


@pytest.mark.parametrize("threads", [2, 3, 4, 16, 64])
def test_uploads_never_hold_every_thread(threads: int) -> None:
    config = front(app_threads=threads)
    assert 1 <= config.upload_slots < threads
    assert f"limit_conn uploads {config.upload_slots};" in render_nginx_config(config)


def test_one_circuit_cannot_fill_nginx() -> None:
    """Each stream of a circuit is a client connection and one to gunicorn: the default
    holds ten circuits' worth of streams, and a config that cannot hold one is refused."""
    assert front().worker_connections >= 10 * 2 * MAX_STREAMS
    with pytest.raises(FrontConfigError, match="MaxStreams"):
        front(worker_connections=2 * MAX_STREAMS)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"app_threads": 1}, "app_threads"),
        ({"log_level": "verbose"}, "log_level"),
        ({"header_timeout": 0}, "timeout"),
        ({"upload_timeout": 0}, "timeout"),
        ({"source_upstream": "10.0.0.5:8090"}, "unix socket"),
        ({"journalist_upstream": "unix:run/relative.sock"}, "unix socket"),
        ({"source_upstream": "unix:/run/a.sock; include /x"}, "unix socket"),
        ({"temp_dir": Path("/var/lib/my nginx")}, "cannot be written"),
        ({"user": "www-data; worker_processes 9"}, "cannot be written"),
    ],
)
def test_contradictions_are_refused(values: dict[str, object], message: str) -> None:
    with pytest.raises(FrontConfigError, match=message):
        front(**values)


def test_pages_become_literal_nginx_strings() -> None:
    assert nginx_string("it's a \\ test") == "'it\\'s a \\\\ test'"
    for bad in ("costs $5", "two\nlines", "x" * (MAX_PAGE_BYTES + 1)):
        with pytest.raises(FrontConfigError):
            nginx_string(bad)
