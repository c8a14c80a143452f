"""Every use of GnuPG, behind one class. Results are checked; failures raise named errors."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import gnupg

# python-gnupg logs the commands it runs at DEBUG; keep it quiet whatever the root level.
logging.getLogger("gnupg").setLevel(logging.WARNING)

# Big chunks between Python and gpg: the default 16 KiB makes a 2 GiB upload crawl.
BUFFER_SIZE = 1024 * 1024
# The most buffers one writev takes (Linux: 1,024).
IOV_MAX = os.sysconf("SC_IOV_MAX") if "SC_IOV_MAX" in os.sysconf_names else 16
# A piece of a stream on its way to gpg: bytes, or a view of them that need not be copied.
Piece = bytes | memoryview
# Documents are gzipped before encryption, so gpg's own compression would only cost time.
NO_COMPRESSION = ["--compress-algo", "none"]
# gpg-agent puts its sockets in the home; a Unix socket path must fit in 107 bytes.
MAX_SCRATCH_PARENT = 75


class EncryptionError(Exception):
    """GnuPG failed to do what was asked."""


class SubmissionKeyUnavailable(EncryptionError):
    """The submission key is missing or cannot be used to encrypt."""


class KeyFileRejected(EncryptionError):
    """A key file offered as the submission key is not a usable public key."""


class DecryptionFailed(EncryptionError):
    """A reply could not be decrypted with the source's key."""


class OutOfSpace(EncryptionError):
    """The disk filled up while GnuPG was writing."""


class Readable(Protocol):
    """Anything python-gnupg can stream from: a file, a spool, a GzipReader."""

    def read(self, size: int = ..., /) -> bytes: ...


@dataclass(frozen=True)
class SourceKeyPair:
    """A source's reply keypair, armored; the secret half is passphrase-protected."""

    fingerprint: str
    public_key: str
    secret_key: str


def _check(result: Any, what: str) -> None:
    """Raise if a python-gnupg result says the operation failed."""
    ok = result.ok if hasattr(result, "ok") else bool(result)  # ImportResult has no .ok
    # gpg can report END_ENCRYPTION (so .ok is True) and still fail writing the output, for
    # example on a full disk: only a zero exit status means the ciphertext is complete.
    if ok and getattr(result, "returncode", 0) == 0:
        return
    stderr = getattr(result, "stderr", "") or ""
    if "No space left on device" in stderr:
        raise OutOfSpace(f"{what}: the disk is full")
    status = getattr(result, "status", None)
    raise EncryptionError(f"{what} failed: {status or 'see gpg output'}")


def _key_problem(key: dict[str, Any]) -> str | None:
    """Why a key listed by gpg cannot be used to encrypt, or None if it can."""
    validity = key.get("trust", "")
    if validity == "r":
        return "the key is revoked"
    if validity == "e":
        return "the key has expired"
    expires = key.get("expires") or ""
    if expires and int(expires) <= time.time():
        return "the key has expired"
    # Upper-case E: the key as a whole, with its subkeys, is usable for encryption.
    if "E" not in (key.get("cap") or ""):
        return "the key cannot encrypt (no usable encryption subkey)"
    return None


def _new_gpg(homedir: Path) -> gnupg.GPG:
    gpg = gnupg.GPG(gnupghome=str(homedir))
    gpg.encoding = "utf-8"
    gpg.buffer_size = BUFFER_SIZE
    return gpg


