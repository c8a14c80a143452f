"""Which files of an instance go into its backup, besides the database and configuration."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from seethesigns.backups.archive import Part
from seethesigns.backups.errors import BackupError
from seethesigns.backups.manifest import GNUPG, ONION, PLAIN_NAME, STORE
from seethesigns.storage import FILESYSTEM_ID, STORED_NAME


def _entries(folder: Path | str) -> list[os.DirEntry[str]]:
    """What is in folder, in name order; nothing if it was deleted meanwhile (purged)."""
    try:
        with os.scandir(folder) as found:
            return sorted(found, key=lambda entry: entry.name)
    except FileNotFoundError:
        return []


def _plain_files(folder: Path) -> Iterator[Path]:
    """Regular files directly in folder with plain names, in name order (no sockets, no
    sub-folders, no hidden lock or temporary files)."""
    for entry in _entries(folder):
        if entry.is_file(follow_symlinks=False) and PLAIN_NAME.fullmatch(entry.name):
            yield Path(entry.path)


def keyring_parts(homedir: Path) -> list[Part]:
    """The server keyring's public keys and settings, not gpg-agent's sockets or lock files.

    The server's keyring holds public keys only, so there is no private-keys folder to take.
    """
    if not homedir.is_dir():
        raise BackupError(f"the keyring {homedir} is missing")
    return [
        Part(f"{GNUPG}/{path.name}", path)
        for path in _plain_files(homedir)
        if path.name != "random_seed" and not path.name.endswith(".lock")
    ]


def onion_parts(keys_dir: Path) -> list[Part]:
    """The onion services' identity keys and the staff devices' client keys, if any yet.

    What a running publisher last published (published-*.json) is state of that process,
    not something to restore.
    """
    if not keys_dir.is_dir():
        return []
    return [
        Part(f"{ONION}/{path.name}", path)
        for path in _plain_files(keys_dir)
        if not path.name.startswith("published-")
    ]


def store_parts(store_dir: Path, skipped: list[str]) -> Iterator[Part]:
    """Every stored submission and reply, byte for byte, listed one source at a time.

    `.partial-*` files are writes still in progress (or interrupted ones, which purge removes);
    anything else unexpected is left out and its name added to skipped.
    """
    if not store_dir.is_dir():
        raise BackupError(f"the store {store_dir} is missing")
    for folder in _entries(store_dir):
        if not (folder.is_dir(follow_symlinks=False) and FILESYSTEM_ID.fullmatch(folder.name)):
            skipped.append(f"{STORE}/{folder.name}")
            continue
        for entry in _entries(folder.path):
            name = f"{STORE}/{folder.name}/{entry.name}"
            if entry.is_file(follow_symlinks=False) and STORED_NAME.fullmatch(entry.name):
                yield Part(name, Path(entry.path), may_vanish=True)
            elif not entry.name.startswith(".partial-"):
                skipped.append(name)
