"""Turning a name someone else chose into a file inside the output folder, and nowhere else.

The name in a document's gzip header was sanitised by the server, but the workstation does
not trust the server: a compromised one could write anything there. So the name is cleaned
again here, and the file is created with O_EXCL | O_NOFOLLOW in a folder this run made.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path
from typing import BinaryIO

MAX_NAME_BYTES = 200
# C0 and C1 controls, path separators, line separators and bidi overrides:
# "invoice\u202egpj.exe" would show as "invoiceexe.jpg", and "\x9b" starts a terminal escape.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f/\\\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
_TERMINAL_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def sanitize_filename(raw: bytes | str | None) -> str:
    """A safe base name: no path, no control or bidi characters, no leading dots."""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw or ""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = _UNSAFE.sub("", text).strip().lstrip(".").strip()
    text = text.encode("utf-8")[:MAX_NAME_BYTES].decode("utf-8", errors="ignore")
    return text or "document"


def printable(name: str) -> str:
    """A name from outside, safe to print on a terminal: controls shown as escapes."""
    return _TERMINAL_UNSAFE.sub(lambda found: f"\\u{ord(found.group()):04x}", name)


def _candidates(name: str) -> list[str]:
    stem, dot, suffix = name.rpartition(".")
    if not stem:
        stem, dot, suffix = name, "", ""
    return [name] + [f"{stem} ({n}){dot}{suffix}" for n in range(2, 1000)]


def create_unique(folder: Path, name: str) -> tuple[Path, BinaryIO]:
    """Create a new file for writing in folder, named name or "name (2)" if that is taken."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    for candidate in _candidates(sanitize_filename(name)):
        path = folder / candidate
        if path.resolve().parent != folder.resolve():  # pragma: no cover - sanitised above
            raise ValueError(f"{printable(candidate)} would leave {folder}")
        try:
            fd = os.open(path, flags, 0o600)
        except FileExistsError:
            continue
        return path, os.fdopen(fd, "wb")
    raise FileExistsError(f"too many files named {printable(name)} in {folder}")


def sibling_name(path: Path, label: str) -> str:
    """ "photo.jpg", "original" -> "photo.original.jpg": a clearly named companion file."""
    stem, dot, suffix = path.name.rpartition(".")
    if not stem:
        return f"{path.name}.{label}"
    return f"{stem}.{label}{dot}{suffix}"
