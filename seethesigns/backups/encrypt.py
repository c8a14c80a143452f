"""Encrypting the archive to the backup key: a public key whose private half stays offline."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gnupg

from seethesigns.backups.archive import TarStream
from seethesigns.backups.errors import BackupError, BackupKeyProblem
from seethesigns.backups.output import AtomicOutput
from seethesigns.encryption import (
    NO_COMPRESSION,
    EncryptionError,
    inspect_public_key,
    scratch_keyring,
)


@dataclass(frozen=True)
class BackupKey:
    """The checked, armored public backup key and its fingerprint."""

    fingerprint: str
    armored: str


def read_backup_key(path: Path, scratch_dir: Path) -> BackupKey:
    """Read the backup key file, refusing anything but one public key that can encrypt.

    The checks are those `init` makes of the submission key: a secret key is refused outright
    (the server must not be able to read its own backups), as are expired, revoked and
    sign-only keys and files holding several keys.
    """
    try:
        armored = path.read_text("utf-8", errors="replace")
    except OSError as exc:
        raise BackupKeyProblem(f"cannot read the backup key {path}: {exc.strerror}") from None
    try:
        return BackupKey(inspect_public_key(armored, scratch_dir), armored)
    except EncryptionError as exc:
        raise BackupKeyProblem(f"{path}: {exc}") from None


def _check_encryption(result: gnupg.Crypt) -> None:
    # A zero exit status, not just END_ENCRYPTION, means gpg wrote all of its output.
    if not (result.ok and result.returncode == 0):
        raise BackupError(f"gpg could not encrypt the backup: {result.status or 'no status'}")


def encrypt_archive(
    stream: TarStream, key: BackupKey, scratch_dir: Path, output: AtomicOutput
) -> None:
    """Encrypt stream to key into output, in a throwaway keyring holding just that key.

    Raises for a write error, a file that could not be read, or gpg failing; the caller
    discards the output then. The archive's data is mostly ciphertext already, so gpg's own
    compression would only cost time.
    """
    with scratch_keyring(scratch_dir) as gpg:
        imported = gpg.import_keys(key.armored)
        if key.fingerprint not in {str(found).upper() for found in imported.fingerprints}:
            raise BackupKeyProblem("GnuPG could not import the backup key")
        gpg.on_data = output.write
        result = gpg.encrypt_file(
            stream,
            [key.fingerprint],
            always_trust=True,
            armor=False,
            extra_args=NO_COMPRESSION,
        )
    output.check()
    if stream.error is not None:
        if isinstance(stream.error, BackupError):
            raise stream.error
        raise BackupError(f"reading the instance failed: {stream.error}") from stream.error
    _check_encryption(result)
    if not stream.complete:
        raise BackupError("gpg stopped before the whole archive was encrypted")
