"""Malformed HTTP against real gunicorn: a quick, clear 4xx, no hang, nothing in the log.

Each request is written byte by byte on a raw socket, because the point is what a client
library would never send: an impossible Content-Length, a broken chunked body, a header line
that is not a header.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
import requests

from tests.integration.conftest import LiveInstance, Server

# Quick enough that a hang fails the test rather than the suite's patience.
ANSWER_WITHIN = 5.0
FORM = "application/x-www-form-urlencoded"


def address(server: Server) -> tuple[str, int]:
    """Where a server listens."""
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def send_raw(
    server: Server, data: bytes, *, source: str = "127.0.0.1", timeout: float = ANSWER_WITHIN
) -> bytes:
    """Send bytes on a fresh connection from a given loopback address; read until EOF.

    Raises socket.timeout when the server neither answers in full nor closes in time.
    """
    with socket.socket() as conn:
        conn.settimeout(timeout)
        conn.bind((source, 0))
        conn.connect(address(server))
        conn.sendall(data)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
        return received


def post_head(path: str, *headers: str) -> bytes:
    """A POST request line and headers, ending with the blank line."""
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def status_of(response: bytes) -> int:
    """The status code of a raw HTTP/1.1 response."""
    assert response.startswith(b"HTTP/1.1 "), response[:200]
    return int(response[9:12])


def head_of(response: bytes) -> str:
    """The status line and headers of a raw response, lowercased."""
    return response.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()


def log_of(server: Server) -> bytes:
    """Everything the server has written to its log so far."""
    server.log_handle.flush()
    return server.log.read_bytes()


@pytest.fixture
def both(live: LiveInstance) -> Iterator[tuple[Server, Server]]:
    """The two interfaces; neither may log a traceback during the test."""
    servers = (live.source, live.journalist)
    before = [len(log_of(server)) for server in servers]
    yield servers
    for server, start in zip(servers, before, strict=True):
        written = log_of(server)[start:]
        assert b"Traceback" not in written, written.decode(errors="replace")


IMPOSSIBLE_LENGTH = 10**12
# (interface, path, content type): every kind of POST, the upload routes included.
POSTS = [
    ("source", "/login", FORM),
    ("source", "/submit", "multipart/form-data; boundary=x"),
    ("journalist", "/login", FORM),
    ("journalist", "/admin/settings/logo", "multipart/form-data; boundary=x"),
    ("journalist", "/api/v1/token", "application/json"),
]


@pytest.mark.parametrize(("interface", "path", "content_type"), POSTS)
def test_an_impossible_content_length_is_refused_at_once(
    live: LiveInstance, both: tuple[Server, Server], interface: str, path: str, content_type: str
) -> None:
    server = live.source if interface == "source" else live.journalist
    started = time.monotonic()
    response = send_raw(
        server,
        post_head(path, f"Content-Type: {content_type}", f"Content-Length: {IMPOSSIBLE_LENGTH}"),
    )
    assert status_of(response) == 413
    assert "connection: close" in head_of(response)
    assert time.monotonic() - started < ANSWER_WITHIN


def test_idle_impossible_uploads_do_not_starve_the_site(live: LiveInstance) -> None:
    head = post_head("/login", f"Content-Type: {FORM}", f"Content-Length: {IMPOSSIBLE_LENGTH}")
    with ExitStack() as stack:
        for _ in range(20):  # more than the worker's threads
            conn = stack.enter_context(socket.create_connection(address(live.source)))
            conn.sendall(head)
        started = time.monotonic()
        assert requests.get(live.source.url + "/", timeout=ANSWER_WITHIN).status_code == 200
        assert time.monotonic() - started < ANSWER_WITHIN


BROKEN_CHUNKED = [
    ("source", "/login", FORM),
    ("source", "/submit", "multipart/form-data; boundary=x"),
    ("journalist", "/login", FORM),
    ("journalist", "/admin/settings/logo", "multipart/form-data; boundary=x"),
    ("journalist", "/api/v1/token", "application/json"),
]


@pytest.mark.parametrize(("interface", "path", "content_type"), BROKEN_CHUNKED)
def test_a_broken_chunked_body_is_a_400(
    live: LiveInstance, both: tuple[Server, Server], interface: str, path: str, content_type: str
) -> None:
    server = live.source if interface == "source" else live.journalist
    response = send_raw(
        server,
        post_head(path, f"Content-Type: {content_type}", "Transfer-Encoding: chunked") + b"zz\r\n",
    )
    assert status_of(response) == 400


def test_a_truncated_body_is_a_400(live: LiveInstance, both: tuple[Server, Server]) -> None:
    """The client declares 100 bytes, sends 10 and stops sending (but still listens)."""
    with socket.create_connection(address(live.source), timeout=ANSWER_WITHIN) as conn:
        conn.sendall(
            post_head("/login", f"Content-Type: {FORM}", "Content-Length: 100") + b"codename=a"
        )
        conn.shutdown(socket.SHUT_WR)
        response = conn.recv(65536)
    assert status_of(response) == 400


def test_no_client_address_reaches_the_log(live: LiveInstance) -> None:
    """gunicorn warns about a malformed header; the warning must not say who sent it."""
    distinctive = "127.0.0.77"  # any 127/8 address reaches a server on 127.0.0.1
    before = {server.log: len(log_of(server)) for server in (live.source, live.journalist)}
    for server in (live.source, live.journalist):
        response = send_raw(
            server,
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header Line\r\n\r\n",
            source=distinctive,
        )
        assert status_of(response) == 400
        deadline = time.monotonic() + ANSWER_WITHIN
        while b"Invalid request" not in log_of(server)[before[server.log] :]:
            assert time.monotonic() < deadline, "gunicorn should still log the refusal"
            time.sleep(0.05)
        assert distinctive.encode() not in log_of(server)


def test_responses_do_not_name_the_server_software(live: LiveInstance) -> None:
    for url in (
        live.source.url + "/",
        live.source.url + "/nowhere",
        live.journalist.url + "/login",
    ):
        response = requests.get(url, timeout=ANSWER_WITHIN)
        assert "Server" not in response.headers, response.headers
        assert "gunicorn" not in str(response.headers).lower()
