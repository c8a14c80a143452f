"""Profile one upload through the source app in this process, to find where its time goes.

The app is the real one (real settings from `seethesigns init`, real GnuPG); only gunicorn's
socket is replaced by Werkzeug's test client, which hands the body over as a stream.
Usage: python -m bench.profile_upload [--mib 256] [--kind random|text] [--lines 25]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import re
import shutil
import tempfile
import time
from pathlib import Path

from bench.instance import create_form, make_instance, stop_agents
from bench.upload import MultipartFile, make_file
from seethesigns.settings import load_settings
from source_interface import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=256, help="file size in MiB (default 256)")
    parser.add_argument("--kind", choices=["random", "text"], default="random")
    parser.add_argument("--lines", type=int, default=25, help="lines of each table")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="stsp", dir="/tmp"))
    try:
        instance = make_instance(work)
        client = create_app(load_settings(instance.config)).test_client()
        client.post("/create", data=create_form(client.get("/generate").text))
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/lookup").text)
        upload = work / "upload.bin"
        make_file(upload, args.kind, args.mib)
        body = MultipartFile({"csrf_token": token.group(1)}, upload)  # type: ignore[union-attr]
        # The test client wants a seekable body: the whole request, as a file.
        with (work / "body.bin").open("wb") as handle:
            while piece := body.read():
                handle.write(piece)
        upload.unlink()
        profile = cProfile.Profile()
        start = time.perf_counter()
        profile.enable()
        with (work / "body.bin").open("rb") as stream:
            response = client.post(
                "/submit",
                input_stream=stream,
                content_type=f"multipart/form-data; boundary={body.boundary}",
            )
        profile.disable()
        seconds = time.perf_counter() - start
        if response.status_code != 302:
            raise SystemExit(f"upload failed with HTTP {response.status_code}")
        print(f"{args.mib} MiB of {args.kind} data in {seconds:.2f} s (under cProfile)")
        stats = pstats.Stats(profile).strip_dirs()
        stats.sort_stats("tottime").print_stats(args.lines)
        stats.sort_stats("cumulative").print_stats(args.lines)
    finally:
        stop_agents(work)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
