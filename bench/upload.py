"""Benchmark: upload a large file through the real source interface under gunicorn.

Prints the upload time as a ratio to the same work done by the command-line tools in the same
run (`gzip -c FILE | gpg --encrypt`, and `gpg --encrypt` alone), and the server worker's peak
resident memory. Usage: python -m bench.upload [--mib 1024] [--keep]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import requests

from bench.instance import SEETHESIGNS, create_form, free_port, make_instance, stop_agents

CHUNK = 1024 * 1024


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


def timed(command: str) -> float:
    start = time.perf_counter()
    subprocess.run(command, shell=True, check=True)  # noqa: S602 - fixed benchmark pipeline
    return time.perf_counter() - start


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=1024, help="file size in MiB (default 1024)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="stsb", dir="/tmp"))
    server = None
    try:
        instance = make_instance(work)
        config, fingerprint = instance.config, instance.fingerprint
        upload = work / "upload.bin"
        with upload.open("wb") as handle:
            for _ in range(args.mib):
                handle.write(os.urandom(CHUNK))
        port = free_port()
        server = subprocess.Popen(
            [
                str(SEETHESIGNS),
                "serve",
                "source",
                "--port",
                str(port),
                "--workers",
                "1",
                "--threads",
                "2",
                "--config",
                str(config),
            ],
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                requests.get(base + "/", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        web = requests.Session()
        page = web.get(base + "/generate").text
        form = create_form(page)
        web.post(base + "/create", data=form).raise_for_status()
        token = re.search(
            r'name="csrf_token" value="([^"]+)"', web.get(base + "/lookup").text
        ).group(1)  # type: ignore[union-attr]
        worker = int(Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()[0])
        rss_before = peak_rss_mib(worker)

        body = MultipartFile({"csrf_token": token}, upload)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3600, blocksize=CHUNK)
        cookie = "; ".join(f"{c.name}={c.value}" for c in web.cookies)
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
        upload_s = time.perf_counter() - start
        assert status == 302, f"upload failed with HTTP {status}"
        rss_after = peak_rss_mib(worker)

        gpg = (
            f"gpg --homedir {work / 'data' / 'gnupg'} --batch --yes --trust-model always "
            f"--encrypt -r {fingerprint}"
        )
        pipeline_s = timed(f"gzip -c {upload} | {gpg} -o {work / 'cli.gz.gpg'}")
        gpg_only_s = timed(f"{gpg} -o {work / 'cli.gpg'} {upload}")
        stored = next((work / "data" / "store").rglob("*-doc.gz.gpg"))

        print(f"file size:                      {args.mib} MiB of random bytes")
        print(
            f"through the source interface:   {upload_s:8.2f} s  ({args.mib / upload_s:.0f} MiB/s)"
        )
        print(f"gzip -c | gpg --encrypt:        {pipeline_s:8.2f} s")
        print(f"gpg --encrypt alone:            {gpg_only_s:8.2f} s")
        print(f"ratio to gzip|gpg:              {upload_s / pipeline_s:8.2f}")
        print(f"ratio to gpg alone:             {upload_s / gpg_only_s:8.2f}")
        print(f"worker peak RSS before upload:  {rss_before:8.1f} MiB")
        print(
            f"worker peak RSS after upload:   {rss_after:8.1f} MiB "
            f"(+{rss_after - rss_before:.1f} MiB for a {args.mib} MiB file)"
        )
        print(f"stored ciphertext:              {stored.stat().st_size / CHUNK:8.1f} MiB")
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        stop_agents(work)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
