"""seethesigns-workstation: make, back up and restore the submission key; open exports offline."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from workstation.export_zip import CorruptExport, open_export
from workstation.index_pages import write_index
from workstation.keyring import (
    KeyringError,
    group_fingerprint,
    open_keyring,
    prepare_homedir,
)
from workstation.metadata import MetadataCleaner, MetadataToolMissing
from workstation.passphrases import PassphraseError, Passphrases
from workstation.reader import WORK, ExportReader, OutputFolderError, prepare_output
from workstation.settings import SettingsError, WorkstationSettings, load_settings
from workstation.share import ShareOptions, share
from workstation.share_items import ShareError, select_items
from workstation.summary import format_summary
from workstation.surroundings import Surroundings
from workstation.team_keys import TeamKeyError

Command = Callable[[argparse.Namespace, WorkstationSettings], int]
ALGORITHMS = {"1": "RSA", "22": "ed25519"}
FAILURES = (
    SettingsError,
    KeyringError,
    PassphraseError,
    CorruptExport,
    OutputFolderError,
    MetadataToolMissing,
    ShareError,
    TeamKeyError,
    OSError,
)


def _passphrases(args: argparse.Namespace, settings: WorkstationSettings) -> Passphrases:
    return Passphrases(args.passphrase_fd, settings.keys.min_passphrase_chars)


def _print_fingerprints(fingerprints: list[str]) -> None:
    print("Fingerprint:" if len(fingerprints) == 1 else "Fingerprints:")
    for fingerprint in fingerprints:
        print(f"    {group_fingerprint(fingerprint)}")


def keygen(args: argparse.Namespace, settings: WorkstationSettings) -> int:
    """Make the submission keypair and export its public half."""
    export: Path = args.export
    if export.exists():
        raise KeyringError(f"{export} already exists; refusing to overwrite it")
    passphrase = _passphrases(args, settings).new("Passphrase for the new submission key")
    prepare_homedir(args.homedir, settings.keys)
    with open_keyring(args.homedir, settings.keys) as keyring:
        fingerprint = keyring.generate(passphrase, rsa=args.rsa, expire=args.expire)
        armored = keyring.public_key(fingerprint)
        details = keyring.key_details(fingerprint)
    with export.open("x", encoding="ascii") as handle:
        handle.write(armored)
    algorithm = ALGORITHMS.get(str(details.get("algo")), f"algorithm {details.get('algo')}")
    expiry = "never expires" if not details.get("expires") else f"expires (gpg: {args.expire})"
    print(f"Made the submission key in {args.homedir}: {algorithm}, {expiry}.")
    print(f"Public key written to {export}: carry this file, and only this file, to the server.")
    print()
    _print_fingerprints([fingerprint])
    print()
    print("Read it aloud, group by group, with the person running `seethesigns init` on the")
    print("server: it prints the same groups. Stop if a single character differs.")
    print(f"Next: seethesigns-workstation backup --homedir {args.homedir} BACKUP-FILE")
    return 0


def fingerprint(args: argparse.Namespace, settings: WorkstationSettings) -> int:
    """Print the fingerprints of the secret keys in the keyring."""
    with open_keyring(args.homedir, settings.keys) as keyring:
        found = keyring.secret_fingerprints()
    if not found:
        raise KeyringError(f"{args.homedir} holds no secret key")
    _print_fingerprints(found)
    return 0


def backup(args: argparse.Namespace, settings: WorkstationSettings) -> int:
    """Write a passphrase-encrypted backup of the secret key."""
    asked = _passphrases(args, settings)
    with open_keyring(args.homedir, settings.keys) as keyring:
        key_passphrase = asked.existing("Passphrase of the submission key")
        backup_passphrase = asked.new("New passphrase for the backup")
        saved = keyring.backup(key_passphrase, backup_passphrase, args.backup)
    print(f"Backup written to {args.backup} and read back successfully.")
    _print_fingerprints(saved)
    print("Keep it on a second USB stick in a safe; keep the backup passphrase apart from it.")
    return 0


def restore(args: argparse.Namespace, settings: WorkstationSettings) -> int:
    """Bring a backup back into a keyring (a new or existing GnuPG home)."""
    homedir: Path = args.homedir
    if not homedir.exists() or not any(homedir.iterdir()):
        prepare_homedir(homedir, settings.keys)
    with open_keyring(homedir, settings.keys) as keyring:
        passphrase = _passphrases(args, settings).existing("Passphrase of the backup")
        restored = keyring.restore(args.backup, passphrase)
    print(f"Restored into {homedir}.")
    _print_fingerprints(restored)
    print("It is still protected by the submission key's own passphrase.")
    return 0


def open_command(args: argparse.Namespace, settings: WorkstationSettings) -> int:
    """Decrypt a bulk export into a folder with an index; report every bad item."""
    out_dir: Path = args.out.absolute()
    for warning in Surroundings().warnings(out_dir):
        print(f"\n!!! WARNING: {warning}\n", file=sys.stderr)
    with (
        open_export(args.export, settings.limits) as archive,
        open_keyring(args.homedir, settings.keys) as keyring,
    ):
        if archive.recovered is not None:
            print(
                f"\n!!! WARNING: {args.export} has no zip index: the download was probably cut "
                "short. Reading the entries before the cut one by one; take the export again "
                "to get the rest.\n",
                file=sys.stderr,
            )
        cleaner = MetadataCleaner.find(out_dir / WORK) if args.clean_metadata else None
        passphrase = _passphrases(args, settings).existing("Passphrase of the submission key")
        keyring.check_passphrase(passphrase)
        prepare_output(out_dir)
        reader = ExportReader(keyring, passphrase, settings.limits, cleaner)
        report = reader.read(archive, out_dir)
    index = write_index(report)
    print(format_summary(report, index))
    return 1 if report.problems() else 0


def share_command(args: argparse.Namespace, settings: WorkstationSettings) -> int:
    """Re-encrypt chosen items of an opened folder to another team's keys, as a package."""
    for warning in Surroundings().warnings(args.opened.absolute()):
        print(f"\n!!! WARNING: {warning}\n", file=sys.stderr)
    team = args.team.strip()
    if not team or not team.isprintable():
        raise ShareError("give the team's name as the admin's Teams page shows it")
    selection = select_items(args.opened, args.item)
    options = ShareOptions(
        team=team,
        key_file=args.keys,
        out=args.out.absolute(),
        confirmed=args.yes,
        edit=not args.no_edit,
        keep_metadata=args.keep_metadata,
    )
    print(share(selection, options))
    return 0


