"""The security rules, checked against real gunicorn processes over real HTTP."""

from __future__ import annotations

import io
import os
import secrets
import socket
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
import requests
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from tests.conftest import OfflineKey, make_instance, multipart
from tests.databases import TemplateDatabase
from tests.integration.conftest import (
    LiveInstance,
    csrf,
    fresh_staff,
    new_source,
    staff_login,
    start_server,
    stop_server,
)


def files_under(*roots: Path) -> Iterator[Path]:
    """Every regular file below the given folders."""
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                yield path


def found_in_files(needle: bytes, *roots: Path) -> list[Path]:
    """The files below roots whose bytes contain needle."""
    return [path for path in files_under(*roots) if needle in path.read_bytes()]


def open_regular_files(pid: int) -> list[Path]:
    """The regular files a process holds open, including unlinked ones, via /proc."""
    found = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if stat.S_ISREG(os.stat(fd).st_mode):
                found.append(fd)
        except FileNotFoundError:
            continue
    return found


def test_detector_sees_werkzeug_default_spool() -> None:
    """Control: the /proc scan below does find plaintext in Werkzeug's default temp file."""
    marker = b"CONTROL-MARKER-" + secrets.token_hex(8).encode()
    body, content_type = multipart({}, "fh", "a.bin", (marker + b".") * 100_000)
    request = Request(
        EnvironBuilder(
            method="POST",
            input_stream=io.BytesIO(body),
            content_type=content_type,
            content_length=len(body),
        ).get_environ()
    )
    assert request.files["fh"]
    leaked = [fd for fd in open_regular_files(os.getpid()) if marker in fd.read_bytes()]
    request.close()
    assert leaked, "the detector should see Werkzeug's plaintext spool"


def test_no_plaintext_on_disk_even_mid_upload(live: LiveInstance, offline_key: OfflineKey) -> None:
    marker = b"PLAINTEXT-MARKER-" + secrets.token_hex(8).encode()
    http = requests.Session()
    new_source(live.source.url, http)
    token = csrf(http.get(live.source.url + "/lookup").text)
    message = "message " + marker.decode()
    body, content_type = multipart(
        {"csrf_token": token, "msg": message}, "fh", "secret.txt", (marker + b"\n") * 200_000
    )
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    head = (
        f"POST /submit HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    )
    port = int(live.source.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.sendall(head.encode() + body[: len(body) * 3 // 4])
        time.sleep(1.0)  # the worker is now parked mid-upload, its spool file open
        held = [fd for pid in live.source.worker_pids() for fd in open_regular_files(pid)]
        leaked = [fd for fd in held if marker in fd.read_bytes()]
        assert not leaked, f"plaintext in open files: {leaked}"
        assert not found_in_files(marker, live.settings.data_dir, live.log_dir)
        conn.sendall(body[len(body) * 3 // 4 :])
        reply = conn.recv(4096)
    assert reply.startswith(b"HTTP/1.1 302"), reply[:200]
    stored = list(live.settings.store_dir.rglob("*-doc.gz.gpg"))
    assert stored, "the upload should have been stored"
    assert not found_in_files(marker, live.settings.data_dir, live.log_dir)
    # It really is there, encrypted: the offline key recovers it.
    assert any(
        marker in offline_key.decrypt(p.read_bytes())
        for p in live.settings.store_dir.rglob("*-msg.gpg")
    )


def test_no_client_address_or_user_agent_kept(live: LiveInstance) -> None:
    tag = secrets.token_hex(6)
    agent = f"DistinctiveBrowser/7.1 (marker-{tag})"
    address = "198.51.100.77"  # documentation range, only ever sent as header text
    headers = {
        "User-Agent": agent,
        "X-Forwarded-For": address,
        "X-Real-IP": address,
        "Forwarded": f"for={address}",
    }
    source = requests.Session()
    source.headers.update(headers)
    codename = new_source(live.source.url, source)
    token = csrf(source.get(live.source.url + "/lookup").text)
    source.post(live.source.url + "/submit", data={"csrf_token": token, "msg": "hi"})
    login = source.get(live.source.url + "/login").text
    source.post(live.source.url + "/login", data={"csrf_token": csrf(login), "codename": "x y"})
    source.post(live.source.url + "/login", data={"csrf_token": csrf(login), "codename": codename})
    source.get(live.source.url + "/no-such-page")
    staff = requests.Session()
    staff.headers.update(headers)
    account = fresh_staff(live)
    staff_login(live, staff, {**account, "passphrase": "wrong"})
    assert staff_login(live, staff, account).status_code == 302
    staff.get(live.journalist.url + "/")
    for needle in (tag.encode(), address.encode(), b"127.0.0.1", b"DistinctiveBrowser"):
        assert not found_in_files(needle, live.settings.data_dir, live.log_dir), needle


def test_post_without_csrf_token_is_refused(live: LiveInstance) -> None:
    http = requests.Session()
    new_source(live.source.url, http)
    before = set(live.settings.store_dir.rglob("*.gpg"))
    response = http.post(live.source.url + "/submit", data={"msg": "no token"})
    assert response.status_code == 400
    assert set(live.settings.store_dir.rglob("*.gpg")) == before
    staff = requests.Session()
    assert staff_login(live, staff, fresh_staff(live)).status_code == 302
    assert staff.post(live.journalist.url + "/logout").status_code == 400
    assert staff.get(live.journalist.url + "/", allow_redirects=False).status_code == 200


def test_totp_code_cannot_be_replayed(live: LiveInstance) -> None:
    account = fresh_staff(live)
    code = pyotp.TOTP(account["totp_secret"]).now()
    assert staff_login(live, requests.Session(), account, code).status_code == 302
    replay = staff_login(live, requests.Session(), account, code)
    assert replay.status_code == 401


@pytest.fixture
def small_limit_source(
    offline_key: OfflineKey, template_database: TemplateDatabase
) -> Iterator[str]:
    """A source interface whose upload limit is 1 MiB."""
    settings = make_instance(offline_key, template_database, max_bytes=1024 * 1024)
    server = start_server("source", settings.data_dir / "seethesigns.toml", settings.data_dir)
    yield server.url
    stop_server(server)


@pytest.mark.parametrize("megabytes", [3, 8])  # over the file limit; over the request limit too
def test_oversized_file_gets_a_clear_page_not_a_reset(
    small_limit_source: str, megabytes: int
) -> None:
    http = requests.Session()
    new_source(small_limit_source, http)
    token = csrf(http.get(small_limit_source + "/lookup").text)
    response = http.post(
        small_limit_source + "/submit",
        data={"csrf_token": token},
        files={"fh": ("big.bin", os.urandom(megabytes * 1024 * 1024))},
    )
    assert response.status_code == 413
    assert "too big" in response.text
    assert "up to 1 MB" in response.text  # the file limit, not the whole-request limit
    # The instance still works afterwards, and nothing was kept.
    assert http.get(small_limit_source + "/lookup").status_code == 200
