"""No client address or user agent gets past the front, into its log or to gunicorn."""

from __future__ import annotations

import secrets
import shutil
import socketserver
import threading
import time

from tests.conftest import short_tmpdir
from tests.integration.conftest import front_config, start_nginx, stop_nginx
from tests.integration.front.conftest import (
    CLIENT_ADDRESS,
    HALF_FORM,
    HALF_HEADERS,
    HALF_UPLOAD,
    MAX_BYTES,
    Fronted,
    connect,
    read_for,
    read_response,
    seconds_until_closed,
)
from tests.integration.test_security_rules import found_in_files


def misbehave(port: int, address: str, upload_slots: int) -> None:
    """Good and bad requests from address: a page, malformed requests, oversized bodies,
    clients that stall until nginx cuts them, and uploads beyond the slots."""
    for request in (
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET /no-such-page HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
        b"GET / HTTP/1.1\r\n\r\n",
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03",
        b"GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n",
        b"POST /submit HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n",
        b"POST /login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ):
        with connect(port, address) as conn:
            conn.sendall(request)
            assert read_response(conn, 3).startswith(b"HTTP/1.1 "), request
    starts = [HALF_HEADERS, HALF_FORM] + [HALF_UPLOAD] * (upload_slots + 2)
    stalled = [connect(port, address) for _ in starts]
    for conn, start in zip(stalled, starts, strict=True):
        conn.sendall(start)
    for conn in stalled:
        seconds_until_closed(conn)
        conn.close()


def test_no_client_address_reaches_any_file(fronted: Fronted) -> None:
    config = fronted.nginx.config
    misbehave(config.source_port, CLIENT_ADDRESS, config.upload_slots)
    misbehave(config.journalist_port, CLIENT_ADDRESS, config.upload_slots)
    time.sleep(0.5)
    written = fronted.written_by_servers()
    assert (fronted.directory / "nginx.stderr").exists()
    assert not found_in_files(CLIENT_ADDRESS.encode(), *written)


def test_a_more_verbose_error_log_would_name_the_client(fronted: Fronted) -> None:
    """Control: at nginx's "info" level the same requests leave the address in its log."""
    directory = short_tmpdir("stsfront")
    config = front_config(
        directory, fronted.directory, max_upload_bytes=MAX_BYTES, log_level="info"
    )
    nginx = start_nginx(config, directory)
    try:
        misbehave(config.source_port, CLIENT_ADDRESS, config.upload_slots)
    finally:
        stop_nginx(nginx)
    try:
        assert found_in_files(CLIENT_ADDRESS.encode(), directory) == [directory / "nginx.stderr"]
    finally:
        shutil.rmtree(directory, ignore_errors=True)


class EchoHandler(socketserver.StreamRequestHandler):
    """Answers a request with the request head it received: what nginx passed on."""

    def handle(self) -> None:
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            byte = self.rfile.read(1)
            if not byte:
                return
            head += byte
        self.wfile.write(
            b"HTTP/1.1 200 OK\r\nServer: EchoServer/1.0\r\nConnection: close\r\n"
            + f"Content-Length: {len(head)}\r\n\r\n".encode()
            + head
        )


def test_gunicorn_learns_nothing_about_the_client() -> None:
    directory = short_tmpdir("stsfront")
    upstream = socketserver.ThreadingUnixStreamServer(str(directory / "source.sock"), EchoHandler)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    config = front_config(directory, directory)
    nginx = start_nginx(config, directory)
    tag = secrets.token_hex(6)
    elsewhere = "198.51.100.7"  # documentation range, only ever sent as header text
    try:
        with connect(config.source_port, CLIENT_ADDRESS) as conn:
            conn.sendall(
                "GET /page?l=pl HTTP/1.1\r\nHost: abcdef.onion\r\nConnection: close\r\n"
                f"User-Agent: Agent-{tag}\r\nX-Forwarded-For: {elsewhere}\r\n"
                f"X-Real-IP: {elsewhere}\r\nForwarded: for={elsewhere}\r\n"
                "X-Forwarded-Proto: https\r\nX-Forwarded-Host: elsewhere.example\r\n\r\n".encode()
            )
            answer = read_for(conn, 5)
    finally:
        stop_nginx(nginx)
        upstream.shutdown()
        upstream.server_close()
        shutil.rmtree(directory, ignore_errors=True)
    head, _, passed = answer.partition(b"\r\n\r\n")
    assert passed.startswith(b"GET /page?l=pl HTTP/1.1\r\n"), answer
    names = {line.split(b":")[0].lower() for line in passed.split(b"\r\n")[1:] if line}
    assert names == {b"host", b"connection"}
    assert b"\r\nHost: localhost\r\n" in passed
    for needle in (CLIENT_ADDRESS, elsewhere, tag, "abcdef.onion", "elsewhere.example"):
        assert needle.encode() not in passed
    # The answer names nginx without its version, and not what is behind it.
    server = [line for line in head.split(b"\r\n") if line.lower().startswith(b"server:")]
    assert server == [b"Server: nginx"]
