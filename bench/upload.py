"""Benchmark: upload a large file through the real source interface under gunicorn.

Each round times one upload and, right after it, the floor on the same file: `gpg
--compress-algo none --encrypt` (the least any upload must cost). The old baselines, `gpg
--encrypt` (gpg's own compression) and `gzip -c | gpg --encrypt`, run as many times after all
the rounds, so that the minute each takes does not fall between an upload and its floor. The
may be busy, so each figure is the median of --rounds, and the ratio to the floor is the
median of each round's ratio. The worker's resident memory is sampled during the upload.
Prints figures; asserts nothing about timings.

Usage: python -m bench.upload [--mib 1024] [--kind random|text|both] [--rounds 3] [--no-old]
[--keep]
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bench.instance import SEETHESIGNS, create_form, free_port, make_instance, stop_agents

CHUNK = 1024 * 1024
WORDS = Path(__file__).parent.parent / "seethesigns" / "wordlists" / "eff_large_wordlist.txt"
# Distinct text before it repeats: far more than deflate's 32 KiB window, so no cheap wins.
TEXT_BLOCK = 8 * CHUNK


class MultipartFile:
    """A multipart/form-data body streamed from a file, with a known length."""

    def __init__(self, fields: dict[str, str], path: Path) -> None:
        self.boundary = "bench" + secrets.token_hex(12)
        head = "".join(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
            for k, v in fields.items()
        )
        head += (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="fh"; '
            f'filename="{path.name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        )
        self._parts = [head.encode(), None, f"\r\n--{self.boundary}--\r\n".encode()]
        self._file = path.open("rb")
        self.length = len(self._parts[0]) + path.stat().st_size + len(self._parts[2])  # type: ignore[arg-type]
        self._stage = 0

    def read(self, size: int = CHUNK) -> bytes:
        """The next piece of the body."""
        while self._stage < 3:
            part = self._parts[self._stage]
            if part is None:
                data = self._file.read(size)
                if data:
                    return data
                self._stage += 1
                continue
            self._stage += 1
            return part
        return b""


def make_file(path: Path, kind: str, mib: int) -> None:
    """mib MiB of random bytes, or of English-like text (random words from the EFF list)."""
    if kind == "random":
        block = None
    else:
        words = [line.split()[-1] for line in WORDS.read_text().splitlines() if line.strip()]
        rng = random.Random(16)
        text = " ".join(rng.choices(words, k=TEXT_BLOCK // 6)).encode()
        block = (text.replace(b" ", b"\n", len(text) // 400))[:TEXT_BLOCK]
    with path.open("wb") as handle:
        for n in range(mib):
            if block is None:
                handle.write(os.urandom(CHUNK))
            else:
                start = (n * CHUNK) % TEXT_BLOCK
                handle.write(block[start : start + CHUNK])


def children_cpu() -> float:
    """CPU seconds of this process's children that have ended (and been waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: str) -> tuple[float, float]:
    """Seconds a shell pipeline takes, and the CPU seconds it used."""
    cpu = children_cpu()
    start = time.perf_counter()
    subprocess.run(command, shell=True, check=True)  # noqa: S602 - fixed benchmark pipeline
    return time.perf_counter() - start, children_cpu() - cpu


def process_cpu(pid: int) -> float:
    """CPU seconds of a process, its threads and its children it has waited for (gpg)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int, field_name: str = "VmRSS") -> float:
    """A memory figure of a process from /proc, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def sampling_rss(pid: int) -> Iterator[list[float]]:
    """Sample the process's VmRSS every 20 ms while the body runs; yields the samples."""
    samples: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append(rss_mib(pid))
            stop.wait(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield samples
    finally:
        stop.set()
        thread.join()


@dataclass
class Figures:
    """One kind of file's timings over several rounds."""

    upload: list[float] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)
    gpg_default: list[float] = field(default_factory=list)
    gzip_gpg: list[float] = field(default_factory=list)
    rss_growth: list[float] = field(default_factory=list)
    # CPU seconds: less sensitive to a busy machine than wall time.
    cpu: dict[str, list[float]] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)


class Uploader:
    """A logged-in source on a running source interface."""

    def __init__(self, port: int, worker: int) -> None:
        self.port = port
        self.worker = worker
        base = f"http://127.0.0.1:{port}"
        self.web = requests.Session()
        self.web.post(base + "/create", data=create_form(self.web.get(base + "/generate").text))
        page = self.web.get(base + "/lookup")
        page.raise_for_status()
        self.token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        # Idle: logged in, no upload yet; every round's peak is measured against this.
        self.idle = rss_mib(worker)

    def upload(self, path: Path) -> tuple[float, float, float]:
        """Seconds to upload path, how far the worker's RSS rose above idle, CPU seconds.

        The CPU seconds are the worker's and its gpg processes', not the client's.
        """
        body = MultipartFile({"csrf_token": self.token}, path)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=3600, blocksize=CHUNK)
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.web.cookies)
        cpu = process_cpu(self.worker)
        with sampling_rss(self.worker) as samples:
            start = time.perf_counter()
            conn.request(
                "POST",
                "/submit",
                body=body,  # type: ignore[arg-type]
                headers={
                    "Content-Type": f"multipart/form-data; boundary={body.boundary}",
                    "Content-Length": str(body.length),
                    "Cookie": cookie,
                },
            )
            status = conn.getresponse().status
            seconds = time.perf_counter() - start
        conn.close()
        if status != 302:
            raise SystemExit(f"upload failed with HTTP {status}")
        used = process_cpu(self.worker) - cpu
        return seconds, max(samples, default=self.idle) - self.idle, used


