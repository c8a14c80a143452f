"""The publisher against a real tor that cannot reach any network (as on a server whose
network is down, or inside the deployment tests' containers)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from seethesigns.onion import SOURCE, OnionPublisher, OnionService
from seethesigns.settings import TorSettings
from tests.conftest import short_tmpdir
from tests.integration.conftest import free_port


@pytest.fixture
def offline_tor() -> Iterator[int]:
    """A tor with its network disabled; yields its control port (cookie authentication)."""
    if shutil.which("tor") is None:
        pytest.fail("tor is not installed (make system-packages)")
    home = short_tmpdir("stsoff")
    port = free_port()
    process = subprocess.Popen(
        [
            "tor",
            "--DataDirectory",
            str(home / "data"),
            "--ControlPort",
            f"127.0.0.1:{port}",
            "--CookieAuthentication",
            "1",
            "--SocksPort",
            "0",
            "--DisableNetwork",
            "1",
            "--Log",
            "err stderr",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "tor did not open its control port"
            time.sleep(0.1)
    yield port
    process.terminate()
    process.wait(timeout=10)
    if process.stderr is not None:
        process.stderr.close()
    shutil.rmtree(home, ignore_errors=True)


def test_a_stop_request_ends_a_publication_that_cannot_complete(
    offline_tor: int, tmp_path: Path
) -> None:
    """systemd's SIGTERM must not wait out the upload timeout (it killed the publisher at 90 s)."""
    settings = TorSettings(
        keys_dir=tmp_path / "onion", control_port=offline_tor, control_socket=None
    )
    publisher = OnionPublisher(
        settings, [OnionService(SOURCE, "127.0.0.1:9")], publish_timeout=60.0
    )
    stop = threading.Event()
    worker = threading.Thread(target=publisher.run, args=(stop,), daemon=True)
    worker.start()
    # The service is added to tor at once; its descriptor can never be uploaded.
    record = tmp_path / "onion"
    deadline = time.monotonic() + 20
    while not any(record.glob("*.ed25519")) and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)
    assert worker.is_alive(), "the publisher gave up on its own"
    asked = time.monotonic()
    stop.set()
    worker.join(timeout=10)
    assert not worker.is_alive(), "the publisher did not stop within 10 s of being asked"
    assert time.monotonic() - asked < 3.0
