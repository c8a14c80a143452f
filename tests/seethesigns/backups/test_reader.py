"""Hostile archives, encrypted to the real backup key (its public half is no secret): every
unsafe member is refused and nothing is written anywhere."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from seethesigns.backups.errors import EXIT_DAMAGED
from seethesigns.backups.manifest import (
    CONFIG,
    DATABASE,
    FORMAT,
    HEADER,
    MANIFEST,
    PG_DUMP,
    BackupHeader,
    is_member_name,
)
from seethesigns.db import alembic_config
from tests.seethesigns.backups.conftest import (
    BackupKeyFiles,
    Populated,
    encrypt_to,
    json_out,
    leftovers,
    restore_args,
    run,
)

FSID = "A" * 32
STORED = f"store/{FSID}/1-gentle_otter-msg.gpg"
Member = tuple[tarfile.TarInfo, bytes | None]


def regular(name: str, data: bytes) -> Member:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def special(name: str, kind: bytes, linkname: str = "") -> Member:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    return info, None


def build(members: list[Member]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def header(instance: Populated) -> bytes:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    return BackupHeader(
        format=FORMAT,
        app_version="0.1.0",
        alembic_revision=str(head),
        created="2025-01-01T00:00:00Z",
        config_path=str(instance.config),
        data_dir=str(instance.settings.data_dir),
    ).to_json()


def manifest_for(instance: Populated, members: list[tuple[str, bytes]]) -> bytes:
    files = [
        {"path": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        for name, data in members
    ]
    return json.dumps({**json.loads(header(instance)), "files": files}).encode()


def restore_crafted(
    instance: Populated,
    key: BackupKeyFiles,
    work: Path,
    members: list[Member],
) -> tuple[int, str]:
    """Encrypt a tar of: the header, the instance's configuration, then members; restore it."""
    lead = [regular(HEADER, header(instance)), regular(CONFIG, instance.config.read_bytes())]
    archive = encrypt_to(key, build(lead + members), work / "crafted.gpg")
    result = run(*restore_args(archive, key, work / "new"))
    return result.exit_code, str(json_out(result).get("error"))


HOSTILE = {
    "symlink": special(STORED, tarfile.SYMTYPE, "/etc/passwd"),
    "hard link": special(STORED, tarfile.LNKTYPE, CONFIG),
    "device": special("gnupg/null", tarfile.CHRTYPE),
    "fifo": special("gnupg/pipe", tarfile.FIFOTYPE),
    "directory": special(f"store/{FSID}", tarfile.DIRTYPE),
    "absolute path": regular("/tmp/seethesigns-evil", b"owned"),
    "dot-dot": regular("../../seethesigns-evil", b"owned"),
    "dot-dot inside": regular(f"store/{FSID}/../../../seethesigns-evil", b"owned"),
    "unknown name": regular("evil.sh", b"#!/bin/sh\n"),
    "hidden keyring file": regular("gnupg/.#lk0x", b"x"),
}


@pytest.mark.sqlite_only  # a crafted archive of an SQLite instance
@pytest.mark.parametrize("member", HOSTILE.values(), ids=HOSTILE.keys())
def test_unsafe_members_are_refused_and_nothing_is_written(
    populated: Populated,
    backup_key: BackupKeyFiles,
    work: Path,
    member: Member,
) -> None:
    members = [regular(DATABASE, b"db"), member]
    code, error = restore_crafted(populated, backup_key, work, members)
    assert code == EXIT_DAMAGED
    assert "is unsafe" in error
    assert leftovers(work / "new") == []
    assert not Path("/tmp/seethesigns-evil").exists()
    assert not (work.parent / "seethesigns-evil").exists()


