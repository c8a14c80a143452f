"""Another team's public keys, in a throwaway GnuPG home, for re-encrypting shared items.

The team's keys never go into the workstation's own keyring: they are wanted for one `share`
run, and a keyring that collects other teams' keys invites encrypting to the wrong one later.
Only public keys that can encrypt right now are accepted; a secret key in the file means the
wrong file was carried over, and a team's private key must not travel on a USB stick.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import gnupg

from workstation.keyring import BUFFER_SIZE, MAX_HOMEDIR_CHARS, Readable

# Whatever a system-wide gpg.conf says: no extra recipient (the server refuses any key not the
# team's), no hidden recipients (the server must see whom it is for), no gpg compression.
ENCRYPT_ARGS = ["--no-encrypt-to", "--no-throw-keyids", "--compress-algo", "none"]
MAX_KEY_FILE_BYTES = 1024 * 1024


class TeamKeyError(Exception):
    """The team's key file cannot be used; the message says why."""


def _key_problem(key: dict[str, Any]) -> str | None:
    """Why a listed key cannot be encrypted to (mirrors the server's check of key files)."""
    validity = key.get("trust", "")
    if validity == "r":
        return "is revoked"
    expires = key.get("expires") or ""
    if validity == "e" or (expires and int(expires) <= time.time()):
        return "has expired"
    # Upper-case E: the key as a whole, with its subkeys, can encrypt.
    if "E" not in (key.get("cap") or ""):
        return "cannot encrypt (no usable encryption subkey)"
    return None


@contextmanager
def team_keys(key_file: Path) -> Iterator[TeamKeys]:
    """The public keys in key_file, checked, in a private GnuPG home removed afterwards."""
    try:
        size = key_file.stat().st_size
    except OSError as exc:
        raise TeamKeyError(f"cannot read the team's key file {key_file}: {exc.strerror}") from None
    if size > MAX_KEY_FILE_BYTES:
        raise TeamKeyError(f"{key_file} is too large to be a file of public keys")
    armored = key_file.read_text(encoding="ascii", errors="replace")
    home = Path(tempfile.mkdtemp(prefix="sts-team-"))
    if len(str(home)) > MAX_HOMEDIR_CHARS:  # pragma: no cover - TMPDIR set very long
        shutil.rmtree(home)
        raise TeamKeyError(f"{home} is too long a path for gpg's sockets; set a shorter TMPDIR")
    try:
        keys = TeamKeys(home)
        keys.load(armored, key_file)
        yield keys
    finally:
        subprocess.run(
            ["gpgconf", "--homedir", str(home), "--kill", "all"], capture_output=True, check=False
        )
        shutil.rmtree(home, ignore_errors=True)


class TeamKeys:
    """A team's public keys: what they are, and encrypting to all of them at once."""

    def __init__(self, home: Path) -> None:
        self._gpg = gnupg.GPG(gnupghome=str(home))
        self._gpg.encoding = "utf-8"
        self._gpg.buffer_size = BUFFER_SIZE
        self.fingerprints: list[str] = []

    def load(self, armored: str, key_file: Path) -> None:
        """Import the public keys from armored; refuse secret or unusable keys."""
        secret = f"{key_file} holds a SECRET key; ask the admin for the team's public keys only"
        if "PRIVATE KEY BLOCK" in armored:
            raise TeamKeyError(secret)
        scanned = self._gpg.scan_keys_mem(armored)
        if any(key.get("type") == "sec" for key in scanned):
            raise TeamKeyError(secret)
        if not scanned:
            raise TeamKeyError(f"{key_file} holds no OpenPGP public key")
        result = self._gpg.import_keys(armored)
        if result.sec_imported:
            raise TeamKeyError(secret)
        listed = self._gpg.list_keys()
        if len(listed) != len(scanned) or not result.fingerprints:
            raise TeamKeyError(f"GnuPG could not import every key in {key_file}")
        for key in listed:
            problem = _key_problem(key)
            if problem:
                raise TeamKeyError(f"the key {key['fingerprint']} in {key_file} {problem}")
        self.fingerprints = sorted(str(key["fingerprint"]).upper() for key in listed)

    def encrypt(self, plaintext: Readable, output: Path) -> None:
        """Encrypt a stream to every key of the team at once, as one binary message."""
        result = self._gpg.encrypt_file(
            plaintext,
            self.fingerprints,
            always_trust=True,
            armor=False,
            output=str(output),
            extra_args=ENCRYPT_ARGS,
        )
        if not result.ok or result.returncode != 0:
            output.unlink(missing_ok=True)
            raise TeamKeyError(f"gpg could not encrypt to the team's keys: {result.status}")