def _share_arguments(shared: argparse.ArgumentParser) -> None:
    shared.add_argument("opened", type=Path, metavar="OPENED-FOLDER", help="a folder from `open`")
    shared.add_argument(
        "--keys", type=Path, required=True, help="the team's public keys, from the Teams page"
    )
    shared.add_argument("--team", required=True, help="the team's name, as on the Teams page")
    shared.add_argument(
        "--item",
        type=Path,
        action="append",
        required=True,
        metavar="PATH",
        help="a message (N-message.txt) or a document to share; repeat for more",
    )
    shared.add_argument("--out", type=Path, required=True, help="the package to write (.zip)")
    shared.add_argument("--yes", action="store_true", help="do not ask to confirm the keys")
    shared.add_argument(
        "--no-edit", action="store_true", help="share messages as they are, without an editor"
    )
    shared.add_argument(
        "--keep-metadata",
        action="store_true",
        help="share a document even if mat2 cannot remove its metadata",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seethesigns-workstation", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--config", type=Path, help="workstation settings (TOML); else defaults")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, run: Command, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(run=run)
        sub.add_argument("--homedir", type=Path, required=True, help="the offline GnuPG home")
        sub.add_argument(
            "--passphrase-fd",
            type=int,
            metavar="N",
            help="read each passphrase as one line from file descriptor N (like gpg)",
        )
        return sub

    made = command("keygen", keygen, "Make the submission keypair in a new GnuPG home.")
    made.add_argument("--export", type=Path, required=True, help="where to write the public key")
    made.add_argument("--rsa", action="store_true", help="RSA-4096 instead of ed25519/cv25519")
    made.add_argument("--expire", default="0", help="0 (never, the default), 2y, or 2030-01-31")
    command("fingerprint", fingerprint, "Print the fingerprint of the secret key(s).")
    saved = command("backup", backup, "Write an encrypted backup of the secret key.")
    saved.add_argument("backup", type=Path, metavar="BACKUP-FILE")
    back = command("restore", restore, "Import the secret key from a backup.")
    back.add_argument("backup", type=Path, metavar="BACKUP-FILE")
    opened = command("open", open_command, "Decrypt a bulk export into a folder.")
    opened.add_argument("export", type=Path, metavar="EXPORT.zip")
    opened.add_argument("--out", type=Path, required=True, help="a new or empty folder")
    opened.add_argument(
        "--clean-metadata",
        action="store_true",
        help="strip metadata with mat2 where supported, keeping each original alongside",
    )
    _share_arguments(
        command("share", share_command, "Re-encrypt chosen items to another team's keys.")
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; failures print one line and exit 1, never a traceback."""
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
        code: int = args.run(args, settings)
    except FAILURES as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # Each command removes its own work files on the way out; only the traceback goes.
        print("\nerror: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
