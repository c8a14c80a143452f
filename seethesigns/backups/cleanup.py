"""Removing what a failed or finished restore leaves: every file overwritten, then unlinked."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from seethesigns.storage import Store


def shred_tree(path: Path) -> None:
    """Overwrite every regular file under path (or path itself) with zeros, then remove it all.

    Staged data includes the database, the configuration's secrets and the onion services'
    private keys: deleted like the store deletes reports (best effort on SSDs; see the threat
    model).
    """
    if path.is_symlink() or not path.exists():
        path.unlink(missing_ok=True)
        return
    store = Store(path)
    if path.is_file():
        store.destroy(path)
        return
    for folder, _dirs, files in os.walk(path):
        for name in files:
            found = Path(folder) / name
            if found.is_file() and not found.is_symlink():
                store.destroy(found)
    shutil.rmtree(path, ignore_errors=True)
