"""A burst of new codenames against real gunicorn: a cap on argon2 work, and calm 503s beyond it.

Issue 10: each /create costs two argon2id runs at 64 MiB, for anyone, and gunicorn runs eight
threads per worker. Here the source interface runs at the production argon2 cost with one
derivation at a time and no waiting ([argon2] max_concurrent = 1, busy_wait_seconds = 0), and
eight people press "Carry on" at the same moment.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.conftest import OfflineKey, create_form, make_instance, short_tmpdir
from tests.databases import TemplateDatabase
from tests.integration.conftest import Server, start_server, stop_server

BURST = 8  # gunicorn's threads per worker: all of them at once
ARGON2_MIB = 64


@dataclass
class Capped:
    """The source interface under gunicorn with one derivation slot per process."""

    server: Server
    data_dir: Path


@pytest.fixture(scope="module")
def capped(offline_key: OfflineKey, template_database: TemplateDatabase) -> Iterator[Capped]:
    settings = make_instance(offline_key, template_database)
    config = settings.data_dir / "seethesigns.toml"
    text = config.read_text()
    text = re.sub(r"(?m)^time_cost = .*$", "time_cost = 3", text)
    text = re.sub(r"(?m)^memory_cost_kib = .*$", f"memory_cost_kib = {ARGON2_MIB * 1024}", text)
    text = text.replace("[argon2]\n", "[argon2]\nmax_concurrent = 1\nbusy_wait_seconds = 0\n")
    config.write_text(text)
    log_dir = short_tmpdir("stslog")
    server = start_server("source", config, log_dir)
    yield Capped(server, settings.data_dir)
    stop_server(server)
    subprocess.run(
        ["gpgconf", "--homedir", str(settings.gnupg_homedir), "--kill", "all"], check=False
    )
    shutil.rmtree(settings.data_dir, ignore_errors=True)
    shutil.rmtree(log_dir, ignore_errors=True)


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def burst(
    url: str, people: int
) -> list[tuple[requests.Response, dict[str, str], requests.Session]]:
    """`people` browsers that each got a codename, all pressing "Carry on" at once."""
    browsers = []
    for _ in range(people):
        http = requests.Session()
        form = create_form(http.get(url + "/generate", timeout=30).text)
        browsers.append((http, form))
    start = threading.Barrier(people)
    answers: list[tuple[requests.Response, dict[str, str], requests.Session] | None] = [
        None
    ] * people

    def press(index: int) -> None:
        http, form = browsers[index]
        start.wait()
        response = http.post(url + "/create", data=form, allow_redirects=False, timeout=120)
        answers[index] = (response, form, http)

    threads = [threading.Thread(target=press, args=(i,)) for i in range(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(answer is not None for answer in answers)
    return [answer for answer in answers if answer is not None]


def test_a_burst_of_new_codenames_gets_some_503s_and_bounded_memory(capped: Capped) -> None:
    url = capped.server.url
    (worker,) = capped.server.worker_pids()
    # One codename first, so the worker has made a keypair and run argon2 once already.
    (warm,) = burst(url, 1)
    assert warm[0].status_code == 302
    before = peak_rss_mib(worker)
    answers = burst(url, BURST)
    statuses = sorted(response.status_code for response, _, _ in answers)
    assert set(statuses) <= {302, 503}, statuses
    assert 302 in statuses and 503 in statuses, statuses
    # Eight argon2 runs at once would need 8 x 64 MiB more; one at a time needs one.
    growth = peak_rss_mib(worker) - before
    assert growth < 3 * ARGON2_MIB, growth
    for response, form, http in answers:
        if response.status_code == 503:
            assert response.headers["Retry-After"] == "60"
            assert "Lots of people are using this right now" in response.text
            # The page keeps the same codename, and pressing again later works.
            kept = create_form(response.text)
            assert kept["codename"] == form["codename"] and kept["mac"] == form["mac"]
            again = http.post(url + "/create", data=kept, allow_redirects=False, timeout=120)
            assert again.status_code == 302, again.status_code
    errors = capped.server.log.read_text()
    assert "Traceback" not in errors
