"""Uploads through the front: streamed to gunicorn, never on nginx's disk; too large, refused."""

from __future__ import annotations

import gzip
import secrets
import shutil
import time

import requests

from seethesigns.instance_settings import Disguise
from tests.conftest import OfflineKey, multipart, short_tmpdir
from tests.integration.conftest import csrf, front_config, new_source, start_nginx, stop_nginx
from tests.integration.front.conftest import (
    MAX_BYTES,
    Fronted,
    connect,
    read_for,
    read_response,
)
from tests.integration.test_security_rules import found_in_files, open_regular_files


def test_upload_streams_through_nginx_and_is_stored_encrypted(
    fronted: Fronted, offline_key: OfflineKey
) -> None:
    marker = b"PLAINTEXT-MARKER-" + secrets.token_hex(8).encode()
    content = (marker + b"\n") * 20_000  # 540 KB: far past any buffer nginx has
    http = requests.Session()
    new_source(fronted.nginx.source_url, http)
    token = csrf(http.get(fronted.nginx.source_url + "/lookup").text)
    body, content_type = multipart(
        {"csrf_token": token, "msg": "message " + marker.decode()}, "fh", "secret.txt", content
    )
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    head = (
        f"POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    ).encode()
    with connect(fronted.nginx.config.source_port) as conn:
        conn.sendall(head + body[: len(body) * 3 // 4])
        time.sleep(1.0)  # nginx and a gunicorn worker now hold the upload mid-way
        pids = fronted.nginx.worker_pids() + fronted.source.worker_pids()
        held = [fd for pid in pids for fd in open_regular_files(pid)]
        assert not [fd for fd in held if marker in fd.read_bytes()]
        assert not found_in_files(marker, *fronted.written_by_servers())
        conn.sendall(body[len(body) * 3 // 4 :])
        reply = read_for(conn, 30)
    assert reply.startswith(b"HTTP/1.1 302"), reply[:300]
    assert not found_in_files(marker, *fronted.written_by_servers())
    stored = fronted.settings.store_dir.rglob
    documents = [offline_key.decrypt(p.read_bytes()) for p in stored("*-doc.gz.gpg")]
    assert content in [gzip.decompress(document) for document in documents]
    assert any(marker in offline_key.decrypt(p.read_bytes()) for p in stored("*-msg.gpg"))


def test_buffered_upload_would_leave_plaintext_in_nginx_temp_files(fronted: Fronted) -> None:
    """Control: had nginx buffered uploads (its default), the check above would catch it."""
    directory = short_tmpdir("stsfront")
    config = front_config(directory, fronted.directory, max_upload_bytes=MAX_BYTES)
    nginx = start_nginx(
        config,
        directory,
        edit=lambda text: text.replace(
            "proxy_request_buffering off;", "proxy_request_buffering on;"
        ),
    )
    marker = b"CONTROL-MARKER-" + secrets.token_hex(8).encode()
    body, content_type = multipart({}, "fh", "a.bin", (marker + b".") * 20_000)
    head = (
        f"POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    try:
        with connect(config.source_port) as conn:
            conn.sendall(head + body[: len(body) * 3 // 4])
            time.sleep(1.0)
            held = [fd for pid in nginx.worker_pids() for fd in open_regular_files(pid)]
            leaked = [fd for fd in held if marker in fd.read_bytes()]
            leaked += found_in_files(marker, directory)
        assert leaked, "nginx should have buffered the upload to a temporary file"
    finally:
        stop_nginx(nginx)
        shutil.rmtree(directory, ignore_errors=True)


def test_oversized_upload_gets_the_too_large_page(fronted: Fronted) -> None:
    config = fronted.nginx.config
    with connect(config.source_port) as conn:
        conn.sendall(
            b"POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b"
            + f"\r\nContent-Length: {config.upload_body_bytes + 1}\r\n\r\n--b\r\n".encode()
        )
        answer = read_response(conn)
    head, _, page = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), head
    assert b"Content-Type: text/html; charset=utf-8" in head
    assert b"Content-Security-Policy: default-src 'none'" in head
    text = page.decode("utf-8")
    assert "That file is too big" in text and "Files can be up to 1 MB in all" in text
    assert "Ten plik jest za duży" in text  # every language says it
    assert f'href="{Disguise().exit_url}"' in text  # the quick exit is there too
