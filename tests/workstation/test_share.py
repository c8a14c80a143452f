"""`share` with real GnuPG: a real export opened, edited, cleaned, and re-encrypted to a team.

The team's keypairs live in their own GnuPG homes; the package is decrypted there, with each
team key alone, and checked by the server's own read_package (the round trip of the format).
"""

from __future__ import annotations

import gzip
import os
import shutil
import struct
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import gnupg
import pytest

from seethesigns.teams.share_package import read_package
from tests.conftest import short_tmpdir
from tests.seethesigns.teams.conftest import Teams, teams  # noqa: F401 - the fixture
from tests.workstation.conftest import (
    PASSPHRASE,
    ServerSide,
    WorkstationKey,
    open_export,
    run_cli,
    write_zip,
)

SCRIPT = Path(sys.executable).parent / "seethesigns-workstation"
TEAM = "Police liaison"
MESSAGE = "My name is Jamie Example and they keep me at 12 Mill Road.\n"
EDITED = "My name is [name removed] and they keep me at 12 Mill Road.\n"
# 51° 22' 43.21" N, as GPSLatitude rationals: the position a phone writes into a photo.
LATITUDE = struct.pack(">IIIIII", 51, 1, 22, 1, 4321, 100)


def segment(marker: int, data: bytes) -> bytes:
    """One JPEG marker segment."""
    return struct.pack(">BBH", 0xFF, marker, len(data) + 2) + data


def exif_with_gps() -> bytes:
    """An EXIF APP1 body: IFD0 pointing to a GPS IFD with a latitude."""
    ifd0 = struct.pack(">HHHII", 1, 0x8825, 4, 1, 26) + struct.pack(">I", 0)
    gps = (
        struct.pack(">H", 2)
        + struct.pack(">HHI", 1, 2, 2)
        + b"N\x00\x00\x00"
        + struct.pack(">HHII", 2, 5, 3, 26 + 2 + 2 * 12 + 4)
        + struct.pack(">I", 0)
    )
    return b"Exif\x00\x00MM\x00\x2a" + struct.pack(">I", 8) + ifd0 + gps + LATITUDE


def jpeg_with_gps() -> bytes:
    """A real 8x8 grey baseline JPEG (every DCT coefficient zero) carrying EXIF GPS."""
    one_code = bytes([1] + [0] * 15) + b"\x00"  # a Huffman table of one symbol, 0
    return (
        b"\xff\xd8"
        + segment(0xE1, exif_with_gps())
        + segment(0xDB, b"\x00" + bytes([1] * 64))
        + segment(0xC0, struct.pack(">BHHB", 8, 8, 8, 1) + b"\x01\x11\x00")
        + segment(0xC4, b"\x00" + one_code)
        + segment(0xC4, b"\x10" + one_code)
        + segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
        + b"\x3f\xff\xd9"
    )


@pytest.fixture(scope="module")
def opened(workstation_key: WorkstationKey, server_side: ServerSide) -> Iterator[Path]:
    """A real export, opened by `open`: a message, a photo and a reply; another conversation."""
    folder = short_tmpdir("stsh")
    export = write_zip(
        folder / "export.zip",
        {
            "gentle_otter/1-gentle_otter-msg.gpg": server_side.message(MESSAGE),
            "gentle_otter/2-gentle_otter-doc.gz.gpg": server_side.document(
                jpeg_with_gps(), "photo.jpg"
            ),
            "gentle_otter/3-gentle_otter-reply.gpg": server_side.message("We are here."),
            "brave_heron/1-brave_heron-msg.gpg": server_side.message("Another child."),
        },
    )
    assert open_export(workstation_key, export, folder / "out") == 0
    yield folder / "out"
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def team_file(teams: Teams, workdir: Path) -> Path:  # noqa: F811 - the imported fixture
    """Police liaison's two public keys in one armored file, as the Teams page offers it."""
    fingerprints = [key.fingerprint for key in teams.police]
    armored = subprocess.run(
        ["gpg", "--homedir", str(teams.sender), "--armor", "--export", *fingerprints],
        capture_output=True,
        check=True,
    ).stdout
    path = workdir / "police.asc"
    path.write_bytes(armored)
    return path


