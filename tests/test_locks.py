"""The hash-pinned lock files stay in step with each other and with the Makefile."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9_.\-\[\]]+)==(\S+)")
HASH = re.compile(r"--hash=(sha256:[0-9a-f]{64})")


def pins(lock: Path) -> dict[str, tuple[str, frozenset[str]]]:
    """Map each package in a lock file to its version and its set of hashes."""
    found: dict[str, tuple[str, frozenset[str]]] = {}
    name = version = ""
    hashes: set[str] = set()
    for line in lock.read_text().splitlines():
        match = PIN.match(line)
        if match:
            if name:
                found[name] = (version, frozenset(hashes))
            name, version, hashes = match.group(1).lower(), match.group(2), set()
        hashes.update(HASH.findall(line))
    if name:
        found[name] = (version, frozenset(hashes))
    return found


def test_every_pin_carries_a_hash() -> None:
    for lock in ("requirements-build.lock", "requirements.lock", "requirements-dev.lock"):
        locked = pins(ROOT / lock)
        assert locked, lock
        unhashed = [name for name, (_, hashes) in locked.items() if not hashes]
        assert unhashed == [], f"{lock}: {unhashed}"


def test_build_lock_matches_the_full_locks() -> None:
    """The bootstrap step installs exactly what the full locks pin for the build backend."""
    build = pins(ROOT / "requirements-build.lock")
    assert "setuptools" in build
    for lock in ("requirements.lock", "requirements-dev.lock"):
        full = pins(ROOT / lock)
        for name, pin in build.items():
            assert full.get(name) == pin, f"{lock} pins {name} as {full.get(name)}, not {pin}"


def test_build_lock_satisfies_build_system_requires() -> None:
    import tomllib

    from packaging.requirements import Requirement

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    build = pins(ROOT / "requirements-build.lock")
    for spec in pyproject["build-system"]["requires"]:
        requirement = Requirement(spec)
        version, _ = build[requirement.name.lower()]
        assert requirement.specifier.contains(version), (spec, version)


def test_makefile_installs_the_build_lock_before_building_stem() -> None:
    makefile = (ROOT / "Makefile").read_text()
    build_step = makefile.index("-r requirements-build.lock")
    full_step = makefile.index("-r requirements-dev.lock")
    assert build_step < full_step
    command = makefile[makefile.rindex("pip install", 0, build_step) : build_step]
    assert "--require-hashes" in command
    assert "--only-binary :all:" in command
