"""Fixtures for the workstation: a real passphrase-protected key made by `keygen`, cheaply.

Costs are lowered the way an operator would change them, through a workstation settings
file (`--config`), never by patching. Items are made by the server's own code: GpgService
encrypts, GzipReader writes the gzip with the name in its header.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from seethesigns.encryption import GpgService
from seethesigns.uploads import GzipReader
from tests.conftest import short_tmpdir
from workstation.cli import main

PASSPHRASE = "correct horse battery staple"
# The cheapest S2K GnuPG allows, and limits small enough for bombs to be quick to build.
CHEAP_CONFIG = """\
[keys]
s2k_count = 65536

[limits]
max_item_bytes = 33554432
max_ratio = 50
ratio_applies_above_bytes = 1048576
"""


@dataclass(frozen=True)
class WorkstationKey:
    """A submission key made by `seethesigns-workstation keygen`, and what it came with."""

    homedir: Path
    fingerprint: str
    public_key: str
    config: Path


def passphrase_fd(*lines: str) -> int:
    """A pipe's read end holding these lines, for --passphrase-fd."""
    read, write = os.pipe()
    os.write(write, "".join(f"{line}\n" for line in lines).encode("utf-8"))
    os.close(write)
    return read


def run_cli(*args: str, passphrases: tuple[str, ...] = ()) -> int:
    """Run seethesigns-workstation in-process, feeding passphrases through a descriptor."""
    if not passphrases:
        return main(list(args))
    fd = passphrase_fd(*passphrases)
    try:
        return main([*args, "--passphrase-fd", str(fd)])
    finally:
        os.close(fd)


def stop_agent(homedir: Path) -> None:
    """Stop every GnuPG daemon of a home a test made."""
    subprocess.run(["gpgconf", "--homedir", str(homedir), "--kill", "all"], check=False)


@pytest.fixture(scope="session")
def cheap_config() -> Iterator[Path]:
    """A workstation settings file with the test costs and limits."""
    folder = short_tmpdir("stwc")
    path = folder / "workstation.toml"
    path.write_text(CHEAP_CONFIG)
    yield path
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def workstation_key(cheap_config: Path) -> Iterator[WorkstationKey]:
    """One ed25519/cv25519 submission key for the session, protected by PASSPHRASE."""
    folder = short_tmpdir("stwk")
    homedir, export = folder / "gnupg", folder / "submission.asc"
    code = run_cli(
        "--config",
        str(cheap_config),
        "keygen",
        "--homedir",
        str(homedir),
        "--export",
        str(export),
        passphrases=(PASSPHRASE,),
    )
    assert code == 0
    public = export.read_text()
    yield WorkstationKey(homedir, _fingerprint_of(homedir), public, cheap_config)
    stop_agent(homedir)
    shutil.rmtree(folder, ignore_errors=True)


def _fingerprint_of(homedir: Path) -> str:
    listed = subprocess.run(
        ["gpg", "--homedir", str(homedir), "--with-colons", "--list-secret-keys"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return next(line.split(":")[9] for line in listed.splitlines() if line.startswith("fpr:"))


class ServerSide:
    """The server's encryption to a public key, as the source interface uses it."""

    def __init__(self, public_key: str, folder: Path) -> None:
        (folder / "gnupg").mkdir(mode=0o700, parents=True)
        (folder / "tmp").mkdir(mode=0o700)
        self._home = folder / "gnupg"
        fingerprint = GpgService(self._home, "", folder / "tmp").import_submission_key(public_key)
        self._gpg = GpgService(self._home, fingerprint, folder / "tmp")
        self._folder = folder

    def message(self, text: str) -> bytes:
        """A stored message: the text encrypted to the key (with gpg's compression)."""
        return self._encrypt(text.encode("utf-8"))

    def document(self, content: bytes, filename: str) -> bytes:
        """A stored document: gzip with the name in its header, encrypted to the key."""
        return self._encrypt(GzipReader(io.BytesIO(content), filename))

    def encrypt(self, plaintext: bytes) -> bytes:
        """Any bytes, encrypted as a document is (a stream, no gpg compression)."""
        return self._encrypt(io.BytesIO(plaintext))

    def _encrypt(self, plaintext: bytes | io.BytesIO | GzipReader) -> bytes:
        output = self._folder / "item.gpg"
        self._gpg.encrypt_to_submission_key(plaintext, output, [self._gpg.submission_fingerprint])
        data = output.read_bytes()
        output.unlink()
        return data

    def close(self) -> None:
        """Stop the agent of the scratch keyring."""
        stop_agent(self._home)


@pytest.fixture(scope="session")
def server_side(workstation_key: WorkstationKey) -> Iterator[ServerSide]:
    """Encryption to the workstation's key, by the server's code."""
    folder = short_tmpdir("stws")
    found = ServerSide(workstation_key.public_key, folder)
    yield found
    found.close()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A short scratch folder for one test."""
    folder = short_tmpdir("stwt")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def write_zip(path: Path, entries: dict[str, bytes]) -> Path:
    """A zip with these entries, stored as the staff export stores them."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def open_export(
    key: WorkstationKey, export: Path, out: Path, *extra: str, passphrase: str = PASSPHRASE
) -> int:
    """`seethesigns-workstation open EXPORT --out OUT` with the test key and settings."""
    return run_cli(
        "--config",
        str(key.config),
        "open",
        str(export),
        "--out",
        str(out),
        "--homedir",
        str(key.homedir),
        *extra,
        passphrases=(passphrase,),
    )


GOOD_MESSAGE = "They make my brother carry packages to Margate."
GOOD_NAME = "good_otter/1-good_otter-msg.gpg"


def good_entries(server: ServerSide) -> dict[str, bytes]:
    """One message and one document that must open whatever else is in the export."""
    return {
        GOOD_NAME: server.message(GOOD_MESSAGE),
        "good_otter/2-good_otter-doc.gz.gpg": server.document(b"%PDF-1.4 fine", "fine.pdf"),
    }


def assert_good_items_opened(out: Path) -> None:
    """The good items are there, byte for byte, whatever went wrong with the others."""
    assert (out / "good_otter/1-message.txt").read_text() == GOOD_MESSAGE
    assert (out / "good_otter/documents/fine.pdf").read_bytes() == b"%PDF-1.4 fine"


def all_files(folder: Path) -> set[str]:
    """Every path under folder, relative, links included (and not followed)."""
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


def reported(capsys: pytest.CaptureFixture[str], name: str) -> str:
    """The summary line naming an entry that was not opened."""
    output = capsys.readouterr().out
    assert "NOT OPENED" in output, output
    lines = [line for line in output.splitlines() if line.strip().startswith(name + ":")]
    assert len(lines) == 1, output
    return lines[0]
