"""Benchmark: many people pressing "Carry on" (/create) at once, with and without the argon2 cap.

Each /create costs two argon2id runs at the production cost (t=3, 64 MiB) and a keypair. The
source interface runs under `seethesigns serve` (gunicorn, 2 workers x 8 threads by default);
N browsers first load /generate, then all post /create together. For each cap on concurrent
derivations per worker ([argon2] max_concurrent; "off" is one slot per thread, so no cap), this
prints how many got 302 (a new source) and 503 ("try again in a minute"), the wall time, and
the workers' peak resident memory. Usage: python -m bench.create_burst [--people 16]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

from bench.instance import SEETHESIGNS, create_form, free_port, make_instance, stop_agents


def memory_mib(pid: int, field: str) -> float:
    """VmRSS (now) or VmHWM (peak so far) of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def serve(config: Path, workers: int, threads: int) -> tuple[subprocess.Popen[bytes], str]:
    """Start the source interface and wait until it answers."""
    port = free_port()
    command = [str(SEETHESIGNS), "serve", "source", "--port", str(port), "--config", str(config)]
    command += ["--workers", str(workers), "--threads", str(threads)]
    server = subprocess.Popen(command, start_new_session=True, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            requests.get(base + "/", timeout=5)
            return server, base
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    raise RuntimeError("the source interface did not start")


def workers_of(server: subprocess.Popen[bytes]) -> list[int]:
    """The gunicorn worker processes."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    return [int(pid) for pid in children.read_text().split()]


def burst(base: str, people: int) -> tuple[Counter[int], float]:
    """people browsers with a codename each, posting /create at the same moment."""
    browsers = []
    for _ in range(people):
        http = requests.Session()
        browsers.append((http, create_form(http.get(base + "/generate").text)))
    start = threading.Barrier(people + 1)
    statuses: Counter[int] = Counter()

    def press(http: requests.Session, form: dict[str, str]) -> None:
        start.wait()
        response = http.post(base + "/create", data=form, allow_redirects=False, timeout=600)
        statuses[response.status_code] += 1

    threads = [threading.Thread(target=press, args=browser) for browser in browsers]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return statuses, time.perf_counter() - began


def run(work: Path, cap: int, wait: float, args: argparse.Namespace) -> str:
    """One configuration on a fresh instance: the figures as one table row."""
    instance = make_instance(work)
    text = instance.config.read_text()
    extra = f"max_concurrent = {cap}\nbusy_wait_seconds = {wait}\n"
    instance.config.write_text(text.replace("[argon2]\n", "[argon2]\n" + extra))
    server, base = serve(instance.config, args.workers, args.threads)
    try:
        burst(base, args.workers)  # warm up: imports, a keypair, argon2 once per worker or so
        pids = workers_of(server)
        before = sum(memory_mib(pid, "VmRSS") for pid in pids)
        statuses, wall = burst(base, args.people)
        peaks = [memory_mib(pid, "VmHWM") for pid in pids]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        stop_agents(work)
    other = sum(n for status, n in statuses.items() if status not in (302, 503))
    label = "off" if cap >= args.threads else str(cap)
    return (
        f"{label:>5} {wait:5.1f} {statuses[302]:5d} {statuses[503]:5d} {other:6d} {wall:7.2f}"
        f" {before:10.0f} {sum(peaks):10.0f}  {' + '.join(f'{p:.0f}' for p in peaks)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=16, help="concurrent /create (16)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker (8)")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    print(
        f"{args.people} concurrent /create; gunicorn {args.workers} workers x {args.threads} "
        f"threads; argon2id t=3 m=64 MiB; {cores} CPU cores"
    )
    print("  cap  wait   302   503  other  wall s  RSS before  peak RSS  (per worker, MiB)")
    for cap, wait in ((args.threads, 1.0), (cores, 1.0), (1, 1.0), (cores, 0.0)):
        work = Path(tempfile.mkdtemp(prefix="stsc", dir="/tmp"))
        try:
            print(run(work, cap, wait, args), flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
