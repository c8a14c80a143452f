"""Checking a share package before the server stores it (format version 1, issue 14).

The front-door team's workstation re-encrypts chosen items to another team's keys and writes
a zip: `manifest.json` and one binary OpenPGP message per item. The server stores each item as
it is, so it must be sure every item is ciphertext for exactly that team and nothing else:
a workstation bug that wrote plaintext, or encrypted to the wrong team, would otherwise put
a child's words where the wrong people can read them. Everything is streamed; items can be
hundreds of MB.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any, BinaryIO

from seethesigns.pgp_packets import NotAnEncryptedMessage, check_encrypted_stream
from seethesigns.storage import designation_slug

FORMAT = "seethesigns-share"
VERSION = 1
MANIFEST = "manifest.json"
MAX_MANIFEST_BYTES = 256 * 1024
CHUNK = 1024 * 1024
# gpg --throw-keyids writes this id: a hidden recipient could be anyone's key.
WILDCARD_KEY_ID = "0" * 16
ITEM_NAME = re.compile(r"^([1-9][0-9]{0,3})-(msg|doc\.gz)\.gpg$")
KINDS = {"msg": "message", "doc.gz": "document"}
FINGERPRINT = re.compile(r"^[0-9A-F]{40}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
MANIFEST_KEYS = {"format", "version", "designation", "team", "recipients", "items"}
ITEM_KEYS = {"file", "kind", "size", "sha256"}


class PackageRefused(Exception):
    """The package cannot be accepted; str() is a plain reason for the staff member."""


@dataclass(frozen=True)
class PackageItem:
    """One item as the manifest declares it (and as checked)."""

    file: str
    kind: str
    size: int
    sha256: str

    @property
    def number(self) -> int:
        """The item's number in the package (its order in the conversation shared)."""
        return int(self.file.split("-", 1)[0])


def _group(fingerprint: str) -> str:
    return " ".join(fingerprint[i : i + 4] for i in range(0, len(fingerprint), 4))


class ItemStream:
    """A zip member's bytes, counted and hashed, never more than `limit` of them (read only)."""

    def __init__(self, raw: IO[bytes], name: str, limit: int) -> None:
        self._raw, self._name, self._limit = raw, name, limit
        self.size = 0
        self.hash = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        """Read, refusing the member as soon as it goes past its limit (a zip bomb)."""
        want = CHUNK if size is None or size < 0 else min(size, CHUNK)
        try:
            data = self._raw.read(want)
        except (zipfile.BadZipFile, EOFError, OSError) as exc:
            raise PackageRefused(f"{self._name} is damaged in the zip ({exc})") from None
        self.size += len(data)
        if self.size > self._limit:
            raise PackageRefused(f"{self._name} is larger than it says it is")
        self.hash.update(data)
        return data

    def finish(self, item: PackageItem) -> None:
        """Read to the end and check the size and sha256 the manifest declared."""
        while self.read(CHUNK):
            pass
        if self.size != item.size:
            raise PackageRefused(f"{item.file} is {self.size} bytes, not {item.size} as listed")
        if self.hash.hexdigest() != item.sha256:
            raise PackageRefused(f"{item.file} does not match its sha256 in the manifest")


class SharePackage:
    """A checked package. Read its items with open_item() while its file is still open."""

    def __init__(self, archive: zipfile.ZipFile, designation: str, team: str) -> None:
        self._archive = archive
        self.designation = designation
        self.team = team
        self.items: list[PackageItem] = []

    @contextmanager
    def open_item(self, item: PackageItem) -> Iterator[ItemStream]:
        """Stream one item's bytes (read() in chunks); its sha256 is checked again at the end."""
        with _member(self._archive, item) as reader:
            yield reader


def read_package(
    file: BinaryIO,
    *,
    designation: str,
    team: str,
    recipients: Mapping[str, frozenset[str]],
    max_items: int = 50,
    max_item_bytes: int,
) -> SharePackage:
    """Check a share package for one case and one team; raise PackageRefused if it is wrong.

    recipients maps each active recipient fingerprint of the team to the long ids of its
    encryption (sub)keys. Every item must be encrypted to all of them and to nothing else.
    """
    if not recipients:
        raise PackageRefused(f"{team} has no active recipient key to share with")
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError, EOFError):
        raise PackageRefused("this is not a share package: it is not a zip file") from None
    infos = _check_members(archive, max_items, max_item_bytes)
    manifest = _read_manifest(archive, infos)
    package = SharePackage(archive, designation_slug(designation), team)
    _check_header(manifest, package, recipients)
    package.items = _check_items(manifest, infos, max_items)
    key_ids = {key_id.upper(): fp for fp, ids in recipients.items() for key_id in ids}
    for item in package.items:
        with _member(archive, item) as reader:
            try:
                found = check_encrypted_stream(reader)
            except NotAnEncryptedMessage as exc:
                raise PackageRefused(
                    f"{item.file} is not a binary OpenPGP message encrypted to public keys: {exc}"
                ) from None
        _check_recipients(item, found, key_ids, recipients, team)
    return package


@contextmanager
def _member(archive: zipfile.ZipFile, item: PackageItem) -> Iterator[ItemStream]:
    """An item's bytes, counted and hashed; checked against the manifest once read."""
    try:
        raw = archive.open(item.file)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise PackageRefused(f"{item.file} is damaged in the zip ({exc})") from None
    with raw:
        reader = ItemStream(raw, item.file, item.size)
        yield reader
        reader.finish(item)


