"""Build the wheelhouse a server installs from, on the controller (ansible/, `make wheelhouse`).

The server never reaches PyPI. This downloads exactly the files that requirements-build.lock
and requirements.lock pin (each checked against its hash by pip, wheels only but for stem's
source archive, which the server builds with the locked setuptools) and builds the project's
own wheel from SOURCE. The release id is a digest of the project's source files and locks, so
the same checkout always gives the same id and the playbook installs a release only once.

Prints one JSON object: {"release": ID, "wheelhouse": DIR, "archive": DIR.tar}; the
playbook copies the archive over in one transfer.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

PACKAGES = ("seethesigns", "source_interface", "journalist_interface", "workstation")
LOCKS = ("requirements.lock",)
BUILD_LOCK = "requirements-build.lock"
# Published only as source archives: the server builds them from their hash-pinned sdists.
SOURCE_ONLY = "stem"


def release_id(source: Path) -> str:
    """A digest of everything that goes into the installed release."""
    digest = hashlib.sha256()
    files = [source / "pyproject.toml", *(source / lock for lock in LOCKS)]
    for package in PACKAGES:
        files += sorted(
            path
            for path in (source / package).rglob("*")
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
        )
    for path in files:
        digest.update(str(path.relative_to(source)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def build_lock(source: Path) -> str:
    """The build backend's entries of requirements.lock, hashes and all.

    A new venv's setuptools cannot build stem's sdist, so the server installs these first.
    They are taken from requirements.lock itself (which pins them too), so releases made
    before requirements-build.lock existed install the same way.
    """
    with (source / "pyproject.toml").open("rb") as handle:
        requires = tomllib.load(handle)["build-system"]["requires"]
    names = {re.split(r"[<>=!~;\[ ]", spec, maxsplit=1)[0].lower() for spec in requires}
    blocks = re.split(r"\n(?=\S)", (source / "requirements.lock").read_text())
    wanted = [block for block in blocks if block.split("==", 1)[0].strip().lower() in names]
    if len(wanted) != len(names):
        raise SystemExit(f"requirements.lock does not pin every build requirement: {sorted(names)}")
    return "\n".join(block.rstrip() for block in wanted) + "\n"


def pip(*args: str) -> None:
    """Run the controller's pip, failing loudly."""
    subprocess.run([sys.executable, "-m", "pip", *args], check=True, stdout=subprocess.DEVNULL)


def build(source: Path, cache: Path) -> dict[str, str]:
    """Build (or reuse) the wheelhouse for the release in source."""
    release = release_id(source)
    wheelhouse = cache / release
    archive = cache / f"{release}.tar"
    result = {"release": release, "wheelhouse": str(wheelhouse), "archive": str(archive)}
    if (wheelhouse / "RELEASE").exists() and archive.exists():
        return result
    partial = cache / f".{release}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    (partial / BUILD_LOCK).write_text(build_lock(source))
    for lock in (BUILD_LOCK, *LOCKS):
        pip(
            "download",
            "--quiet",
            "--no-deps",
            "--require-hashes",
            "--only-binary",
            ":all:",
            "--no-binary",
            SOURCE_ONLY,
            "--python-version",
            "3.11",
            "--dest",
            str(partial),
            "-r",
            str(partial / lock if lock == BUILD_LOCK else source / lock),
        )
        if lock != BUILD_LOCK:
            shutil.copy(source / lock, partial / lock)
    env = dict(os.environ, SOURCE_DATE_EPOCH="315532800")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(partial),
            str(source),
        ],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    # pip wheel leaves a build/ folder in the source tree; it is nobody's business.
    shutil.rmtree(source / "build", ignore_errors=True)
    (partial / "RELEASE").write_text(release + "\n")
    shutil.rmtree(wheelhouse, ignore_errors=True)
    partial.rename(wheelhouse)
    with tarfile.open(archive.with_suffix(".partial"), "w") as tar:
        for path in sorted(wheelhouse.iterdir()):
            tar.add(path, arcname=path.name)
    archive.with_suffix(".partial").rename(archive)
    return result


def main() -> None:
    """Parse arguments, build, print the JSON result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
        / "seethesigns"
        / "wheelhouse",
    )
    args = parser.parse_args()
    print(json.dumps(build(args.source.resolve(), args.cache)))


if __name__ == "__main__":
    main()
