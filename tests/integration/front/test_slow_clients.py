"""Slow clients against the front: they wait in nginx, never in a gunicorn thread."""

from __future__ import annotations

import shutil
import threading
import time

import requests

from seethesigns.onion import MAX_STREAMS
from tests.conftest import multipart, short_tmpdir
from tests.integration.conftest import (
    csrf,
    front_config,
    new_source,
    start_nginx,
    start_server,
    stop_nginx,
    stop_server,
)
from tests.integration.front.conftest import (
    HALF_FORM,
    MAX_BYTES,
    THREADS,
    Fronted,
    connect,
    read_for,
    seconds_until_closed,
    slow_clients,
    timed_get,
)


def test_slow_clients_leave_gunicorn_free_behind_nginx(fronted: Fronted) -> None:
    # nginx with production's timeouts (10 s and more): the slow clients outlast the test.
    directory = short_tmpdir("stsfront")
    production = front_config(
        directory,
        fronted.directory,
        max_upload_bytes=MAX_BYTES,
        header_timeout=10,
        body_timeout=10,
        upload_timeout=30,
    )
    nginx = start_nginx(production, directory)
    held = slow_clients(production.source_port, MAX_STREAMS)
    try:
        time.sleep(0.5)  # each gets as far as it can: nginx, or a gunicorn thread
        status, elapsed = timed_get(nginx.source_url + "/")
        print(f"\nGET / through nginx with {MAX_STREAMS} slow clients: {elapsed:.3f} s")
        assert status == 200
        assert elapsed < 2
        # Uploads beyond the slots were turned away at once, with the "try again" page.
        uploads = held[2::3]
        answers = [read_for(conn, 0.5) for conn in uploads]
        refused = [answer for answer in answers if answer]
        assert len(refused) == len(uploads) - production.upload_slots
        for answer in refused:
            assert answer.startswith(b"HTTP/1.1 503"), answer[:100]
            assert b"Something went wrong" in answer and b"try again" in answer
    finally:
        for conn in held:
            conn.close()
        stop_nginx(nginx)
        shutil.rmtree(directory, ignore_errors=True)


def test_the_same_slow_clients_starve_gunicorn_without_nginx(fronted: Fronted) -> None:
    """Control: straight to gunicorn, they hold every thread until they leave."""
    log_dir = short_tmpdir("stslog")
    direct = start_server("source", fronted.config, log_dir, THREADS)
    port = int(direct.url.rsplit(":", 1)[1])
    held = slow_clients(port, MAX_STREAMS)
    answered: list[tuple[int, float]] = []
    getter = threading.Thread(target=lambda: answered.append(timed_get(direct.url + "/")))
    try:
        time.sleep(0.5)
        getter.start()
        getter.join(timeout=5)
        assert not answered, "gunicorn answered while every thread was held"
    finally:
        for conn in held:
            conn.close()
        if getter.is_alive():
            getter.join(timeout=30)
        stop_server(direct)
        shutil.rmtree(log_dir, ignore_errors=True)
    status, elapsed = answered[0]
    print(f"\nGET / straight to gunicorn with {MAX_STREAMS} slow clients: {elapsed:.3f} s")
    assert status == 200
    assert elapsed >= 5


def test_nginx_cuts_stalled_clients_after_its_timeouts(fronted: Fronted) -> None:
    config = fronted.nginx.config
    http = requests.Session()
    new_source(fronted.nginx.source_url, http)
    token = csrf(http.get(fronted.nginx.source_url + "/lookup").text)
    body, content_type = multipart(
        {"csrf_token": token, "msg": "cut"}, "fh", "a.bin", b"x" * 50_000
    )
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    upload = (
        f"POST /submit HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nCookie: {cookie}\r\n\r\n"
    ).encode() + body[: len(body) // 2]
    before = set(fronted.settings.store_dir.rglob("*"))

    headers = connect(config.source_port)
    form = connect(config.source_port)
    uploading = connect(config.source_port)
    form.sendall(HALF_FORM)
    uploading.sendall(upload)
    cuts: dict[str, float] = {}
    watchers = [
        threading.Thread(target=lambda n=n, c=c: cuts.__setitem__(n, seconds_until_closed(c)))
        for n, c in (("form", form), ("upload", uploading))
    ]
    for watcher in watchers:
        watcher.start()
    # Trickling the headers does not help: client_header_timeout is for all of them.
    started = time.monotonic()
    headers.sendall(b"GET / HTTP/1.1\r\n")
    try:
        while time.monotonic() - started < config.header_timeout + 3:
            headers.sendall(b"X-Slow: 1\r\n")
            time.sleep(0.3)
    except (BrokenPipeError, ConnectionResetError):
        pass
    cuts["headers"] = time.monotonic() - started
    for watcher in watchers:
        watcher.join()
    print(f"\nnginx cut stalled clients after (s): { {k: round(v, 2) for k, v in cuts.items()} }")
    assert config.header_timeout - 0.2 <= cuts["headers"] <= config.header_timeout + 1.5
    assert config.body_timeout - 0.2 <= cuts["form"] <= config.body_timeout + 1.5
    assert config.upload_timeout - 0.2 <= cuts["upload"] <= config.upload_timeout + 1.5
    for conn in (headers, form, uploading):
        conn.close()
    # gunicorn saw the cut upload end early: nothing of it is kept, and its thread is free.
    time.sleep(0.5)
    assert set(fronted.settings.store_dir.rglob("*")) == before
    held = slow_clients(config.source_port, MAX_STREAMS)
    try:
        assert timed_get(fronted.nginx.source_url + "/")[0] == 200
    finally:
        for conn in held:
            conn.close()
