"""Benchmark: completed /create + report sequences per second, on one and two app servers.

Three setups in one run, each a fresh instance made with `seethesigns init` at the production
argon2 cost (t=3, 64 MiB), served by `seethesigns serve source` (gunicorn, 2 workers x 8
threads each), and driven by the same client load:

1. one server on SQLite (the embedded default);
2. one server on PostgreSQL (a throwaway cluster this run starts, on a unix socket);
3. two servers on that PostgreSQL and one store directory, the clients spread over them
   round-robin, as Onionbalance spreads Tor clients over backends.

Each of --clients simulated sources loops for --seconds: load /generate, post /create (a new
codename: two argon2id runs and a keypair), load /lookup, send a short report. A /create that
finds every argon2 slot busy gets the "try again in a minute" page (503); the client waits
half a second and presses again, as a person would. Printed per setup: sequences completed
per second, /create p50 and p95 (successful ones, waiting included), how many 503s, and the
ratio to the first setup. Usage: python -m bench.scale_out [--clients 16] [--seconds 45]
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bench.create_burst import serve
from bench.instance import SEETHESIGNS, create_form, make_instance, stop_agents
from tests.databases import Cluster

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Tally:
    """What the clients of one setup did, shared between their threads."""

    sequences: int = 0
    busy: int = 0
    errors: int = 0
    create_seconds: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def one_sequence(base: str, tally: Tally, deadline: float) -> bool:
    """One new source: /generate, /create (retried while busy), /lookup, a report."""
    http = requests.Session()
    form = create_form(http.get(base + "/generate", timeout=120).text)
    started = time.perf_counter()
    while True:
        response = http.post(base + "/create", data=form, allow_redirects=False, timeout=300)
        if response.status_code != 503:
            break
        with tally.lock:
            tally.busy += 1
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    took = time.perf_counter() - started
    if response.status_code != 302:
        with tally.lock:
            tally.errors += 1
        return False
    page = http.get(base + "/lookup", timeout=120).text
    token = CSRF.search(page)
    sent = http.post(
        base + "/submit",
        data={"csrf_token": token.group(1) if token else "", "msg": "They wait outside school."},
        allow_redirects=False,
        timeout=120,
    )
    with tally.lock:
        if sent.status_code == 302:
            tally.sequences += 1
            tally.create_seconds.append(took)
        else:
            tally.errors += 1
    return True


def drive(bases: list[str], clients: int, seconds: float) -> tuple[Tally, float]:
    """clients threads, each bound to one server in turn, looping until the time is up."""
    tally = Tally()
    deadline = time.monotonic() + seconds
    servers = itertools.cycle(bases)
    chosen = [next(servers) for _ in range(clients)]

    def client(base: str) -> None:
        while time.monotonic() < deadline:
            try:
                one_sequence(base, tally, deadline)
            except requests.RequestException:
                with tally.lock:
                    tally.errors += 1

    began = time.perf_counter()
    threads = [threading.Thread(target=client, args=(base,)) for base in chosen]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally, time.perf_counter() - began


def use_postgresql(config: Path, url: str) -> None:
    """Point an instance made by init at a PostgreSQL database and migrate it there."""
    text = config.read_text()
    text = re.sub(r'(?m)^url = "sqlite:///[^"]*"$', f'url = "{url}"', text)
    config.write_text(text)
    subprocess.run(
        [str(SEETHESIGNS), "migrate", "--config", str(config)], check=True, capture_output=True
    )


def run_setup(
    name: str, servers: int, url: str | None, args: argparse.Namespace
) -> tuple[str, Tally, float]:
    work = Path(tempfile.mkdtemp(prefix="stsso", dir="/tmp"))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        instance = make_instance(work)
        if url is not None:
            use_postgresql(instance.config, url)
        bases = []
        for _ in range(servers):
            process, base = serve(instance.config, args.workers, args.threads)
            processes.append(process)
            bases.append(base)
        drive(bases, len(bases) * 2, 5)  # warm up: imports, a keypair and argon2 per worker
        tally, wall = drive(bases, args.clients, args.seconds)
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
        stop_agents(work)
        shutil.rmtree(work, ignore_errors=True)
    return name, tally, wall


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=16, help="concurrent sources (16)")
    parser.add_argument("--seconds", type=float, default=45.0, help="per setup (45)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker (8)")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="stspg", dir="/tmp"))
    base.chmod(0o711)  # a root run starts the cluster as postgres, which must pass through
    cluster = Cluster(base / "pg")
    cluster.home.mkdir()
    cluster.start()
    try:
        for database in ("one", "two"):
            cluster.execute(f"CREATE DATABASE {database}")
        setups = [
            ("1 server, SQLite", 1, None),
            ("1 server, PostgreSQL", 1, cluster.url("one")),
            ("2 servers, PostgreSQL", 2, cluster.url("two")),
        ]
        print(
            f"{args.clients} concurrent sources for {args.seconds:.0f} s per setup; each server "
            f"gunicorn {args.workers} workers x {args.threads} threads; argon2id t=3 m=64 MiB; "
            f"{os.cpu_count()} CPU cores"
        )
        print("setup                     seq/s  ratio  p50 s  p95 s  503s  err")
        first: float | None = None
        for name, servers, url in setups:
            name, tally, wall = run_setup(name, servers, url, args)
            rate = tally.sequences / wall
            first = first or rate
            p50 = percentile(tally.create_seconds, 0.5)
            p95 = percentile(tally.create_seconds, 0.95)
            print(
                f"{name:<24} {rate:6.2f} {rate / first:6.2f} {p50:6.2f} {p95:6.2f} "
                f"{tally.busy:5d} {tally.errors:4d}",
                flush=True,
            )
    finally:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