def _check_members(
    archive: zipfile.ZipFile, max_items: int, max_item_bytes: int
) -> dict[str, zipfile.ZipInfo]:
    """Names and declared sizes, before a byte is read: no traversal, no bombs, no extras."""
    infos = archive.infolist()
    if len(infos) > max_items + 1:
        raise PackageRefused(f"the package holds more than {max_items} items")
    found: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename
        if name in found:
            raise PackageRefused(f"the package holds {name!r} twice")
        if name != MANIFEST and not ITEM_NAME.fullmatch(name):
            raise PackageRefused(f"the package holds an unexpected file {name!r}")
        if info.flag_bits & 0x1:
            raise PackageRefused(f"{name} is password-protected in the zip")
        if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
            raise PackageRefused(f"{name} is compressed; share packages store items as they are")
        limit = MAX_MANIFEST_BYTES if name == MANIFEST else max_item_bytes
        if info.file_size > limit:
            raise PackageRefused(f"{name} is larger than the {limit:,} bytes allowed")
        found[name] = info
    return found


def _read_manifest(archive: zipfile.ZipFile, infos: dict[str, zipfile.ZipInfo]) -> Any:
    if MANIFEST not in infos:
        raise PackageRefused("this is not a share package: it has no manifest.json")
    try:
        with archive.open(infos[MANIFEST]) as raw:
            data = raw.read(MAX_MANIFEST_BYTES + 1)
    except (zipfile.BadZipFile, OSError, EOFError):
        raise PackageRefused("the manifest is damaged in the zip") from None
    if len(data) > MAX_MANIFEST_BYTES:
        raise PackageRefused("the manifest is too large")
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise PackageRefused("the manifest is not valid JSON") from None
    if not isinstance(manifest, dict) or set(manifest) != MANIFEST_KEYS:
        raise PackageRefused("the manifest does not have the fields of a share package")
    return manifest


def _check_header(
    manifest: dict[str, Any], package: SharePackage, recipients: Mapping[str, frozenset[str]]
) -> None:
    if manifest["format"] != FORMAT:
        raise PackageRefused("this is not a share package (its manifest has another format)")
    if manifest["version"] != VERSION or isinstance(manifest["version"], bool):
        raise PackageRefused(f"share package version {manifest['version']!r} is not supported")
    if manifest["designation"] != package.designation:
        raise PackageRefused(
            f"the package was made for {manifest['designation']!r}, not this case "
            f"({package.designation})"
        )
    if manifest["team"] != package.team:
        raise PackageRefused(f"the package was made for {manifest['team']!r}, not {package.team}")
    listed = manifest["recipients"]
    if not isinstance(listed, list) or not all(
        isinstance(fp, str) and FINGERPRINT.fullmatch(fp) for fp in listed
    ):
        raise PackageRefused("the manifest's recipients are not a list of fingerprints")
    wanted = {fp.upper() for fp in recipients}
    if len(set(listed)) != len(listed) or set(listed) != wanted:
        raise PackageRefused(
            f"the package lists other keys than {package.team}'s active keys: make it again "
            "with the key file from the Teams page"
        )


def _check_items(
    manifest: dict[str, Any], infos: dict[str, zipfile.ZipInfo], max_items: int
) -> list[PackageItem]:
    listed = manifest["items"]
    if not isinstance(listed, list) or not listed:
        raise PackageRefused("the manifest lists no items")
    if len(listed) > max_items:
        raise PackageRefused(f"the package holds more than {max_items} items")
    items: list[PackageItem] = []
    for entry in listed:
        items.append(_item(entry, infos))
    names = [item.file for item in items]
    numbers = [item.number for item in items]
    if len(set(names)) != len(names) or len(set(numbers)) != len(numbers):
        raise PackageRefused("the manifest lists an item number twice")
    unlisted = sorted(set(infos) - {MANIFEST} - set(names))
    if unlisted:
        raise PackageRefused(f"the package holds {unlisted[0]}, which its manifest does not list")
    return sorted(items, key=lambda item: item.number)


def _item(entry: Any, infos: dict[str, zipfile.ZipInfo]) -> PackageItem:
    if not isinstance(entry, dict) or set(entry) != ITEM_KEYS:
        raise PackageRefused("the manifest has an item without exactly file, kind, size, sha256")
    name, kind, size, digest = entry["file"], entry["kind"], entry["size"], entry["sha256"]
    matched = ITEM_NAME.fullmatch(name) if isinstance(name, str) else None
    if matched is None:
        raise PackageRefused(f"the manifest lists a badly named item {name!r}")
    if kind != KINDS[matched.group(2)]:
        raise PackageRefused(f"{name} is listed as {kind!r}, but its name says otherwise")
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise PackageRefused(f"{name} has no valid size in the manifest")
    if not isinstance(digest, str) or not SHA256.fullmatch(digest):
        raise PackageRefused(f"{name} has no valid sha256 in the manifest")
    if name not in infos:
        raise PackageRefused(f"{name} is listed in the manifest but missing from the package")
    if infos[name].file_size != size:
        raise PackageRefused(f"{name} is {infos[name].file_size} bytes, not {size} as listed")
    return PackageItem(name, kind, size, digest)


def _check_recipients(
    item: PackageItem,
    found: frozenset[str],
    key_ids: Mapping[str, str],
    recipients: Mapping[str, frozenset[str]],
    team: str,
) -> None:
    if WILDCARD_KEY_ID in found:
        raise PackageRefused(
            f"{item.file} hides who it is encrypted to (gpg --throw-keyids); it cannot be checked"
        )
    strangers = sorted(found - set(key_ids))
    if strangers:
        raise PackageRefused(
            f"{item.file} is encrypted to a key that is not {team}'s (key ID {strangers[0]})"
        )
    covered = {key_ids[key_id] for key_id in found}
    for fingerprint in sorted(recipients):
        if fingerprint not in covered:
            raise PackageRefused(f"{item.file} is not encrypted to {_group(fingerprint.upper())}")
