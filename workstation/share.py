"""`share`: re-encrypt chosen items to another team's keys, as a package for the server.

The front-door team reads every report; another team (police liaison, health) gets only what
it needs, encrypted to its own keys. Before anything is encrypted, staff take out what could
identify the young person: a child in a county line may be one of very few people who know
an address. The only plaintext written is the copies being edited or cleaned, in the opened
folder's `.work`, and they are removed afterwards, whatever happens.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from workstation.filenames import printable, sanitize_filename
from workstation.keyring import group_fingerprint
from workstation.metadata import MetadataCleaner, MetadataToolMissing
from workstation.reader import WORK
from workstation.share_items import ChosenItem, Selection, ShareError
from workstation.team_keys import TeamKeys, team_keys

FORMAT = "seethesigns-share"
VERSION = 1
CHUNK = 1024 * 1024
MAX_SHOWN_CHARS = 20_000
# Zip entries carry a time; a fixed one says nothing about when staff made the package.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
CHECKLIST = """\
Before anything leaves this machine, take out what could identify the young person:
  - names and nicknames: theirs, their family's, friends', the people exploiting them
  - addresses, postcodes, and descriptions of a home, a flat or a trap house
  - phone numbers, usernames, social media handles, email addresses
  - their school, college, club or workplace
  - their codename, if it appears
  - times and places that point to one person ("the only one at the bus stop at six")
A young person in a county line may be one of very few people who know an address.
A document's file name goes with it: rename it in the opened folder first if it names anyone.
"""
VISIBLE = (
    "Removing metadata does not remove what is VISIBLE in a photo or a scan: faces, street "
    "signs, school uniforms, house numbers, screens. Look at each document before sharing it."
)


@dataclass(frozen=True)
class ShareOptions:
    """What the staff member asked for on the command line."""

    team: str
    key_file: Path
    out: Path
    confirmed: bool = False
    edit: bool = True
    keep_metadata: bool = False


@dataclass(frozen=True)
class Prepared:
    """An item ready to encrypt: its plaintext (a copy in .work) and its kind."""

    kind: str
    plaintext: Path


def share(selection: Selection, options: ShareOptions, ask: Callable[[str], str] = input) -> str:
    """Make the package; return the summary to print. Nothing is written if anything fails."""
    out = options.out
    partial = out.with_name(out.name + ".partial")
    if out.exists() or out.is_symlink():
        raise ShareError(f"{out} already exists; refusing to overwrite it")
    if partial.exists() or partial.is_symlink():
        raise ShareError(f"{partial} exists (left by an earlier run?); remove it first")
    with team_keys(options.key_file) as keys:
        _confirm(keys, options, ask)
        parent = selection.opened / WORK
        parent.mkdir(mode=0o700, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="share-", dir=parent))
        try:
            prepared = _prepare(selection.items, work, options)
            if not prepared:
                raise ShareError("every item was left out; no package was written")
            _write_package(prepared, keys, selection.designation, options, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
            if not any(parent.iterdir()):
                parent.rmdir()
    return _summary(prepared, len(selection.items), keys, selection.designation, options)


def _confirm(keys: TeamKeys, options: ShareOptions, ask: Callable[[str], str]) -> None:
    print(f"The package will be encrypted to these keys of {options.team}:")
    for fingerprint in keys.fingerprints:
        print(f"    {group_fingerprint(fingerprint)}")
    if options.confirmed:
        return
    try:
        answer = ask("Compare these with the admin's Teams page. Type yes to encrypt to them: ")
    except EOFError:
        answer = ""
    if answer.strip().lower() != "yes":
        raise ShareError("the keys were not confirmed; no package was written")


def _prepare(items: list[ChosenItem], work: Path, options: ShareOptions) -> list[Prepared]:
    """Clean every document first (it may refuse), then edit every message."""
    print()
    print(CHECKLIST)
    documents = [item for item in items if item.kind == "document"]
    cleaned: dict[Path, Path] = {}
    if documents:
        cleaner = _cleaner(work, options)
        for number, item in enumerate(documents):
            cleaned[item.path] = _clean(item.path, work / f"d{number}", cleaner, options)
        warn(VISIBLE)
    prepared = []
    for number, item in enumerate(items):
        if item.kind == "document":
            prepared.append(Prepared("document", cleaned[item.path]))
            continue
        text = _edit(item.path, work / f"m{number}.txt", options.edit)
        if text is not None:
            prepared.append(Prepared("message", text))
    return prepared


def _cleaner(work: Path, options: ShareOptions) -> MetadataCleaner | None:
    try:
        return MetadataCleaner.find(work)
    except MetadataToolMissing:
        if not options.keep_metadata:
            raise ShareError(
                "sharing documents needs mat2 to strip their metadata: install Debian's package "
                "with `apt-get install mat2` (or give --keep-metadata, and check them yourself)"
            ) from None
        warn("mat2 is missing: documents are shared WITH their metadata")
        return None


def _clean(
    document: Path, folder: Path, cleaner: MetadataCleaner | None, options: ShareOptions
) -> Path:
    """A gzip of a metadata-free copy of document, as the server stores documents."""
    folder.mkdir(mode=0o700)
    copy = folder / sanitize_filename(document.name)
    _copy_private(document, copy)
    shown = printable(document.name)
    if cleaner is not None:
        cleaning = cleaner.clean(copy)
        if cleaning.cleaned is None and not options.keep_metadata:
            raise ShareError(
                f"{shown}: {cleaning.note}; leave it out, or give --keep-metadata to share it "
                "as it is"
            )
        if cleaning.cleaned is None:
            warn(f"{shown} is shared WITH its metadata ({cleaning.note})")
        else:
            print(f"{shown}: metadata removed with mat2")
    compressed = folder.with_suffix(".gz")
    gzip_with_name(copy, copy.name, compressed)
    return compressed


def _edit(message: Path, copy: Path, edit: bool) -> Path | None:
    """The message as staff left it after editing, or None if they emptied it."""
    _copy_private(message, copy)
    text = copy.read_bytes().decode("utf-8", errors="replace")
    print(f"--- {printable(message.name)} ---")
    for line in text[:MAX_SHOWN_CHARS].splitlines():
        print(f"  {printable(line)}")
    if len(text) > MAX_SHOWN_CHARS:
        print(f"  [... {len(text) - MAX_SHOWN_CHARS:,} more characters: read them in the editor]")
    print("---")
    if edit:
        _run_editor(copy)
    if not copy.read_bytes().decode("utf-8", errors="replace").strip():
        print(f"{printable(message.name)} is empty after editing: it is left out of the package.")
        return None
    return copy


def editor_command() -> list[str]:
    """$VISUAL, $EDITOR, or the first of editor, nano and vi that is installed."""
    for variable in ("VISUAL", "EDITOR"):
        value = os.environ.get(variable, "").strip()
        if value:
            return shlex.split(value)
    for name in ("editor", "nano", "vi"):
        found = shutil.which(name)
        if found:
            return [found]
    raise ShareError("no text editor found: set EDITOR, or give --no-edit")


def _run_editor(copy: Path) -> None:
    command = editor_command()
    try:
        done = subprocess.run([*command, str(copy)], check=False)
    except OSError as exc:
        raise ShareError(f"could not start the editor {command[0]}: {exc.strerror}") from None
    if done.returncode != 0:
        raise ShareError(f"the editor exited with status {done.returncode}; no package was written")


def _copy_private(source: Path, target: Path) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    with source.open("rb") as reading, os.fdopen(os.open(target, flags, 0o600), "wb") as writing:
        shutil.copyfileobj(reading, writing, CHUNK)


def gzip_with_name(source: Path, name: str, target: Path) -> None:
    """gzip source into target with name in the FNAME field, as the server stores documents."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    crc = size = 0
    header = b"\x1f\x8b\x08\x08" + bytes(4) + b"\x00\xff" + name.encode("utf-8") + b"\x00"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    with source.open("rb") as reading, os.fdopen(os.open(target, flags, 0o600), "wb") as writing:
        writing.write(header)
        while chunk := reading.read(CHUNK):
            crc, size = zlib.crc32(chunk, crc), size + len(chunk)
            writing.write(compressor.compress(chunk))
        writing.write(compressor.flush() + struct.pack("<II", crc, size & 0xFFFFFFFF))


