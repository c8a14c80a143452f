"""What the benchmarks share: a real instance made with `seethesigns init`, and a free port."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gnupg
from sqlalchemy import update
from sqlalchemy.orm import Session

from seethesigns.codename_check import FIRST_FIELD, SECOND_FIELD, check_positions
from seethesigns.models import Staff
from seethesigns.models.staff import STAFF_ACTIVE

SEETHESIGNS = Path(sys.executable).parent / "seethesigns"


def activate_staff(db: Session, staff: Staff) -> None:
    """Make an account active as if its owner had done their first login (benchmarks only)."""
    db.execute(update(Staff).where(Staff.id == staff.id).values(status=STAFF_ACTIVE))
    db.commit()


CREATE_FIELDS = re.compile(r'name="(codename|issued|mac|csrf_token)" value="([^"]*)"')


def create_form(html: str) -> dict[str, str]:
    """The /create form on a /generate page, with the two words it asks for typed back."""
    form = dict(CREATE_FIELDS.findall(html))
    words = form["codename"].split(" ")
    first, second = check_positions(form["mac"])
    return form | {FIRST_FIELD: words[first - 1], SECOND_FIELD: words[second - 1]}


@dataclass(frozen=True)
class BenchInstance:
    """An instance and the offline keypair its submissions are encrypted to."""

    config: Path
    data_dir: Path
    offline_home: Path
    fingerprint: str


def unprotected_keypair(home: Path, name: str, email: str) -> tuple[gnupg.GPG, Any]:
    """An ed25519/cv25519 keypair without a passphrase in a new home (benchmarks only)."""
    home.mkdir(mode=0o700)
    gpg = gnupg.GPG(gnupghome=str(home))
    key = gpg.gen_key(
        gpg.gen_key_input(
            key_type="EDDSA",
            key_curve="ed25519",
            subkey_type="ECDH",
            subkey_curve="cv25519",
            name_real=name,
            name_email=email,
            no_protection=True,
            expire_date=0,
        )
    )
    return gpg, key


def make_instance(work: Path) -> BenchInstance:
    """An unprotected offline keypair (benchmarks only) and an instance made with init."""
    home = work / "offline"
    gpg, key = unprotected_keypair(home, "Bench", "bench@seethesigns.invalid")
    public = work / "public.asc"
    public.write_text(gpg.export_keys(key.fingerprint))
    config = work / "seethesigns.toml"
    command = [str(SEETHESIGNS), "init", "--data-dir", str(work / "data")]
    command += ["--submission-key", str(public), "--config", str(config)]
    subprocess.run(command, check=True, capture_output=True)
    return BenchInstance(config, work / "data", home, str(key.fingerprint))


def stop_agents(instance_work: Path) -> None:
    """Stop the gpg-agent of the offline keyring."""
    subprocess.run(
        ["gpgconf", "--homedir", str(instance_work / "offline"), "--kill", "all"], check=False
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def print_ratio_table(
    names: list[str], results: dict[tuple[str, int], Any], small: int, large: int, width: int
) -> None:
    """One row per request: its time and query count at the small and large size, and the ratio."""
    print(f"{'request':<{width}}{'ms':>9}{'ms':>9}{'ratio':>7}{'queries':>9}{'queries':>9}")
    print(f"{'':<{width}}{small:>9,}{large:>9,}{'':>7}{small:>9,}{large:>9,}")
    for name in names:
        (small_ms, small_q), (large_ms, large_q) = results[name, small], results[name, large]
        print(
            f"{name:<{width}}{small_ms:>9.1f}{large_ms:>9.1f}{large_ms / small_ms:>7.2f}"
            f"{small_q:>9}{large_q:>9}"
        )
