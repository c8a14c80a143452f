"""Decrypting an archive with the backup secret key, streamed straight into a reader.

python-gnupg hands gpg's output over in chunks (on_data); they go through a pipe to a reader
thread that checks and extracts the tar stream as it arrives, so the decrypted archive is
never on disk or whole in memory. gpg checks the archive's integrity only at its very end, so
whatever the reader wrote must stay unused until decryption has succeeded.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TypeVar

import gnupg

from seethesigns.backups.cleanup import shred_tree
from seethesigns.backups.errors import (
    ArchiveDamaged,
    BackupError,
    BackupKeyProblem,
    PassphraseNeeded,
    Tampered,
)
from seethesigns.encryption import scratch_keyring

Result = TypeVar("Result")
STATUS = re.compile(r"^\[GNUPG:\] ([A-Z_]+) ?(.*)$", re.MULTILINE)
# libgpg-error codes, as gpg reports them in "ERROR pkdecrypt_failed <code>".
GPG_ERR_BAD_PASSPHRASE = 11
GPG_ERR_NO_PIN_ENTRY = 85
MEMORY_BACKED = Path("/dev/shm")  # noqa: S108 - a private mkdtemp folder is made inside


@contextmanager
def private_scratch() -> Iterator[Path]:
    """A private folder for the throwaway keyring, in memory where the system allows.

    The backup secret key is imported there; a RAM-backed folder keeps it off the server's
    disks, and the folder is overwritten and removed afterwards either way.
    """
    memory = MEMORY_BACKED.is_dir() and os.access(MEMORY_BACKED, os.W_OK | os.X_OK)
    parent = str(MEMORY_BACKED) if memory else tempfile.gettempdir()
    folder = Path(tempfile.mkdtemp(prefix="sts-", dir=parent))
    try:
        yield folder
    finally:
        shred_tree(folder)


@contextmanager
def secret_keyring(armored: str, scratch_dir: Path) -> Iterator[gnupg.GPG]:
    """A throwaway keyring holding the backup secret key; its key files are overwritten after."""
    if "PRIVATE KEY BLOCK" not in armored:
        raise BackupKeyProblem(
            "this file holds no armored secret key: give the backup SECRET key (gpg --armor "
            "--export-secret-keys)"
        )
    with scratch_keyring(scratch_dir) as gpg:
        try:
            imported = gpg.import_keys(armored)
            if not imported.fingerprints or not int(imported.sec_imported or 0):
                raise BackupKeyProblem("GnuPG could not import a secret key from this file")
            yield gpg
        finally:
            shred_tree(Path(gpg.gnupghome) / "private-keys-v1.d")


class _StoppableReader:
    """The archive file, read until stop is set (the reader failed: feeding gpg is pointless)."""

    def __init__(self, handle: IO[bytes], stop: threading.Event) -> None:
        self._handle = handle
        self._stop = stop

    def read(self, size: int = -1, /) -> bytes:
        return b"" if self._stop.is_set() else self._handle.read(size)


def _close(pipe: IO[bytes]) -> None:
    # The reader may have closed its end first: what was left to flush is not wanted.
    with contextlib.suppress(OSError):
        pipe.close()


def _statuses(stderr: str) -> list[tuple[str, str]]:
    return STATUS.findall(stderr or "")


def _gpg_failure(result: Any) -> BackupError | None:
    """Why gpg did not decrypt the whole archive with its integrity intact, or None if it did."""
    statuses = _statuses(result.stderr)
    keywords = {keyword for keyword, _ in statuses}
    if (
        result.returncode == 0
        and "DECRYPTION_OKAY" in keywords
        and not keywords & {"BADMDC", "DECRYPTION_FAILED"}
    ):
        return None
    codes = {
        int(args.split()[1]) & 0xFFFF
        for keyword, args in statuses
        if keyword == "ERROR" and args.startswith("pkdecrypt_failed ") and args.split()[1].isdigit()
    }
    if GPG_ERR_NO_PIN_ENTRY in codes or "MISSING_PASSPHRASE" in keywords:
        return PassphraseNeeded(
            "the backup secret key is protected by a passphrase: give it with --passphrase-file"
        )
    if GPG_ERR_BAD_PASSPHRASE in codes:
        return BackupKeyProblem("the passphrase of the backup secret key is wrong")
    if "NO_SECKEY" in keywords and "DECRYPTION_KEY" not in keywords:
        wanted = sorted({args.split()[0] for keyword, args in statuses if keyword == "NO_SECKEY"})
        return BackupKeyProblem(
            f"wrong key: this archive is encrypted to key {', '.join(wanted)}, and the secret "
            "key given is not that key"
        )
    if "BADMDC" in keywords:
        return Tampered("the archive has been altered or damaged: GnuPG's integrity check failed")
    if "ENC_TO" not in keywords:
        return ArchiveDamaged("this file is not an encrypted backup archive")
    return ArchiveDamaged(f"GnuPG could not decrypt the archive ({result.status or 'no status'})")


def _raise_first(failure: BackupError | None, errors: list[BaseException]) -> None:
    """Raise the most telling error: a key problem or a failed integrity check (which explain
    whatever the reader made of the data), then the reader's own, then gpg's."""
    if isinstance(failure, BackupKeyProblem | Tampered):
        raise failure
    if errors:
        if isinstance(errors[0], BackupError):
            raise errors[0]
        raise BackupError(f"reading the archive failed: {errors[0]}") from errors[0]
    if failure is not None:
        raise failure


def decrypt_archive(
    gpg: gnupg.GPG,
    archive: Path,
    passphrase: str | None,
    consume: Callable[[IO[bytes]], Result],
) -> Result:
    """Decrypt archive with the key in gpg, feeding the plaintext to consume in a thread.

    Without a passphrase gpg is told never to ask for one (no pinentry), so a protected key
    fails at once with PassphraseNeeded. If the reader fails, gpg is fed no more.
    """
    try:
        handle = archive.open("rb")
    except OSError as exc:
        raise BackupError(f"cannot read {archive}: {exc.strerror}") from None
    read_fd, write_fd = os.pipe()
    to_reader = os.fdopen(write_fd, "wb")
    from_gpg = os.fdopen(read_fd, "rb")
    failed = threading.Event()
    outcome: list[Result] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(consume(from_gpg))
        except BaseException as exc:
            errors.append(exc)
            failed.set()
        finally:
            from_gpg.close()

    def on_data(chunk: bytes) -> bool:
        if not chunk:
            _close(to_reader)
        elif not failed.is_set():
            try:
                to_reader.write(chunk)
            except OSError:  # the reader gave up and closed its end
                failed.set()
        return False

    reader = threading.Thread(target=run, name="restore-reader", daemon=True)
    reader.start()
    try:
        with handle:
            gpg.on_data = on_data
            result = gpg.decrypt_file(
                _StoppableReader(handle, failed),
                passphrase=passphrase,
                extra_args=None if passphrase is not None else ["--pinentry-mode", "error"],
            )
    finally:
        _close(to_reader)
        reader.join()
    _raise_first(_gpg_failure(result), errors)
    return outcome[0]