@pytest.mark.sqlite_only  # a crafted archive of an SQLite instance
def test_the_crafted_archive_is_restorable_without_the_hostile_member(
    populated: Populated, backup_key: BackupKeyFiles, work: Path
) -> None:
    # The same crafting, all members safe and a true manifest: it restores, so the refusals
    # above are the members' doing.
    database = (populated.settings.data_dir / "seethesigns.db").read_bytes()
    safe = [(DATABASE, database), (STORED, b"ciphertext")]
    listed = [(HEADER, header(populated)), (CONFIG, populated.config.read_bytes()), *safe]
    members = [regular(name, data) for name, data in safe]
    members.append(regular(MANIFEST, manifest_for(populated, listed)))
    code, error = restore_crafted(populated, backup_key, work, members)
    assert code == 0, error
    assert (work / "new" / "data" / "store" / FSID / "1-gentle_otter-msg.gpg").read_bytes() == (
        b"ciphertext"
    )


@pytest.mark.sqlite_only  # a crafted archive of an SQLite instance
@pytest.mark.parametrize("problem", ["wrong sum", "unlisted file", "no manifest", "after it"])
def test_an_archive_that_does_not_match_its_manifest_is_refused(
    populated: Populated, backup_key: BackupKeyFiles, work: Path, problem: str
) -> None:
    safe = [(DATABASE, b"db"), (STORED, b"ciphertext")]
    listed = [(HEADER, header(populated)), (CONFIG, populated.config.read_bytes()), *safe]
    if problem == "wrong sum":
        listed[-1] = (STORED, b"other ciphertext")
    if problem == "unlisted file":
        listed.pop()
    members = [regular(name, data) for name, data in safe]
    if problem != "no manifest":
        members.append(regular(MANIFEST, manifest_for(populated, listed)))
    if problem == "after it":
        members.append(regular(f"store/{FSID}/2-gentle_otter-msg.gpg", b"late"))
    code, error = restore_crafted(populated, backup_key, work, members)
    assert code == EXIT_DAMAGED
    assert error
    assert leftovers(work / "new") == []


@pytest.mark.sqlite_only  # a crafted archive of an SQLite instance
@pytest.mark.parametrize("found", [[PG_DUMP], [DATABASE, PG_DUMP]], ids=["other", "both"])
def test_a_database_of_another_kind_than_the_header_says_is_refused(
    populated: Populated, backup_key: BackupKeyFiles, work: Path, found: list[str]
) -> None:
    # A dump is never handed to the other engine, even with a true manifest.
    safe = [(name, b"db") for name in found]
    listed = [(HEADER, header(populated)), (CONFIG, populated.config.read_bytes()), *safe]
    members = [regular(name, data) for name, data in safe]
    members.append(regular(MANIFEST, manifest_for(populated, listed)))
    code, error = restore_crafted(populated, backup_key, work, members)
    assert code == EXIT_DAMAGED
    assert "no database" in error or "another kind" in error
    assert leftovers(work / "new") == []


@pytest.mark.sqlite_only  # a crafted archive of an SQLite instance
def test_an_archive_must_start_with_its_header_and_configuration(
    populated: Populated, backup_key: BackupKeyFiles, work: Path
) -> None:
    archive = encrypt_to(backup_key, build([regular(DATABASE, b"db")]), work / "crafted.gpg")
    result = run(*restore_args(archive, backup_key, work / "new"))
    assert result.exit_code == EXIT_DAMAGED
    assert "does not start with a backup header" in result.output
    assert leftovers(work / "new") == []


@pytest.mark.parametrize(
    ("name", "allowed"),
    [
        (HEADER, True),
        (DATABASE, True),
        ("gnupg/pubring.kbx", True),
        ("onion/staff_clients.json", True),
        (STORED, True),
        (f"store/{FSID}/1-gentle_otter-doc.gz.gpg", True),
        ("store/lower-case-id/1-a-msg.gpg", False),
        (f"store/{FSID}/.partial-0123", False),
        (f"store/{FSID}/sub/1-a-msg.gpg", False),
        ("gnupg/private-keys-v1.d/ABC.key", False),
        ("gnupg/", False),
        ("./config.toml", False),
        ("onion/..", False),
    ],
)
def test_member_names(name: str, allowed: bool) -> None:
    assert is_member_name(name) is allowed
