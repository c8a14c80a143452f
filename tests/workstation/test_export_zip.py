"""Hostile zips: traversal and stray names, links, bombs and damage, each built with zipfile.

No file is ever created from a zip entry's name; each bad entry is reported by its name and
the good items beside it still open.
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest

from tests.workstation.conftest import (
    ServerSide,
    WorkstationKey,
    all_files,
    assert_good_items_opened,
    good_entries,
    open_export,
    reported,
    write_zip,
)


def test_a_zip_entry_bomb_is_refused_by_name(
    workstation_key: WorkstationKey,
    server_side: ServerSide,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    export = write_zip(workdir / "export.zip", good_entries(server_side))
    name = "bomb_otter/5-bomb_otter-msg.gpg"
    with zipfile.ZipFile(export, "a") as archive:
        archive.writestr(name, bytes(40 * 1024 * 1024), compress_type=zipfile.ZIP_DEFLATED)

    assert open_export(workstation_key, export, workdir / "out") == 1

    assert "its zip entry expands past" in reported(capsys, name)
    assert_good_items_opened(workdir / "out")


@pytest.mark.parametrize(
    "entry",
    [
        "../../escaped.gpg",
        "/tmp/absolute-1-x-msg.gpg",
        "good_otter/../../1-good_otter-msg.gpg",
        "sly_otter/1-other_otter-msg.gpg",
        "sly_otter/nested/1-sly_otter-msg.gpg",
        "Sly_Otter/1-Sly_Otter-msg.gpg",
    ],
)
def test_traversal_and_stray_names_in_the_zip_are_skipped(
    workstation_key: WorkstationKey,
    server_side: ServerSide,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    entry: str,
) -> None:
    export = write_zip(workdir / "export.zip", good_entries(server_side))
    with zipfile.ZipFile(export, "a") as archive:
        # ZipInfo keeps the name as given (writestr would not strip "../" either).
        archive.writestr(zipfile.ZipInfo(entry), server_side.message("escaped"))

    assert open_export(workstation_key, export, workdir / "out") == 1

    assert "not a See the Signs item name" in reported(capsys, entry)
    assert all_files(workdir / "out") == {
        "index.html",
        "good_otter",
        "good_otter/index.html",
        "good_otter/1-message.txt",
        "good_otter/documents",
        "good_otter/documents/fine.pdf",
    }
    assert not (workdir / "escaped.gpg").exists()


def test_a_symlink_entry_is_never_followed(
    workstation_key: WorkstationKey,
    server_side: ServerSide,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    export = write_zip(workdir / "export.zip", good_entries(server_side))
    name = "sly_otter/1-sly_otter-msg.gpg"
    link = zipfile.ZipInfo(name)
    link.create_system = 3  # Unix, so the mode in the high bits counts
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(export, "a") as archive:
        archive.writestr(link, "/etc/passwd")

    assert open_export(workstation_key, export, workdir / "out") == 1

    assert "symbolic link" in reported(capsys, name)
    links = [path for path in (workdir / "out").rglob("*") if path.is_symlink()]
    assert links == []
    assert_good_items_opened(workdir / "out")


def test_a_corrupt_zip_entry_is_reported_and_the_rest_open(
    workstation_key: WorkstationKey,
    server_side: ServerSide,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    name = "bad_otter/1-bad_otter-msg.gpg"
    ciphertext = server_side.message("this one is damaged in transit")
    export = write_zip(workdir / "export.zip", {name: ciphertext, **good_entries(server_side)})
    data = bytearray(export.read_bytes())
    start = data.index(ciphertext)
    data[start + 20] ^= 0xFF  # the CRC in the zip no longer matches
    export.write_bytes(bytes(data))

    assert open_export(workstation_key, export, workdir / "out") == 1

    assert "damaged in the zip" in reported(capsys, name)
    assert not (workdir / "out/bad_otter/1-message.txt").exists()
    assert_good_items_opened(workdir / "out")


def test_a_file_that_is_not_a_zip_is_refused_clearly(
    workstation_key: WorkstationKey, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = workdir / "export.zip"
    export.write_bytes(os.urandom(10_000))

    assert open_export(workstation_key, export, workdir / "out") == 1

    assert "is not a readable zip" in capsys.readouterr().err
    assert not (workdir / "out").exists()