@pytest.fixture
def editor(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An EDITOR that takes the name out and records the mode and place of what it edited."""
    script = workdir / "editor.sh"
    script.write_text(
        "#!/bin/sh\n"
        f'stat -c "%a %n" "$1" >> {workdir}/edited\n'
        "sed -i 's/Jamie Example/[name removed]/' \"$1\"\n"
    )
    script.chmod(0o700)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", str(script))
    return workdir / "edited"


def share(opened: Path, keys: Path, out: Path, *items: str, extra: tuple[str, ...] = ()) -> int:
    """`seethesigns-workstation share` for Police liaison, confirmed with --yes."""
    arguments = [f"--item={opened / item}" for item in items]
    return run_cli(
        "share", str(opened), "--homedir", str(opened), "--keys", str(keys), "--team", TEAM,
        *arguments, "--out", str(out), "--yes", *extra,
    )  # fmt: skip


def members(package: Path) -> dict[str, bytes]:
    """Every member of a package, by name."""
    with zipfile.ZipFile(package) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_a_shared_message_is_edited_and_only_the_team_can_read_it(
    teams: Teams,  # noqa: F811 - the imported fixture
    workstation_key: WorkstationKey,
    opened: Path,
    team_file: Path,
    editor: Path,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = workdir / "package.zip"

    assert share(opened, team_file, out, "gentle_otter/1-message.txt") == 0

    ciphertext = members(out)["1-msg.gpg"]
    for key in teams.police:
        assert key.decrypt(ciphertext).decode() == EDITED
    assert not teams.front_door.opens(ciphertext)
    front = gnupg.GPG(gnupghome=str(workstation_key.homedir)).decrypt(
        ciphertext, passphrase=PASSPHRASE, extra_args=["--pinentry-mode", "loopback"]
    )
    assert not front.ok
    mode, edited = editor.read_text().split()
    assert mode == "600" and Path(edited).parent.parent == opened / ".work"
    assert not (opened / ".work").exists()
    assert (opened / "gentle_otter/1-message.txt").read_text() == MESSAGE
    printed = capsys.readouterr().out
    assert "addresses, postcodes" in printed and "Jamie Example" in printed
    assert "1 message, 0 documents from gentle_otter" in printed
    assert "under 'Share with another team'" in printed


def test_the_server_accepts_the_package_and_the_photo_loses_its_gps(
    teams: Teams,  # noqa: F811 - the imported fixture
    opened: Path,
    team_file: Path,
    editor: Path,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = workdir / "package.zip"
    items = ("gentle_otter/documents/photo.jpg", "gentle_otter/1-message.txt")
    assert LATITUDE in (opened / items[0]).read_bytes()

    assert share(opened, team_file, out, *items) == 0

    with out.open("rb") as handle:
        package = read_package(
            handle,
            designation="gentle otter",
            team=TEAM,
            recipients=teams.recipients(),
            max_item_bytes=1024 * 1024,
        )
        assert [(item.file, item.kind) for item in package.items] == [
            ("1-doc.gz.gpg", "document"),
            ("2-msg.gpg", "message"),
        ]
    found = members(out)
    compressed = teams.police[1].decrypt(found["1-doc.gz.gpg"])
    assert compressed[3] & 0x08 and b"photo.jpg\x00" in compressed[:40]
    photo = gzip.decompress(compressed)
    assert photo.startswith(b"\xff\xd8") and LATITUDE not in photo and b"Exif" not in photo
    assert teams.police[0].decrypt(found["2-msg.gpg"]).decode() == EDITED
    assert "Jamie" not in found["manifest.json"].decode()
    assert "photo" not in found["manifest.json"].decode()
    printed = capsys.readouterr()
    assert "metadata removed with mat2" in printed.out
    assert "VISIBLE in a photo" in printed.err


def test_a_message_emptied_in_the_editor_is_left_out(
    opened: Path,
    team_file: Path,
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    script = workdir / "empty.sh"
    script.write_text('#!/bin/sh\n: > "$1"\n')
    script.chmod(0o700)
    monkeypatch.setenv("VISUAL", str(script))
    out = workdir / "package.zip"
    items = ("gentle_otter/1-message.txt", "gentle_otter/documents/photo.jpg")

    assert share(opened, team_file, out, *items) == 0

    assert sorted(members(out)) == ["1-doc.gz.gpg", "manifest.json"]
    printed = capsys.readouterr().out
    assert "1-message.txt is empty after editing: it is left out" in printed
    assert "0 messages, 1 document from gentle_otter (1 left out" in printed


def test_no_edit_shares_the_text_as_it_is(
    teams: Teams,  # noqa: F811 - the imported fixture
    opened: Path,
    team_file: Path,
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("EDITOR", "false")  # would fail the run if it were started
    out = workdir / "package.zip"

    item = "gentle_otter/1-message.txt"
    assert share(opened, team_file, out, item, extra=("--no-edit",)) == 0

    assert teams.police[0].decrypt(members(out)["1-msg.gpg"]).decode() == MESSAGE
    assert "names and nicknames" in capsys.readouterr().out


def refused(capsys: pytest.CaptureFixture[str], out: Path) -> str:
    """The one error line of a refused share; nothing may have been written."""
    assert not out.exists() and not out.with_name(out.name + ".partial").exists()
    stderr = capsys.readouterr().err
    # Only the network warning (this test machine is online) may come before it.
    error = [line for line in stderr.splitlines() if line and not line.startswith("!!! WARNING")]
    assert len(error) == 1 and error[0].startswith("error: "), stderr
    return error[0]


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        (("gentle_otter/3-reply.txt",), "is a reply from staff; share only what the source sent"),
        (
            ("gentle_otter/1-message.txt", "brave_heron/1-message.txt"),
            "more than one conversation (brave_heron, gentle_otter)",
        ),
        (("gentle_otter/index.html",), "is not a message or a document written by `open`"),
        (("gentle_otter/9-message.txt",), "is not a file of the opened folder"),
        (("../police.asc",), "is outside the opened folder"),
    ],
    ids=["reply", "mixed", "index", "missing", "outside"],
)
def test_items_that_cannot_be_shared_are_refused(
    opened: Path,
    team_file: Path,
    workdir: Path,
    editor: Path,
    items: tuple[str, ...],
    expected: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The team file sits in workdir; "../police.asc" reaches it from the opened folder.
    shutil.copy(team_file, opened.parent / "police.asc")
    out = workdir / "package.zip"
    try:
        assert share(opened, team_file, out, *items) == 1
    finally:
        (opened.parent / "police.asc").unlink()
    assert expected in refused(capsys, out)
    assert not editor.exists()


def test_a_secret_key_file_is_refused(
    teams: Teams,  # noqa: F811 - the imported fixture
    opened: Path,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    secret = workdir / "secret.asc"
    home = str(teams.police[0].homedir)
    unlocked = ["--pinentry-mode", "loopback", "--passphrase", ""]
    export = ["gpg", "--homedir", home, "--batch", *unlocked, "--armor", "--export-secret-keys"]
    secret.write_bytes(subprocess.run(export, capture_output=True, check=True).stdout)
    out = workdir / "package.zip"

    assert share(opened, secret, out, "gentle_otter/1-message.txt") == 1

    assert "holds a SECRET key" in refused(capsys, out)


def test_an_existing_package_is_not_overwritten(
    opened: Path, team_file: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = workdir / "package.zip"
    out.write_bytes(b"earlier")

    assert share(opened, team_file, out, "gentle_otter/1-message.txt", extra=("--no-edit",)) == 1

    assert out.read_bytes() == b"earlier"
    error = capsys.readouterr().err
    assert "already exists; refusing to overwrite it" in error


def test_keys_not_confirmed_write_nothing(
    opened: Path, team_file: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from workstation.share import ShareOptions
    from workstation.share import share as make_package
    from workstation.share_items import ShareError, select_items

    out = workdir / "package.zip"
    selection = select_items(opened, [opened / "gentle_otter/1-message.txt"])
    asked: list[str] = []

    def answer(prompt: str) -> str:
        asked.append(prompt)
        return "no"

    with pytest.raises(ShareError, match="not confirmed"):
        make_package(selection, ShareOptions(TEAM, team_file, out), answer)

    assert asked == ["Compare these with the admin's Teams page. Type yes to encrypt to them: "]
    assert not out.exists() and not (opened / ".work").exists()
    assert capsys.readouterr().out.count("    ") >= 2  # both fingerprints shown, grouped


def test_an_editor_that_fails_stops_everything_and_leaves_no_copy(
    opened: Path,
    team_file: Path,
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("VISUAL", "false")
    out = workdir / "package.zip"

    assert share(opened, team_file, out, "gentle_otter/1-message.txt") == 1

    assert "the editor exited with status 1" in refused(capsys, out)
    assert not (opened / ".work").exists()


def test_ctrl_c_in_the_editor_removes_the_plaintext_copies(
    opened: Path, team_file: Path, workdir: Path
) -> None:
    script = workdir / "interrupt.sh"
    # The editor's parent is the command: Ctrl-C at the terminal reaches both.
    script.write_text(f'#!/bin/sh\ncp "$1" {workdir}/seen\nkill -INT $PPID\nsleep 1\n')
    script.chmod(0o700)
    out = workdir / "package.zip"
    item = str(opened / "gentle_otter/1-message.txt")
    keys = ["--keys", str(team_file), "--team", TEAM]
    command = [str(SCRIPT), "share", str(opened), "--homedir", str(opened), *keys]
    run = subprocess.run(
        [*command, "--item", item, "--out", str(out), "--yes"],
        env={**os.environ, "VISUAL": str(script)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 130, run.stderr
    assert (workdir / "seen").read_text() == MESSAGE
    assert "Traceback" not in run.stderr and "error: interrupted" in run.stderr
    assert not (opened / ".work").exists() and not out.exists()


def test_a_folder_not_written_by_open_is_refused(
    team_file: Path, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "gentle_otter").mkdir()
    (workdir / "gentle_otter/1-message.txt").write_text(MESSAGE)
    out = workdir / "package.zip"

    assert share(workdir, team_file, out, "gentle_otter/1-message.txt") == 1

    assert "is not a folder written by `open`" in refused(capsys, out)
