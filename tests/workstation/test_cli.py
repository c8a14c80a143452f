"""The key ceremony with real GnuPG: keygen, fingerprint, backup and restore.

Passphrases go in through --passphrase-fd, as a script would give them, and once through a
real pseudo-terminal, as a person types them. The S2K cost comes from the test settings file.
"""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.workstation.conftest import (
    PASSPHRASE,
    ServerSide,
    WorkstationKey,
    open_export,
    run_cli,
    stop_agent,
    write_zip,
)

SCRIPT = Path(sys.executable).parent / "seethesigns-workstation"
SEETHESIGNS = Path(sys.executable).parent / "seethesigns"
BACKUP_PASSPHRASE = "another long backup passphrase"
GROUPED = re.compile(r"^    ((?:[0-9A-F]{4} ){9}[0-9A-F]{4})$", re.MULTILINE)


def keygen(
    config: Path, homedir: Path, export: Path, *extra: str, passphrase: str = PASSPHRASE
) -> int:
    """`keygen` with the test settings, the passphrase given on a descriptor."""
    return run_cli(
        "--config",
        str(config),
        "keygen",
        "--homedir",
        str(homedir),
        "--export",
        str(export),
        *extra,
        passphrases=(passphrase,),
    )


def gpg_listing(homedir: Path, *what: str) -> list[list[str]]:
    """gpg's colon listing of a home's keys, as fields."""
    listed = subprocess.run(
        ["gpg", "--homedir", str(homedir), "--with-colons", "--fixed-list-mode", *what],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line.split(":") for line in listed.splitlines()]


