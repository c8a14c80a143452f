"""Fuzzing HTTP framing against real gunicorn: no hang, no 5xx, no traceback, no stuck thread.

Each example writes one request byte by byte on a raw socket, to either interface: odd
methods and versions, Content-Length values that are negative, huge, repeated or not
numbers, Transfer-Encoding with broken chunks, bodies cut short, junk header lines. Then
the client stops sending (half-close) and must, within a few seconds, get an answer that is
not a 5xx, or see the connection closed. Derandomized, with no example database.
"""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Iterator

import pytest
import requests
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from tests.integration.conftest import LiveInstance, Server

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))  # FUZZ_EXAMPLES=5000 hunts
ANSWER_WITHIN = 5.0
PATHS = [
    "/",
    "/login",
    "/create",
    "/submit",
    "/logout",
    "/admin/settings/logo",
    "/sources/00000000-0000-0000-0000-000000000000/reply",
    "/api/v1/token",
    "/api/v1/seen",
    "/nowhere",
]
CONTENT_TYPES = [
    None,
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=b",
    "application/json",
    "text/plain",
]
LENGTHS = ["0", "5", "100", "-1", "abc", "1e3", " 10", "+10", "10, 10", "10, 11", "0x10"]
LENGTHS += [str(10**12), str(2**64), "9" * 40]
CODINGS = ["chunked", "gzip", "chunked, gzip", "gzip, chunked", "identity", "Chunked", "chunked "]
CHUNK_SIZES = ["0", "5", "zz", "-1", "ffffffffffffffffffff", '5;ext="x', "5 ", "", "0x5", "A"]
JUNK_LINES = ["Bad Header Line", "X-A: \x01", "X-B : spaced", " folded: line", "X-C: " + "c" * 9000]
# gunicorn answers a transfer coding it does not know with 501 Not Implemented, as RFC 9112
# section 6.1 has it: the one 5xx that is the client's doing.
NOT_IMPLEMENTED = 501
STATUS = re.compile(rb"(?:^|\r\n)HTTP/1\.[01] (\d{3}) ")


@st.composite
def chunked_bodies(draw: st.DrawFn) -> bytes:
    """Chunks, well or badly framed, perhaps without the last one."""
    body = b""
    for size in draw(st.lists(st.sampled_from(CHUNK_SIZES), min_size=1, max_size=4)):
        body += size.encode() + b"\r\n" + draw(st.binary(max_size=12)) + b"\r\n"
    if draw(st.booleans()):
        body += b"0\r\n" + draw(st.sampled_from([b"", b"X-Trailer: x\r\n", b"junk"])) + b"\r\n"
    return body


DEFECTS = [
    "none",
    "content length",
    "content length",
    "short body",
    "chunks",
    "chunks",
    "coding",
    "header line",
    "request line",
]


@st.composite
def raw_requests(draw: st.DrawFn) -> bytes:
    """A POST (mostly) with one thing wrong in how it is framed, or in its head."""
    defect = draw(st.sampled_from(DEFECTS))
    method, version = "POST", "HTTP/1.1"
    if defect == "request line":
        method = draw(st.sampled_from(["GET", "DELETE", "PUT", "G T", "POST\x00", "post"]))
        version = draw(st.sampled_from(["HTTP/1.0", "HTTP/9.9", "HTTP/1.1x", "HTTP/1"]))
    lines = [f"{method} {draw(st.sampled_from(PATHS))} {version}", "Host: 127.0.0.1"]
    content_type = draw(st.sampled_from(CONTENT_TYPES))
    if content_type:
        lines.append(f"Content-Type: {content_type}")
    body = draw(st.binary(max_size=300))
    if defect in ("chunks", "coding"):
        coding = "chunked" if defect == "chunks" else draw(st.sampled_from(CODINGS))
        lines.append(f"Transfer-Encoding: {coding}")
        body = draw(chunked_bodies())
        if draw(st.integers(0, 4)) == 0:
            lines.append(f"Content-Length: {len(body)}")
    elif defect == "content length":
        lines += [
            f"Content-Length: {n}"
            for n in draw(st.lists(st.sampled_from(LENGTHS), min_size=1, max_size=2))
        ]
    elif defect == "short body":
        lines.append(f"Content-Length: {len(body) + draw(st.integers(1, 10**6))}")
    else:
        lines.append(f"Content-Length: {len(body)}")
    if draw(st.integers(0, 5)) == 0:
        lines.append("Expect: 100-continue")
    if defect == "header line":
        lines.append(draw(st.sampled_from(JUNK_LINES)))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def exchange(server: Server, request: bytes) -> bytes:
    """Send a request, stop sending, and read until the server closes or stops answering.

    A server that answers and keeps the connection open (keep-alive) is done once it has
    been quiet for a moment after the answer; one that says nothing at all is a hang. A
    reset ends what was received, which the caller checks.
    """
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    received = b""
    with socket.create_connection((host, int(port)), timeout=ANSWER_WITHIN) as conn:
        conn.sendall(request)
        conn.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + ANSWER_WITHIN
        while time.monotonic() < deadline:
            conn.settimeout(0.5 if received else max(0.01, deadline - time.monotonic()))
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                if received:
                    return received
                continue
            except ConnectionResetError:
                return received
            if not chunk:
                return received
            received += chunk
    raise AssertionError(f"no answer and no close within {ANSWER_WITHIN} s")


@pytest.fixture
def servers(live: LiveInstance) -> Iterator[tuple[Server, Server]]:
    """Both interfaces; afterwards neither has logged a traceback, and both still answer."""
    servers = (live.source, live.journalist)
    before = [server.log.stat().st_size for server in servers]
    yield servers
    for server, start in zip(servers, before, strict=True):
        with server.log.open("rb") as log:
            log.seek(start)
            written = log.read()
        assert b"Traceback" not in written, written.decode(errors="replace")[-3000:]
        started = time.monotonic()
        assert requests.get(server.url + "/login", timeout=ANSWER_WITHIN).status_code == 200
        assert time.monotonic() - started < ANSWER_WITHIN


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(request=raw_requests(), staff_side=st.booleans())
def test_malformed_http_is_answered_promptly_and_never_with_a_5xx(
    servers: tuple[Server, Server], request: bytes, staff_side: bool
) -> None:
    note(repr(request[:500]))
    response = exchange(servers[staff_side], request)
    # A complete head always gets an answer: never silence, nor a reset that loses it.
    assert response.startswith((b"HTTP/1.1 ", b"HTTP/1.0 ")), response[:200]
    statuses = [int(status) for status in STATUS.findall(response)]
    assert [status for status in statuses if status >= 200], response[:500]
    for status in statuses:  # pipelined junk may get answers too
        allowed = status == NOT_IMPLEMENTED and b"Transfer-Encoding" in request
        assert status < 500 or allowed, response[:500]