@contextmanager
def scratch_keyring(parent: Path) -> Iterator[gnupg.GPG]:
    """A throwaway GnuPG home for one operation; its agent is stopped and the home removed."""
    if len(str(parent)) > MAX_SCRATCH_PARENT:
        raise EncryptionError(f"{parent} is too long a path for gpg-agent's sockets")
    parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Short name: gpg-agent's socket path must fit in 107 bytes.
    home = Path(tempfile.mkdtemp(prefix="g", dir=parent))
    # Source keys are protected by a 256-bit argon2id output, so GnuPG's own S2K stretching
    # adds nothing but seconds (3 s per key generation here at the calibrated default).
    for name in ("gpg-agent.conf", "gpg.conf"):
        (home / name).write_text("s2k-count 65536\n")
    try:
        yield _new_gpg(home)
    finally:
        subprocess.run(
            ["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(home, ignore_errors=True)


def inspect_public_key(armored: str, scratch_dir: Path) -> str:
    """Check that armored holds exactly one usable public key; return its fingerprint.

    A secret key is refused outright: the submission key's private half must never reach
    the server.
    """
    if "PRIVATE KEY BLOCK" in armored:
        raise KeyFileRejected("this file holds a SECRET key; give the server the public key only")
    with scratch_keyring(scratch_dir) as gpg:
        scanned = gpg.scan_keys_mem(armored)
        if any(key.get("type") == "sec" for key in scanned):
            raise KeyFileRejected(
                "this file holds a SECRET key; give the server the public key only"
            )
        if len(scanned) != 1:
            raise KeyFileRejected(f"expected exactly one public key, found {len(scanned)}")
        result = gpg.import_keys(armored)
        if not result.fingerprints:
            raise KeyFileRejected("GnuPG could not import this key")
        if result.sec_imported:
            raise KeyFileRejected(
                "this file holds a SECRET key; give the server the public key only"
            )
        keys = gpg.list_keys(keys=result.fingerprints[0])
        if len(keys) != 1:
            raise KeyFileRejected("GnuPG could not read back the imported key")
        problem = _key_problem(keys[0])
        if problem:
            raise KeyFileRejected(problem)
        return str(keys[0]["fingerprint"]).upper()


class EncryptionPipe:
    """gpg in its own process, encrypting what is written to it into a file (issue 16).

    So an upload is encrypted while it arrives, on the other core. gpg writes to a pipe and
    a thread here copies that into the file, taking its SHA-256 on the way: the checksum
    costs no second reading of the file. Any failure (gpg's, or the disk's) is kept for
    finish() to raise, so the request that feeds it reads its body to the end and gets a
    proper answer rather than a broken pipe.
    """

    def __init__(self, command: list[str], output: Path) -> None:
        self._digest = hashlib.sha256()
        self._error: OSError | None = None
        self._broken = False
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - owned by this object
        try:
            fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            self._error, self._broken, self._process = exc, True, None
            return
        self._output = os.fdopen(fd, "wb")
        try:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                bufsize=0,
            )
        except OSError as exc:  # no gpg, or no more processes
            self._output.close()
            output.unlink(missing_ok=True)
            self._error, self._broken, self._process = exc, True, None
            return
        assert self._process.stdin is not None and self._process.stdout is not None
        self._stdin, self._stdout = self._process.stdin, self._process.stdout
        # Fewer, larger hand-overs between the two processes (Linux; the default is 64 KiB).
        for pipe in (self._stdin, self._stdout):
            with suppress(OSError, AttributeError):
                fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, BUFFER_SIZE)
        self._copier = threading.Thread(target=self._copy, daemon=True)
        self._copier.start()

    def _copy(self) -> None:
        # One buffer for the whole file: a new 1 MiB object per read cost page faults.
        buffer = memoryview(bytearray(BUFFER_SIZE))
        try:
            while count := os.readv(self._stdout.fileno(), [buffer]):
                self._digest.update(buffer[:count])
                self._output.write(buffer[:count])
            self._output.flush()
        except OSError as exc:
            self._error = exc
            assert self._process is not None
            self._process.kill()  # nobody reads its output any more: it must not block

    def write(self, pieces: Sequence[Piece]) -> None:
        """Hand pieces to gpg, in order; if gpg has died, drop them (finish() will say why).

        One writev for many pieces, each written from where it lies: no joining copy.
        """
        views = [memoryview(piece) for piece in pieces if len(piece)]
        fd = self._stdin.fileno() if not self._broken else -1
        try:
            while views and not self._broken:
                written = os.writev(fd, views[:IOV_MAX])
                while views and written >= views[0].nbytes:  # a pipe may take only part
                    written -= views.pop(0).nbytes
                if views and written:
                    views[0] = views[0][written:]
        except BrokenPipeError:
            self._broken = True

    def finish(self) -> str:
        """End the input, wait for gpg; the file's "sha256:<hex>", if it is complete."""
        code = self._end()
        stderr = self._stderr.read().decode("utf-8", errors="replace")
        self._stderr.close()
        if code == 0 and not self._broken and self._error is None:
            return f"sha256:{self._digest.hexdigest()}"
        if "No space left on device" in stderr or (
            self._error is not None and self._error.errno == errno.ENOSPC
        ):
            raise OutOfSpace("encrypting an upload: the disk is full")
        raise EncryptionError(f"encrypting an upload failed (gpg exit status {code})")

    def abort(self) -> None:
        """Stop gpg before it ends the message: a cut-off upload must never look complete."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
        self._end()
        self._stderr.close()

    def _end(self) -> int | None:
        if self._process is None:
            return None
        with suppress(BrokenPipeError):
            self._stdin.close()
        code = self._process.wait()
        self._copier.join()
        self._stdout.close()
        try:
            self._output.close()  # writes what is still buffered: the disk may be full now
        except OSError as exc:
            self._error = self._error or exc
        self._stderr.seek(0)
        return code


class GpgService:
    """Encryption to the submission key, and the per-source reply keys.

    The server's own keyring holds only the public submission key. Source keys are never put
    in a shared keyring: each operation gets a throwaway keyring with just the keys it needs,
    so its cost does not grow with the number of sources (SecureDrop #6389).
    """

    def __init__(self, homedir: Path, submission_fingerprint: str, scratch_dir: Path) -> None:
        self._homedir = homedir
        self._fingerprint = submission_fingerprint
        self._scratch_dir = scratch_dir
        self._gpg = _new_gpg(homedir)

    @property
    def submission_fingerprint(self) -> str:
        """The fingerprint recorded in settings."""
        return self._fingerprint

    def import_submission_key(self, armored: str) -> str:
        """Validate and import the public submission key into the server keyring."""
        fingerprint = inspect_public_key(armored, self._scratch_dir)
        _check(self._gpg.import_keys(armored), "importing the submission key")
        return fingerprint

    def check_submission_key(self, recipients: Sequence[str]) -> None:
        """Raise SubmissionKeyUnavailable unless every recipient key can encrypt right now."""
        if not self._homedir.is_dir():
            raise SubmissionKeyUnavailable("the server keyring is missing")
        if not recipients:
            raise SubmissionKeyUnavailable("there is no active recipient key")
        for fingerprint in recipients:
            keys = self._gpg.list_keys(keys=fingerprint)
            if len(keys) != 1:
                raise SubmissionKeyUnavailable(f"key {fingerprint} is not in the server keyring")
            problem = _key_problem(keys[0])
            if problem:
                raise SubmissionKeyUnavailable(f"key {fingerprint}: {problem}")

    def submission_public_key(self, fingerprint: str | None = None) -> str:
        """The armored public key of fingerprint (the configured submission key by default)."""
        armored = self._gpg.export_keys(fingerprint or self._fingerprint)
        if "PUBLIC KEY BLOCK" not in armored:
            raise SubmissionKeyUnavailable("the submission key could not be exported")
        return str(armored)

    def encrypt_to_submission_key(
        self, plaintext: Readable | bytes, output: Path, recipients: Sequence[str]
    ) -> None:
        """Encrypt a stream or bytes to every recipient key at once, writing to output.

        One OpenPGP message with a session key per recipient: the content is encrypted (and
        streamed) once, whatever the number of keys.
        """
        if not recipients:
            raise SubmissionKeyUnavailable("there is no active recipient key")
        if isinstance(plaintext, bytes):
            result = self._gpg.encrypt(
                plaintext,
                list(recipients),
                always_trust=True,
                armor=False,
                output=str(output),
            )
        else:
            result = self._gpg.encrypt_file(
                plaintext,
                list(recipients),
                always_trust=True,
                armor=False,
                output=str(output),
                extra_args=NO_COMPRESSION,
            )
        _check(result, "encrypting to the submission keys")

    def start_encryption(self, output: Path, recipients: Sequence[str]) -> EncryptionPipe:
        """A gpg process encrypting what is written to it to every recipient key, into output.

        The same OpenPGP message as encrypt_to_submission_key makes of a stream.
        """
        if not recipients:
            raise SubmissionKeyUnavailable("there is no active recipient key")
        command = [self._gpg.gpgbinary, "--homedir", str(self._homedir), "--batch", "--no-tty"]
        command += ["--quiet", "--yes", "--trust-model", "always", *NO_COMPRESSION]
        command += ["--output", "-", "--encrypt"]
        for fingerprint in recipients:
            command += ["--recipient", fingerprint]
        return EncryptionPipe(command, output)

    def generate_source_keypair(self, passphrase: str) -> SourceKeyPair:
        """Make an ed25519/cv25519 keypair protected by passphrase; keep it only as armor."""
        with scratch_keyring(self._scratch_dir) as gpg:
            key_input = gpg.gen_key_input(
                key_type="EDDSA",
                key_curve="ed25519",
                key_usage="sign",
                subkey_type="ECDH",
                subkey_curve="cv25519",
                subkey_usage="encrypt",
                # Fixed, meaningless identity: the defaults would embed the server's hostname.
                name_real="Source Key",
                name_email="source@seethesigns.invalid",
                expire_date=0,
                passphrase=passphrase,
            )
            result = gpg.gen_key(key_input)
            _check(result, "generating a source key")
            fingerprint = str(result.fingerprint)
            public = gpg.export_keys(fingerprint)
            secret = gpg.export_keys(fingerprint, secret=True, passphrase=passphrase)
            if "PUBLIC KEY BLOCK" not in public or "PRIVATE KEY BLOCK" not in secret:
                raise EncryptionError("exporting a new source key failed")
            return SourceKeyPair(fingerprint, str(public), str(secret))

    def encrypt_reply(
        self, text: str, source_public_key: str, output: Path, recipients: Sequence[str]
    ) -> None:
        """Encrypt a staff reply to the source's key and every recipient key."""
        if not recipients:
            raise SubmissionKeyUnavailable("there is no active recipient key")
        with scratch_keyring(self._scratch_dir) as gpg:
            imported = gpg.import_keys(source_public_key)
            if imported.count != 1 or not imported.fingerprints:
                raise EncryptionError("the source's public key could not be imported")
            for fingerprint in recipients:
                _check(
                    gpg.import_keys(self.submission_public_key(fingerprint)),
                    "importing a recipient key",
                )
            result = gpg.encrypt(
                text.encode("utf-8"),
                [imported.fingerprints[0], *recipients],
                always_trust=True,
                armor=False,
                output=str(output),
            )
            _check(result, "encrypting a reply")

    def encryption_key_ids(self, public_key: str) -> frozenset[str]:
        """The long ids of the keys (primary or sub) in public_key that can encrypt."""
        with scratch_keyring(self._scratch_dir) as gpg:
            imported = gpg.import_keys(public_key)
            if not imported.fingerprints:
                raise EncryptionError("the public key could not be imported")
            found = set()
            for key in gpg.list_keys():
                if "e" in (key.get("cap") or ""):
                    found.add(str(key["keyid"]).upper())
                for info in (key.get("subkey_info") or {}).values():
                    if "e" in (info.get("cap") or ""):
                        found.add(str(info["keyid"]).upper())
            return frozenset(found)

    def decrypt_replies(
        self, ciphertexts: list[bytes], source_secret_key: str, passphrase: str
    ) -> list[str | None]:
        """Decrypt replies with the source's secret key, in memory only.

        A reply that will not decrypt (corrupt, or addressed to another key) comes back as
        None, so one bad reply cannot hide the others from the source; if none decrypts, the
        key or passphrase is wrong and DecryptionFailed is raised.
        """
        if not ciphertexts:
            return []
        with scratch_keyring(self._scratch_dir) as gpg:
            imported = gpg.import_keys(source_secret_key)
            if not imported.fingerprints:
                raise DecryptionFailed("the source's key could not be imported")
            plaintexts: list[str | None] = []
            for ciphertext in ciphertexts:
                result = gpg.decrypt(ciphertext, passphrase=passphrase)
                ok = result.ok and result.returncode == 0
                plaintexts.append(result.data.decode("utf-8", errors="replace") if ok else None)
            if all(text is None for text in plaintexts):
                raise DecryptionFailed("no reply could be decrypted")
            return plaintexts