def _write_package(
    prepared: list[Prepared], keys: TeamKeys, designation: str, options: ShareOptions, work: Path
) -> None:
    """Encrypt each item, then write the zip as OUT.partial and move it into place."""
    entries = []
    for number, item in enumerate(prepared, 1):
        name = f"{number}-msg.gpg" if item.kind == "message" else f"{number}-doc.gz.gpg"
        ciphertext = work / name
        with item.plaintext.open("rb") as plaintext:
            keys.encrypt(plaintext, ciphertext)
        entries.append((name, item.kind, ciphertext))
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "designation": designation,
        "team": options.team,
        "recipients": keys.fingerprints,
        "items": [
            {"file": name, "kind": kind, "size": path.stat().st_size, "sha256": _sha256(path)}
            for name, kind, path in entries
        ],
    }
    partial = options.out.with_name(options.out.name + ".partial")
    try:
        with partial.open("xb") as handle:
            with zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED) as archive:
                archive.writestr(zipfile.ZipInfo("manifest.json", ZIP_TIME), json.dumps(manifest))
                for name, _kind, path in entries:
                    with (
                        path.open("rb") as source,
                        archive.open(zipfile.ZipInfo(name, ZIP_TIME), "w") as target,
                    ):
                        shutil.copyfileobj(source, target, CHUNK)
            handle.flush()
            os.fsync(handle.fileno())
        _move_into_place(partial, options.out)
    finally:
        partial.unlink(missing_ok=True)


def _move_into_place(partial: Path, out: Path) -> None:
    """Give the finished package its name, never replacing a file that appeared meanwhile."""
    try:
        os.link(partial, out)
    except FileExistsError:
        raise ShareError(f"{out} already exists; refusing to overwrite it") from None
    except OSError:  # a FAT-formatted USB stick has no hard links
        if out.exists():
            raise ShareError(f"{out} already exists; refusing to overwrite it") from None
        os.replace(partial, out)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _summary(
    prepared: list[Prepared], chosen: int, keys: TeamKeys, designation: str, options: ShareOptions
) -> str:
    messages = sum(item.kind == "message" for item in prepared)
    documents = len(prepared) - messages
    held = f"{_count(messages, 'message')}, {_count(documents, 'document')}"
    left_out = chosen - len(prepared)
    lines = [
        "",
        f"Package written to {options.out} for {options.team}:",
        f"    {held} from {designation}"
        + (f" ({left_out} left out, empty after editing)" if left_out else ""),
        "Encrypted to:",
        *(f"    {group_fingerprint(fingerprint)}" for fingerprint in keys.fingerprints),
        "Upload it on the case's page under 'Share with another team'.",
    ]
    return "\n".join(lines)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def warn(text: str) -> None:
    """A warning staff must not miss, on standard error."""
    print(f"\n!!! WARNING: {text}\n", file=sys.stderr)
