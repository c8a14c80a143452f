"""`onion status` without tor: targets checked over real HTTP, reasons, JSON, exit codes.

(With tor, over a private network: tests/integration/tor.)
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from seethesigns.onion import (
    JOURNALIST,
    NO_STAFF_DEVICE,
    SOURCE,
    OnionKeys,
    OnionService,
    publication_record,
)
from seethesigns.onion_status import NO_PUBLISHER, check_target, why_not_in_tor
from seethesigns.settings import Settings
from tests.integration.conftest import free_port
from tests.seethesigns.test_cli import run

ADDRESS = "a" * 56


class Recorder(BaseHTTPRequestHandler):
    """Answers every GET with 404 and notes the Host header it was sent."""

    hosts: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hosts.append(self.headers["Host"])
        self.send_error(404)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[ThreadingHTTPServer]:
    """A real HTTP server on 127.0.0.1 that answers 404 to everything."""
    Recorder.hosts = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def target_of(server: ThreadingHTTPServer) -> str:
    return f"127.0.0.1:{server.server_address[1]}"


def test_any_http_status_counts_and_the_onion_is_the_host(
    http_server: ThreadingHTTPServer,
) -> None:
    found = check_target(target_of(http_server), ADDRESS)
    assert (found.answers, found.http_status, found.error) == (True, 404, None)
    assert Recorder.hosts == [f"{ADDRESS}.onion"]


def test_nothing_listening_does_not_answer() -> None:
    found = check_target(f"127.0.0.1:{free_port()}", ADDRESS)
    assert (found.answers, found.http_status, found.error) == (False, None, "connection refused")


def test_a_listener_that_never_answers_times_out() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # the kernel accepts the connection; nobody reads the request
        found = check_target(f"127.0.0.1:{silent.getsockname()[1]}", ADDRESS, timeout=0.3)
    assert (found.answers, found.error) == (False, "no answer within 0.3 s")


def test_a_listener_that_does_not_speak_http_does_not_answer() -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()

        def greet() -> None:
            connection, _ = other.accept()
            with connection:
                connection.recv(1024)
                connection.sendall(b"SSH-2.0-OpenSSH\r\n")

        thread = threading.Thread(target=greet)
        thread.start()
        found = check_target(f"127.0.0.1:{other.getsockname()[1]}", ADDRESS)
        thread.join()
    assert not found.answers
    assert found.error is not None and found.error.startswith("not HTTP")


def test_the_staff_service_unpublished_for_want_of_a_device_says_so(tmp_path: Path) -> None:
    keys = OnionKeys(tmp_path / "onion")
    # What a running publisher records when it leaves the staff service down.
    record = {"address": ADDRESS, "target": "127.0.0.1:8081", "uploaded_at": None, "clients": []}
    keys.record_publication(JOURNALIST, {**record, "reason": NO_STAFF_DEVICE})
    running = keys.publication()[JOURNALIST]
    assert why_not_in_tor(JOURNALIST, running, 0) == NO_STAFF_DEVICE
    assert "add one with `seethesigns onion add-client NAME`" in NO_STAFF_DEVICE


def test_without_a_publisher_the_reason_is_the_missing_publisher() -> None:
    assert why_not_in_tor(SOURCE, None, 0) == NO_PUBLISHER
    assert why_not_in_tor(JOURNALIST, None, 2) == NO_PUBLISHER
    assert why_not_in_tor(JOURNALIST, None, 0) == f"{NO_PUBLISHER}, and {NO_STAFF_DEVICE}"


def test_a_published_service_tor_no_longer_runs_is_tor_having_lost_it() -> None:
    record = {"address": ADDRESS, "uploaded_at": "2026-01-01T00:00:00.000+00:00", "clients": None}
    assert why_not_in_tor(SOURCE, record, 0).startswith("tor lost it (restarted?)")


def status_config(settings: Settings, source_port: int, journalist_port: int) -> str:
    """The instance's config with no tor to talk to and the onions' targets on these ports."""
    config = settings.data_dir / "seethesigns.toml"
    text = config.read_text()
    for old, new in [
        ('control_socket = "/run/tor/control"', f"control_port = {free_port()}"),
        ("source_port = 8080", f"source_port = {source_port}"),
        ("journalist_port = 8081", f"journalist_port = {journalist_port}"),
    ]:
        assert old in text
        text = text.replace(old, new)
    config.write_text(text)
    return str(config)


def test_status_json_reports_each_service_and_its_target(
    settings: Settings, http_server: ThreadingHTTPServer
) -> None:
    journalist_port = free_port()
    config = status_config(settings, http_server.server_address[1], journalist_port)
    result = run("onion", "status", "--json", "--config", config)
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    keys = OnionKeys(settings.tor.keys_dir)
    address = {name: keys.service_key(name).address for name in (SOURCE, JOURNALIST)}
    assert set(report) == {
        "ok",
        "services",
        "authorised_staff_devices",
        "republication_pending",
    }
    assert (report["ok"], report["authorised_staff_devices"]) == (False, 0)
    assert report["republication_pending"] is False
    source, journalist = report["services"][SOURCE], report["services"][JOURNALIST]
    assert source["address"] == f"{address[SOURCE]}.onion"
    assert source["url"] == f"http://{address[SOURCE]}.onion"
    assert source["published"] is False
    assert source["reason"].startswith("cannot reach tor's control port at 127.0.0.1:")
    assert source["target"] == target_of(http_server)
    assert (source["target_answers"], source["target_http_status"]) == (True, 404)
    assert source["target_error"] is None
    assert journalist["address"] == f"{address[JOURNALIST]}.onion"
    assert journalist["target"] == f"127.0.0.1:{journalist_port}"
    assert (journalist["target_answers"], journalist["target_http_status"]) == (False, None)
    assert journalist["target_error"] == "connection refused"


def test_status_text_names_each_target(
    settings: Settings, http_server: ThreadingHTTPServer
) -> None:
    journalist_port = free_port()
    config = status_config(settings, http_server.server_address[1], journalist_port)
    OnionKeys(settings.tor.keys_dir).add_client("phone")
    result = run("onion", "status", "--config", config)
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("source      http://")
    assert "  not published: cannot reach tor's control port at 127.0.0.1:" in lines[0]
    assert lines[1] == f"            target {target_of(http_server)} answers (HTTP 404)"
    assert lines[3] == (
        f"            target 127.0.0.1:{journalist_port} does not answer: connection refused"
    )
    assert lines[4] == "authorised staff devices: 1"


def test_status_reports_a_new_key_under_an_old_name_as_pending(settings: Settings) -> None:
    config = status_config(settings, free_port(), free_port())
    keys = OnionKeys(settings.tor.keys_dir)
    keys.add_client("alice-laptop")
    staff = OnionService(JOURNALIST, "127.0.0.1:8081")
    # A running publisher (this process) has published the staff service for that key.
    keys.record_publication(JOURNALIST, publication_record(ADDRESS, staff, keys.clients()))
    before = json.loads(run("onion", "status", "--json", "--config", config).stdout)
    assert before["republication_pending"] is False
    keys.revoke_client("alice-laptop")
    keys.add_client("alice-laptop")
    after = json.loads(run("onion", "status", "--json", "--config", config).stdout)
    assert after["republication_pending"] is True


def test_status_exits_2_when_it_cannot_check(settings: Settings, tmp_path: Path) -> None:
    missing = run("onion", "status", "--json", "--config", str(tmp_path / "none.toml"))
    assert missing.exit_code == 2, missing.output
    assert "does not exist" in missing.output
    config = status_config(settings, free_port(), free_port())
    keys = OnionKeys(settings.tor.keys_dir)
    keys.service_key(SOURCE)
    (settings.tor.keys_dir / "source.ed25519").chmod(0o644)
    readable = run("onion", "status", "--config", config)
    assert readable.exit_code == 2, readable.output
    assert "readable by other users" in readable.output
    assert "Traceback" not in readable.output
