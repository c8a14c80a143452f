"""Every GnuPG operation of the workstation, behind one class that checks every result.

The keyring is the offline GnuPG home holding the secret submission key. Its gpg-agent is
stopped before and after each command, so a passphrase typed once is never still cached
when the next person sits down at the machine.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import gnupg

from workstation.problems import Damaged, NotForThisKey, NotOpenPGP, bomb
from workstation.settings import KeySettings

# python-gnupg warns of every non-zero exit; each is checked here and reported by item name.
logging.getLogger("gnupg").setLevel(logging.ERROR)

BUFFER_SIZE = 1024 * 1024
# gpg-agent's sockets live in the home when /run/user/UID is missing; the longest,
# S.gpg-agent.browser, must fit a 107-byte Unix socket path.
MAX_HOMEDIR_CHARS = 85
KEY_NAME = "See the Signs submission key"
# A fixed address: python-gnupg's default would embed this machine's user and host names.
KEY_EMAIL = "submission@seethesigns.invalid"
EXPIRE = re.compile(r"^(0|never|[0-9]+[dwmy]?|[0-9]{4}-[0-9]{2}-[0-9]{2})$")
# Hostile items may carry signatures; nothing here trusts them, so gpg need not check them.
DECRYPT_ARGS = ["--skip-verify", "--no-auto-key-retrieve"]
BAD_PASSPHRASE = 11  # GPG_ERR_BAD_PASSPHRASE, the low 16 bits of an ERROR status code


class Readable(Protocol):
    """Anything gpg can be fed from: a file, a zip entry."""

    def read(self, size: int = ..., /) -> bytes: ...


class KeyringError(Exception):
    """GnuPG could not do what was asked; the message says why."""


class WrongPassphrase(KeyringError):
    """The passphrase does not unlock the secret key (or the backup)."""


def group_fingerprint(fingerprint: str) -> str:
    """ "ABCD1234..." -> "ABCD 1234 ...", as `seethesigns init` prints it, for reading aloud."""
    return " ".join(fingerprint[i : i + 4] for i in range(0, len(fingerprint), 4))


@dataclass(frozen=True)
class _Status:
    """The [GNUPG:] status lines of one gpg run, by keyword."""

    lines: dict[str, list[str]]

    @classmethod
    def of(cls, result: Any) -> _Status:
        found: dict[str, list[str]] = {}
        for line in (result.stderr or "").splitlines():
            if line.startswith("[GNUPG:] "):
                keyword, _, value = line[9:].partition(" ")
                found.setdefault(keyword, []).append(value)
        return cls(found)

    def has(self, keyword: str) -> bool:
        return keyword in self.lines

    def values(self, keyword: str) -> list[str]:
        return self.lines.get(keyword, [])

    def bad_passphrase(self) -> bool:
        if self.has("BAD_PASSPHRASE"):
            return True
        codes = [value.split()[-1] for value in self.values("ERROR") if value.split()]
        return any(code.isdigit() and int(code) & 0xFFFF == BAD_PASSPHRASE for code in codes)


def _check_homedir(homedir: Path) -> None:
    if len(str(homedir)) > MAX_HOMEDIR_CHARS:
        raise KeyringError(
            f"{homedir} is too long a path for gpg-agent's sockets; use one of at most "
            f"{MAX_HOMEDIR_CHARS} characters"
        )


def _stop_agent(homedir: Path) -> None:
    subprocess.run(
        ["gpgconf", "--homedir", str(homedir), "--kill", "gpg-agent"],
        capture_output=True,
        check=False,
    )


def prepare_homedir(homedir: Path, keys: KeySettings) -> None:
    """Create an empty GnuPG home (mode 0700) whose agent protects keys at the set cost."""
    _check_homedir(homedir)
    if homedir.exists() and any(homedir.iterdir()):
        raise KeyringError(f"{homedir} is not empty; choose a new directory for the keyring")
    homedir.mkdir(mode=0o700, parents=True, exist_ok=True)
    homedir.chmod(0o700)
    (homedir / "gpg-agent.conf").write_text(
        "# Written by seethesigns-workstation: the cost of the key's passphrase protection.\n"
        f"s2k-count {keys.s2k_count}\n"
    )


@contextmanager
def open_keyring(homedir: Path, keys: KeySettings) -> Iterator[OfflineKeyring]:
    """The keyring in homedir, with no gpg-agent (and no cached passphrase) on either side."""
    _check_homedir(homedir)
    if not homedir.is_dir():
        raise KeyringError(f"{homedir} is not a GnuPG home directory")
    _stop_agent(homedir)
    try:
        yield OfflineKeyring(homedir, keys)
    finally:
        _stop_agent(homedir)


class OfflineKeyring:
    """The offline GnuPG home: making, backing up and restoring the key, and decrypting."""

    def __init__(self, homedir: Path, keys: KeySettings) -> None:
        self.homedir = homedir
        self._keys = keys
        self._gpg = gnupg.GPG(gnupghome=str(homedir))
        self._gpg.encoding = "utf-8"
        self._gpg.buffer_size = BUFFER_SIZE

    def secret_fingerprints(self) -> list[str]:
        """Fingerprints of the secret keys held here."""
        return [str(key["fingerprint"]) for key in self._gpg.list_keys(secret=True)]

    def generate(self, passphrase: str, *, rsa: bool, expire: str, name: str = KEY_NAME) -> str:
        """Make the submission keypair; return its fingerprint."""
        if self.secret_fingerprints():
            raise KeyringError(f"{self.homedir} already holds a secret key")
        if not EXPIRE.fullmatch(expire):
            raise KeyringError(f"cannot understand the expiry {expire!r}: use 0, 2y or 2030-01-31")
        algorithm: dict[str, Any] = (
            {"key_type": "RSA", "key_length": 4096, "subkey_type": "RSA", "subkey_length": 4096}
            if rsa
            else {
                "key_type": "EDDSA",
                "key_curve": "ed25519",
                "subkey_type": "ECDH",
                "subkey_curve": "cv25519",
            }
        )
        params = self._gpg.gen_key_input(
            **algorithm,
            key_usage="sign",
            subkey_usage="encrypt",
            name_real=name,
            name_email=KEY_EMAIL,
            expire_date="0" if expire == "never" else expire,
            passphrase=passphrase,
        )
        result = self._gpg.gen_key(params)
        if not result.fingerprint or result.returncode != 0:
            raise KeyringError(f"gpg could not make the key: {result.status or result.stderr}")
        return str(result.fingerprint)

    def public_key(self, fingerprint: str) -> str:
        """The armored public key, for carrying to the server."""
        armored = str(self._gpg.export_keys(fingerprint))
        if "BEGIN PGP PUBLIC KEY BLOCK" not in armored or "PRIVATE KEY" in armored:
            raise KeyringError(f"gpg could not export the public key {fingerprint}")
        return armored

    def key_details(self, fingerprint: str) -> dict[str, Any]:
        """gpg's listing of one secret key (algorithm, length, expiry, subkeys)."""
        found = self._gpg.list_keys(secret=True, keys=fingerprint)
        if len(found) != 1:
            raise KeyringError(f"no secret key {fingerprint} in {self.homedir}")
        return dict(found[0])

    def check_passphrase(self, passphrase: str) -> list[str]:
        """Prove the passphrase unlocks every secret key here; return their fingerprints.

        Exporting makes gpg-agent unlock each key and subkey, and works for an expired key
        too, which can no longer encrypt but must still decrypt what was sent to it.
        """
        fingerprints = self.secret_fingerprints()
        if not fingerprints:
            raise KeyringError(f"{self.homedir} holds no secret key")
        for fingerprint in fingerprints:
            unlocked = self._gpg.export_keys(fingerprint, secret=True, passphrase=passphrase)
            if "PRIVATE KEY BLOCK" not in str(unlocked):
                raise WrongPassphrase("the passphrase does not unlock the secret key")
        return fingerprints

    def decrypt(self, ciphertext: Readable, output: Path, passphrase: str, max_output: int) -> None:
        """Decrypt one item to output, at most max_output bytes; on any failure remove output.

        Only a message encrypted to one of this keyring's keys counts: gpg would also
        "decrypt" a plain literal packet or a symmetric one, which nobody sent us.
        """
        ours = set(self.secret_fingerprints())
        try:
            result = self._gpg.decrypt_file(
                ciphertext,
                passphrase=passphrase,
                output=str(output),
                extra_args=[*DECRYPT_ARGS, "--max-output", str(max_output)],
            )
            status = _Status.of(result)
            if "exceeded --max-output limit" in (result.stderr or ""):
                raise bomb("its OpenPGP data", max_output)
            # DECRYPTION_KEY <subkey fingerprint> <primary fingerprint> <owner trust>
            keys = {key for value in status.values("DECRYPTION_KEY") for key in value.split()[:2]}
            if result.returncode == 0 and result.ok and keys & ours:
                return
            raise _why_not(status)
        except BaseException:
            output.unlink(missing_ok=True)
            raise

    def backup(self, key_passphrase: str, backup_passphrase: str, output: Path) -> list[str]:
        """Write every secret key here, encrypted with backup_passphrase, to a new file."""
        fingerprints = self.secret_fingerprints()
        if not fingerprints:
            raise KeyringError(f"{self.homedir} holds no secret key to back up")
        secret = str(self._gpg.export_keys(fingerprints, secret=True, passphrase=key_passphrase))
        if "PRIVATE KEY BLOCK" not in secret:
            raise WrongPassphrase("the passphrase does not unlock the secret key")
        result = self._gpg.encrypt(
            secret.encode("ascii"),
            None,
            symmetric="AES256",
            passphrase=backup_passphrase,
            armor=True,
            extra_args=self._symmetric_args(),
        )
        if not result.ok or result.returncode != 0:
            raise KeyringError(f"gpg could not encrypt the backup: {result.status}")
        try:
            fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise KeyringError(f"{output} already exists; refusing to overwrite it") from None
        with os.fdopen(fd, "wb") as handle:
            handle.write(result.data)
            handle.flush()
            os.fsync(handle.fileno())
        # Read it back now, while the passphrase is still in mind, not on the day it is needed.
        if set(fingerprints) - set(self._read_backup(output, backup_passphrase)[1]):
            raise KeyringError(f"{output} does not read back; do not rely on it")
        return fingerprints

    def restore(self, backup: Path, backup_passphrase: str) -> list[str]:
        """Import the secret key(s) in a backup made by backup(); return their fingerprints."""
        secret, fingerprints = self._read_backup(backup, backup_passphrase)
        result = self._gpg.import_keys(secret)
        if not result.sec_imported and not set(fingerprints) <= set(self.secret_fingerprints()):
            raise KeyringError(f"gpg could not import the key from {backup}")
        return fingerprints

    def _symmetric_args(self) -> list[str]:
        # --no-symkey-cache: the agent must not remember the backup passphrase.
        return [
            "--s2k-mode",
            "3",
            "--s2k-count",
            str(self._keys.s2k_count),
            "--s2k-digest-algo",
            "SHA512",
            "--no-symkey-cache",
        ]

    def _read_backup(self, backup: Path, backup_passphrase: str) -> tuple[str, list[str]]:
        try:
            with backup.open("rb") as handle:
                result = self._gpg.decrypt_file(
                    handle, passphrase=backup_passphrase, extra_args=self._symmetric_args()
                )
        except FileNotFoundError:
            raise KeyringError(f"{backup} does not exist") from None
        status = _Status.of(result)
        if result.returncode != 0 or not result.ok:
            if status.has("NEED_PASSPHRASE_SYM") and status.has("BEGIN_DECRYPTION"):
                raise WrongPassphrase(f"the passphrase does not open the backup {backup}")
            raise KeyringError(f"{backup} is not a readable key backup: {result.status}")
        secret = result.data.decode("ascii", errors="replace")
        scanned = self._gpg.scan_keys_mem(secret) if "PRIVATE KEY BLOCK" in secret else []
        fingerprints = [str(key["fingerprint"]) for key in scanned if key.get("type") == "sec"]
        if not fingerprints:
            raise KeyringError(f"{backup} holds no secret key")
        return secret, fingerprints


def _why_not(status: _Status) -> Exception:
    """The problem to report for a decryption that failed or was not to our key."""
    if status.has("NEED_PASSPHRASE_SYM"):
        # Checked before the passphrase: a symmetric item must not pass for a wrong passphrase.
        return NotForThisKey("encrypted with a passphrase, not to this workstation's key")
    if status.bad_passphrase():
        return WrongPassphrase("the passphrase no longer unlocks the secret key")
    if status.has("NO_SECKEY") and not status.has("DECRYPTION_KEY"):
        ids = ", ".join(sorted({value.split()[0] for value in status.values("NO_SECKEY")}))
        return NotForThisKey(f"encrypted to another key (key ID {ids}), not to this workstation's")
    if not status.has("BEGIN_DECRYPTION") and not status.has("PLAINTEXT"):
        return NotOpenPGP("not an OpenPGP message")
    if not status.has("DECRYPTION_KEY") and not status.has("DECRYPTION_FAILED"):
        return NotForThisKey("not encrypted to this workstation's key (plain or symmetric data)")
    return Damaged("truncated or damaged: the OpenPGP data does not decrypt to the end")