def run_kind(
    kind: str, mib: int, rounds: int, work: Path, uploader: Uploader, fpr: str, old: bool
) -> Figures:
    """Every round of one kind of file; the stored and command-line sizes of the last."""
    upload = work / f"upload-{kind}.bin"
    make_file(upload, kind, mib)
    gpg = (
        f"gpg --homedir {work / 'data' / 'gnupg'} --batch --yes --trust-model always "
        f"--encrypt -r {fpr}"
    )
    out = work / "cli.gpg"
    store = work / "data" / "store"
    figures = Figures()
    for _ in range(rounds):
        before = set(store.rglob("*-doc.gz.gpg"))
        seconds, growth, cpu = uploader.upload(upload)
        figures.upload.append(seconds)
        figures.cpu.setdefault("upload", []).append(cpu)
        figures.rss_growth.append(growth)
        (stored,) = set(store.rglob("*-doc.gz.gpg")) - before
        figures.sizes["upload"] = stored.stat().st_size
        stored.unlink()
        run_commands(figures, out, [("floor", f"{gpg} --compress-algo none -o {out} {upload}")])
    # The old baselines after every pair of upload and floor: they take a minute or more a
    # round, and the writeback and heat they leave fell on the next round's upload.
    for _ in range(rounds if old else 0):
        old_ones = [
            ("gpg_default", f"{gpg} -o {out} {upload}"),
            ("gzip_gpg", f"gzip -c {upload} | {gpg} -o {out}"),
        ]
        run_commands(figures, out, old_ones)
    upload.unlink()
    return figures


def run_commands(figures: Figures, out: Path, commands: list[tuple[str, str]]) -> None:
    """Time each command, which writes out; keep its time, CPU and output size."""
    for name, command in commands:
        seconds, cpu = timed(command)
        getattr(figures, name).append(seconds)
        figures.cpu.setdefault(name, []).append(cpu)
        figures.sizes[name] = out.stat().st_size
        out.unlink()


def report(kind: str, mib: int, figures: Figures) -> None:
    """Print one kind's medians and ratios."""
    median = statistics.median
    rounds = len(figures.upload)
    print(f"\n{mib} MiB of {kind} data, median of {rounds} round(s)")
    print(f"{'':34}{'seconds':>9}{'MiB/s':>8}{'x floor':>9}{'stored MiB':>12}{'CPU s':>8}")
    rows = (
        ("through the source interface", "upload"),
        ("gpg --compress-algo none (floor)", "floor"),
        ("gpg --encrypt (old baseline)", "gpg_default"),
        ("gzip -c | gpg --encrypt (old)", "gzip_gpg"),
    )
    for label, name in rows:
        times = getattr(figures, name)
        if not times:
            continue
        ratio = median(t / f for t, f in zip(times, figures.floor, strict=True))
        print(
            f"{label:34}{median(times):9.2f}{mib / median(times):8.0f}{ratio:9.2f}"
            f"{figures.sizes[name] / CHUNK:12.1f}{median(figures.cpu[name]):8.2f}"
        )
    ratios = [round(u / f, 2) for u, f in zip(figures.upload, figures.floor, strict=True)]
    print(f"per-round upload / floor:          {ratios}")
    print(f"worker RSS above idle, peak:       {max(figures.rss_growth):.1f} MiB")


def start_server(config: Path, port: int) -> tuple[subprocess.Popen[bytes], int]:
    """One gunicorn worker with two threads, as a small instance runs; and the worker's pid."""
    command = [str(SEETHESIGNS), "serve", "source", "--port", str(port), "--workers", "1"]
    server = subprocess.Popen(
        [*command, "--threads", "2", "--config", str(config)], start_new_session=True
    )
    for _ in range(300):
        try:
            requests.get(f"http://127.0.0.1:{port}/", timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    return server, int(children[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=1024, help="file size in MiB (default 1024)")
    parser.add_argument("--kind", choices=["random", "text", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per kind (default 3)")
    parser.add_argument("--no-old", action="store_true", help="skip the old baselines")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="stsb", dir="/tmp"))
    server = None
    try:
        instance = make_instance(work)
        port = free_port()
        server, worker = start_server(instance.config, port)
        uploader = Uploader(port, worker)
        kinds = ["random", "text"] if args.kind == "both" else [args.kind]
        print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
        for kind in kinds:
            figures = run_kind(
                kind, args.mib, args.rounds, work, uploader, instance.fingerprint, not args.no_old
            )
            report(kind, args.mib, figures)
        print(f"\nworker VmHWM (peak over the whole run): {rss_mib(worker, 'VmHWM'):.1f} MiB")
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        stop_agents(work)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
