"""Team keys for share packages: each team's keypairs in their own GnuPG homes, and a sender's
home holding only public keys, from which packages are encrypted with the gpg command line."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gnupg
import pytest

from tests.conftest import OfflineKey, make_offline_key, short_tmpdir

TEAM = "Police liaison"
DESIGNATION = "gentle otter"
SLUG = "gentle_otter"


def encryption_key_ids(key: OfflineKey) -> frozenset[str]:
    """The long ids of the key's encryption subkeys, as Recipient.key_ids holds them."""
    listed = gnupg.GPG(gnupghome=str(key.homedir)).list_keys(keys=key.fingerprint)
    return frozenset(
        str(info["keyid"]).upper()
        for info in listed[0]["subkey_info"].values()
        if "e" in info["cap"]
    )


@dataclass(frozen=True)
class Teams:
    """Police liaison's two keys, the front door's key, and a sender's public keyring."""

    police: tuple[OfflineKey, OfflineKey]
    front_door: OfflineKey
    sender: Path

    @property
    def _gpg(self) -> list[str]:
        return ["gpg", "--homedir", str(self.sender), "--batch"]

    def recipients(self) -> dict[str, frozenset[str]]:
        """Police liaison's active recipients, as the server hands them to read_package."""
        return {key.fingerprint: encryption_key_ids(key) for key in self.police}

    def encrypt(self, data: bytes, *keys: OfflineKey, extra: tuple[str, ...] = ()) -> bytes:
        """data encrypted with the gpg command line to keys (binary unless extra says)."""
        recipients = [arg for key in keys for arg in ("--recipient", key.fingerprint)]
        done = subprocess.run(
            [*self._gpg, "--trust-model", "always", *extra, "--encrypt", *recipients, "-o", "-"],
            input=data,
            capture_output=True,
            check=True,
        )
        return done.stdout

    def symmetric(self, data: bytes) -> bytes:
        """data encrypted with a passphrase only."""
        done = subprocess.run(
            [*self._gpg, "--pinentry-mode", "loopback", "--passphrase", "x", "--symmetric"],
            input=data,
            capture_output=True,
            check=True,
        )
        return done.stdout


@pytest.fixture(scope="session")
def teams() -> Iterator[Teams]:
    """Three keypairs, each in its own home, made once per session."""
    home = short_tmpdir("stteam")
    police = (
        make_offline_key(home / "p1", "Police liaison 1"),
        make_offline_key(home / "p2", "Police liaison 2"),
    )
    front_door = make_offline_key(home / "fd", "Front door")
    sender = home / "sender"
    sender.mkdir(mode=0o700)
    gpg = gnupg.GPG(gnupghome=str(sender))
    for key in (*police, front_door):
        assert gpg.import_keys(key.public_key).fingerprints
    yield Teams(police, front_door, sender)
    for name in ("p1", "p2", "fd", "sender"):
        subprocess.run(["gpgconf", "--homedir", str(home / name), "--kill", "all"], check=False)
    shutil.rmtree(home, ignore_errors=True)


def manifest_for(items: dict[str, bytes], teams: Teams, **changes: Any) -> dict[str, Any]:
    """The manifest a workstation would write for these members, with changes."""
    manifest: dict[str, Any] = {
        "format": "seethesigns-share",
        "version": 1,
        "designation": SLUG,
        "team": TEAM,
        "recipients": sorted(key.fingerprint for key in teams.police),
        "items": [
            {
                "file": name,
                "kind": "message" if name.endswith("-msg.gpg") else "document",
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
            for name, data in items.items()
        ],
    }
    manifest.update(changes)
    return manifest


def zip_bytes(members: dict[str, bytes], *, compression: int = zipfile.ZIP_STORED) -> bytes:
    """A zip holding these members in this order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def package_bytes(items: dict[str, bytes], teams: Teams, **changes: Any) -> bytes:
    """A share package holding items, with its manifest (changed as asked)."""
    manifest = json.dumps(manifest_for(items, teams, **changes)).encode()
    return zip_bytes({"manifest.json": manifest, **items})
