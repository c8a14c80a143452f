"""Uploads encrypted while they arrive, under gunicorn (issue 16).

A real client sends part of a large file and stops: meanwhile the source's folder holds
only ciphertext under a .partial name and gpg runs beside the worker; when the client
disconnects, gpg is stopped and the file is gone. A whole upload is stored as before.
"""

from __future__ import annotations

import gzip
import os
import secrets
import socket
import time
from collections.abc import Callable
from pathlib import Path

import requests

from tests.conftest import OfflineKey
from tests.integration.conftest import LiveInstance, csrf, new_source

MARKER = b"SECRET-PLAINTEXT-MARKER-"
MIB = 1024 * 1024


def text(size: int) -> bytes:
    """Compressible content with the plaintext marker throughout."""
    line = MARKER + secrets.token_hex(8).encode() + b"\n"
    return (line * (size // len(line) + 1))[:size]


def gpg_children(live: LiveInstance) -> list[int]:
    """gpg processes started by the source interface's worker (from any of its threads)."""
    found = []
    for worker in live.source.worker_pids():
        for task in Path(f"/proc/{worker}/task").iterdir():
            for pid in (task / "children").read_text().split():
                if Path(f"/proc/{pid}/comm").read_text().strip() == "gpg":
                    found.append(int(pid))
    return found


def files_in(store: Path) -> set[Path]:
    """Every file in the store."""
    return {path for path in store.rglob("*") if path.is_file()}


def wait_for(condition: Callable[[], object], seconds: float = 60) -> None:
    """Poll condition until it holds (a busy machine is slow), or fail."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def logged_in(live: LiveInstance) -> tuple[requests.Session, str]:
    """A new source's HTTP session and the CSRF token of its report form."""
    http = requests.Session()
    new_source(live.source.url, http)
    return http, csrf(http.get(live.source.url + "/lookup").text)


def test_a_client_that_disconnects_mid_file_leaves_nothing(live: LiveInstance) -> None:
    store = live.settings.store_dir
    before = files_in(store)
    http, token = logged_in(live)
    boundary = "cut" + secrets.token_hex(8)
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="fh"; filename="notes.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    port = int(live.source.url.rsplit(":", 1)[1])
    request = (
        f"POST /submit HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(head) + 64 * MIB}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port)) as conn:
        # Text, so the file is deflated, then noise: deflated text is so small that zlib and
        # gpg could still hold all of it in their buffers.
        conn.sendall(request + head + text(MIB) + os.urandom(8 * MIB))

        def arriving() -> list[Path]:
            return [path for path in files_in(store) - before if path.stat().st_size > 0]

        wait_for(arriving)
        (partial,) = arriving()
        assert partial.name.startswith(".partial-")
        assert MARKER not in partial.read_bytes()
        assert gpg_children(live)
    # The client is gone, 56 MiB short.
    wait_for(lambda: not gpg_children(live) and files_in(store) == before)


def test_a_whole_upload_is_stored(live: LiveInstance, offline_key: OfflineKey) -> None:
    store = live.settings.store_dir
    before = files_in(store)
    http, token = logged_in(live)
    content = text(5 * MIB) + os.urandom(MIB)
    sent = http.post(
        live.source.url + "/submit",
        data={"csrf_token": token},
        files={"fh": ("notes.txt", content, "text/plain")},
        allow_redirects=False,
    )
    assert sent.status_code == 302, sent.text
    (stored,) = files_in(store) - before
    assert stored.name.endswith("-doc.gz.gpg")
    ciphertext = stored.read_bytes()
    assert MARKER not in ciphertext
    assert gzip.decompress(offline_key.decrypt(ciphertext)) == content
    assert not gpg_children(live)


def test_a_bad_csrf_token_stores_nothing(live: LiveInstance) -> None:
    """The file was encrypted as it arrived; the refused request throws it away."""
    store = live.settings.store_dir
    before = files_in(store)
    http, _token = logged_in(live)
    sent = http.post(
        live.source.url + "/submit",
        data={"csrf_token": "forged"},
        files={"fh": ("notes.txt", text(2 * MIB), "text/plain")},
        allow_redirects=False,
    )
    assert sent.status_code == 400
    wait_for(lambda: files_in(store) == before and not gpg_children(live))