def test_keygen_makes_an_ecc_key_whose_fingerprint_init_prints_the_same(
    workstation_key: WorkstationKey, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    homedir, export = workdir / "g", workdir / "submission.asc"
    assert keygen(workstation_key.config, homedir, export) == 0
    shown = GROUPED.findall(capsys.readouterr().out)

    listing = gpg_listing(homedir, "--list-secret-keys")
    fingerprint = next(fields[9] for fields in listing if fields[0] == "fpr")
    assert shown == [" ".join(re.findall("....", fingerprint))]
    primary = next(fields for fields in listing if fields[0] == "sec")
    subkey = next(fields for fields in listing if fields[0] == "ssb")
    assert (primary[3], primary[16], primary[6]) == ("22", "ed25519", "")
    assert (subkey[3], subkey[16], subkey[11]) == ("18", "cv25519", "e")
    armored = export.read_text()
    assert "BEGIN PGP PUBLIC KEY BLOCK" in armored and "PRIVATE" not in armored
    assert "s2k-count 65536" in (homedir / "gpg-agent.conf").read_text()
    stop_agent(homedir)

    # The server side of the ceremony: `seethesigns init` prints the same groups.
    made = subprocess.run(
        [
            str(SEETHESIGNS),
            "init",
            "--data-dir",
            str(workdir / "server"),
            "--submission-key",
            str(export),
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "SEETHESIGNS_CONFIG": ""},
    )
    server_line = next(line for line in made.stdout.splitlines() if "fingerprint" in line)
    assert server_line.endswith(shown[0])
    stop_agent(workdir / "server/gnupg")


def test_keygen_rsa_with_an_expiry(
    workstation_key: WorkstationKey, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    homedir = workdir / "g"
    code = keygen(workstation_key.config, homedir, workdir / "k.asc", "--rsa", "--expire", "2y")
    assert code == 0
    assert "RSA" in capsys.readouterr().out
    listing = gpg_listing(homedir, "--list-secret-keys")
    keys = [fields for fields in listing if fields[0] in ("sec", "ssb")]
    assert [(fields[2], fields[3]) for fields in keys] == [("4096", "1"), ("4096", "1")]
    years = (int(keys[0][6]) - time.time()) / (365.25 * 86400)
    assert 1.9 < years < 2.1
    stop_agent(homedir)


def test_the_secret_key_is_protected_by_the_passphrase(
    workstation_key: WorkstationKey, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Exporting the secret key without the passphrase must fail (no agent holds it cached).
    stop_agent(workstation_key.homedir)
    exported = subprocess.run(
        [
            "gpg",
            "--homedir",
            str(workstation_key.homedir),
            "--batch",
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            "wrong wrong wrong",
            "--export-secret-keys",
        ],
        capture_output=True,
    )
    assert b"PRIVATE KEY" not in exported.stdout and exported.stdout == b""
    stop_agent(workstation_key.homedir)
    code = run_cli(
        "--config",
        str(workstation_key.config),
        "backup",
        "--homedir",
        str(workstation_key.homedir),
        str(workdir / "backup.asc"),
        passphrases=("wrong wrong wrong", BACKUP_PASSPHRASE),
    )
    assert code == 1
    assert "does not unlock" in capsys.readouterr().err
    assert not (workdir / "backup.asc").exists()


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("short", "at least 12 characters"),
        ("homedir_in_use", "is not empty"),
        ("export_exists", "already exists"),
        ("bad_expiry", "cannot understand the expiry"),
    ],
)
def test_keygen_refuses(
    workstation_key: WorkstationKey,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    setup: str,
    message: str,
) -> None:
    homedir, export = workdir / "g", workdir / "k.asc"
    passphrase, extra = PASSPHRASE, []
    if setup == "short":
        passphrase = "too short"
    elif setup == "homedir_in_use":
        homedir.mkdir()
        (homedir / "pubring.kbx").write_bytes(b"")
    elif setup == "export_exists":
        export.write_text("keep me")
    else:
        extra = ["--expire", "next tuesday"]

    assert keygen(workstation_key.config, homedir, export, *extra, passphrase=passphrase) == 1

    assert message in capsys.readouterr().err
    if setup == "export_exists":
        assert export.read_text() == "keep me"
    else:
        assert not export.exists()
    stop_agent(homedir)


def test_fingerprint_prints_the_key_in_groups(
    workstation_key: WorkstationKey, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_cli(
        "--config",
        str(workstation_key.config),
        "fingerprint",
        "--homedir",
        str(workstation_key.homedir),
    )
    assert code == 0
    assert GROUPED.findall(capsys.readouterr().out) == [
        " ".join(re.findall("....", workstation_key.fingerprint))
    ]


def test_backup_and_restore_round_trip_then_decrypt(
    workstation_key: WorkstationKey,
    server_side: ServerSide,
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    backup = workdir / "backup.asc"
    config = str(workstation_key.config)
    home = str(workstation_key.homedir)
    assert run_cli("--config", config, "backup", "--homedir", home, str(backup),
                   passphrases=(PASSPHRASE, BACKUP_PASSPHRASE)) == 0  # fmt: skip
    assert "read back successfully" in capsys.readouterr().out

    # Symmetric only, at the configured cost, and no secret key readable without it.
    text = backup.read_text()
    assert "BEGIN PGP MESSAGE" in text and "PRIVATE KEY" not in text
    assert backup.stat().st_mode & 0o777 == 0o600
    packets = subprocess.run(
        ["gpg", "--homedir", str(workdir), "--batch", "--list-packets", str(backup)],
        capture_output=True,
        text=True,
    ).stdout
    assert re.search(r":symkey enc packet: version 4, cipher 9,.*s2k 3, hash 10", packets)
    assert "count 65536" in packets
    assert ":pubkey enc packet:" not in packets

    # A wrong backup passphrase restores nothing.
    restored = workdir / "r"
    assert run_cli("--config", config, "restore", "--homedir", str(restored), str(backup),
                   passphrases=("not the backup passphrase",)) == 1  # fmt: skip
    assert "does not open the backup" in capsys.readouterr().err
    assert not [fields for fields in gpg_listing(restored, "--list-secret-keys")]
    stop_agent(restored)

    assert run_cli("--config", config, "restore", "--homedir", str(restored), str(backup),
                   passphrases=(BACKUP_PASSPHRASE,)) == 0  # fmt: skip
    grouped = " ".join(re.findall("....", workstation_key.fingerprint))
    assert GROUPED.findall(capsys.readouterr().out) == [grouped]

    # The restored key, still under its own passphrase, opens what the server encrypted.
    export = write_zip(
        workdir / "export.zip", {"kind_otter/1-kind_otter-msg.gpg": server_side.message("hi")}
    )
    restored_key = WorkstationKey(restored, workstation_key.fingerprint, "", workstation_key.config)
    assert open_export(restored_key, export, workdir / "out") == 0
    assert (workdir / "out/kind_otter/1-message.txt").read_text() == "hi"
    stop_agent(restored)


def test_backup_refuses_to_overwrite(
    workstation_key: WorkstationKey, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backup = workdir / "backup.asc"
    backup.write_text("an older backup")
    code = run_cli(
        "--config",
        str(workstation_key.config),
        "backup",
        "--homedir",
        str(workstation_key.homedir),
        str(backup),
        passphrases=(PASSPHRASE, BACKUP_PASSPHRASE),
    )
    assert code == 1
    assert "refusing to overwrite" in capsys.readouterr().err
    assert backup.read_text() == "an older backup"


def converse(argv: list[str], answers: list[str], timeout: float = 60) -> tuple[int, str]:
    """Run the installed script on a real pseudo-terminal, answering each prompt in turn.

    An answer goes only to a prompt printed since the last answer: getpass flushes the
    terminal's input before each prompt, so an early answer would be lost.
    """
    pid, fd = pty.fork()
    if pid == 0:  # the child: the terminal is its controlling tty, as for a person
        os.execv(argv[0], argv)  # noqa: S606 - a fixed argument list, as subprocess would
    transcript, pending, answered_at = b"", list(answers), 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the child has gone and closed the terminal
            break
        if not chunk:
            break
        transcript += chunk
        if pending and transcript[answered_at:].rstrip().endswith(b":"):
            os.write(fd, pending.pop(0).encode() + b"\n")
            answered_at = len(transcript)
    else:
        os.kill(pid, signal.SIGKILL)  # never leave a child waiting at a prompt
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), transcript.decode("utf-8", "replace")


def test_keygen_asks_twice_at_a_terminal_and_never_echoes(
    workstation_key: WorkstationKey, workdir: Path
) -> None:
    base = [str(SCRIPT), "--config", str(workstation_key.config), "keygen"]
    differ = [*base, "--homedir", str(workdir / "a"), "--export", str(workdir / "a.asc")]
    code, transcript = converse(differ, [PASSPHRASE, PASSPHRASE + " typo"])
    assert code == 1
    assert "the two passphrases are different" in transcript
    assert PASSPHRASE not in transcript
    assert not (workdir / "a.asc").exists()

    same = [*base, "--homedir", str(workdir / "b"), "--export", str(workdir / "b.asc")]
    code, transcript = converse(same, [PASSPHRASE, PASSPHRASE])
    assert code == 0, transcript
    assert "Type it again:" in transcript and PASSPHRASE not in transcript
    assert GROUPED.search(transcript.replace("\r\n", "\n"))
    stop_agent(workdir / "b")
