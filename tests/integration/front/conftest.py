"""The nginx front (issue 10, finding 3): real nginx before real gunicorn processes.

gunicorn serves each interface with 1 worker x 4 threads on a unix socket, as in production
but smaller; nginx runs the configuration `seethesigns front nginx-config` renders, with its
timeouts turned down to 2 s through FrontConfig. Slow clients come MAX_STREAMS at a time:
what one Tor circuit may open.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from seethesigns.settings import Settings
from tests.conftest import OfflineKey, make_instance, short_tmpdir
from tests.databases import TemplateDatabase
from tests.integration.conftest import (
    Nginx,
    Server,
    front_config,
    nginx_binary,
    start_nginx,
    start_server,
    stop_nginx,
    stop_server,
)

MAX_BYTES = 1024 * 1024
THREADS = ["--threads", "4"]
# A loopback address nothing else uses: if it shows up in a file, it came from a test client.
CLIENT_ADDRESS = "127.0.0.77"
HALF_HEADERS = b"GET / HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\n"
HALF_FORM = (
    b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    b"Content-Length: 1000\r\n\r\ncodename="
)
HALF_UPLOAD = (
    b"POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
    b"Content-Length: 100000\r\n\r\n--b\r\n"
)


@dataclass
class Fronted:
    """An instance whose interfaces listen on unix sockets, behind nginx."""

    settings: Settings
    config: Path
    source: Server
    journalist: Server
    nginx: Nginx
    directory: Path
    log_dir: Path

    def written_by_servers(self) -> list[Path]:
        """Every folder nginx or gunicorn may write to in these tests."""
        return [self.directory, self.log_dir, self.settings.data_dir]


@pytest.fixture(scope="package")
def fronted(offline_key: OfflineKey, template_database: TemplateDatabase) -> Iterator[Fronted]:
    """Both interfaces under gunicorn on unix sockets, and nginx before them."""
    nginx_binary()
    settings = make_instance(offline_key, template_database, max_bytes=MAX_BYTES)
    config = settings.data_dir / "seethesigns.toml"
    directory = short_tmpdir("stsfront")
    log_dir = short_tmpdir("stslog")
    source = start_server("source", config, log_dir, THREADS, unix_socket=directory / "source.sock")
    journalist = start_server(
        "journalist", config, log_dir, THREADS, unix_socket=directory / "journalist.sock"
    )
    nginx = start_nginx(front_config(directory, directory, max_upload_bytes=MAX_BYTES), directory)
    yield Fronted(settings, config, source, journalist, nginx, directory, log_dir)
    stop_nginx(nginx)
    stop_server(source)
    stop_server(journalist)
    subprocess.run(
        ["gpgconf", "--homedir", str(settings.gnupg_homedir), "--kill", "all"], check=False
    )
    for folder in (settings.data_dir, directory, log_dir):
        shutil.rmtree(folder, ignore_errors=True)


def connect(port: int, address: str = "127.0.0.1") -> socket.socket:
    """A TCP connection to 127.0.0.1:port from the given loopback address."""
    conn = socket.socket()
    conn.bind((address, 0))
    conn.connect(("127.0.0.1", port))
    return conn


def slow_clients(port: int, count: int) -> list[socket.socket]:
    """count connections that send part of a request and stall: a third inside the headers,
    a third inside a form's body, a third inside an upload's body."""
    clients = []
    for number in range(count):
        conn = connect(port)
        conn.sendall((HALF_HEADERS, HALF_FORM, HALF_UPLOAD)[number % 3])
        clients.append(conn)
    return clients


def read_for(conn: socket.socket, seconds: float) -> bytes:
    """What conn receives within seconds, or until it is closed."""
    conn.settimeout(seconds)
    received = b""
    try:
        while chunk := conn.recv(65536):
            received += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return received


def read_response(conn: socket.socket, seconds: float = 5.0) -> bytes:
    """One whole response from conn, or what arrives before it closes or seconds pass
    (nginx keeps reading for a while after it refuses a body: this does not wait for that)."""
    conn.settimeout(seconds)
    received = b""
    try:
        while True:
            head, blank, rest = received.partition(b"\r\n\r\n")
            length = re.search(rb"(?im)^content-length: *(\d+)", head)
            if blank and length and len(rest) >= int(length.group(1)):
                return received
            chunk = conn.recv(65536)
            if not chunk:
                return received
            received += chunk
    except (TimeoutError, ConnectionResetError):
        return received


def seconds_until_closed(conn: socket.socket, limit: float = 15.0) -> float:
    """How long until the server closes conn, whatever it sends first."""
    started = time.monotonic()
    conn.settimeout(limit)
    try:
        while conn.recv(65536):
            pass
    except ConnectionResetError:
        pass
    return time.monotonic() - started


def timed_get(url: str) -> tuple[int, float]:
    """GET url: its status and how long it took."""
    started = time.monotonic()
    response = requests.get(url, timeout=30)
    return response.status_code, time.monotonic() - started
