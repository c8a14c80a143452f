"""What can go wrong with a backup or a restore, each with the exit code scripts can test."""

from __future__ import annotations

# Exit codes of `seethesigns backup` and `seethesigns restore` (2 is click's usage error).
EXIT_FAILED = 1
EXIT_KEY = 3
EXIT_DISK_FULL = 4
EXIT_DAMAGED = 5
EXIT_TARGET_IN_USE = 6
EXIT_UNSUPPORTED = 7


class BackupError(Exception):
    """A backup, restore or check failed; nothing half-done was left behind."""

    exit_code = EXIT_FAILED


class BackupKeyProblem(BackupError):
    """The backup key is unusable: a public key the server must not hold or cannot use, or a
    secret key that is not the archive's, or its passphrase is wrong."""

    exit_code = EXIT_KEY


class PassphraseNeeded(BackupKeyProblem):
    """The backup secret key is protected and no passphrase was given."""


class DiskFull(BackupError):
    """The disk filled up while writing; what was written has been removed."""

    exit_code = EXIT_DISK_FULL


class ArchiveDamaged(BackupError):
    """The archive is not an intact backup: tampered with, truncated, or not ours."""

    exit_code = EXIT_DAMAGED


class Tampered(ArchiveDamaged):
    """GnuPG's integrity check failed: the archive was altered or damaged after it was made."""


class UnsafeMember(ArchiveDamaged):
    """The archive holds a member a backup never holds: a link, a device, a path outside."""


class TargetInUse(BackupError):
    """Restoring (or writing the archive) would overwrite something that already exists."""

    exit_code = EXIT_TARGET_IN_USE


class Unsupported(BackupError):
    """This instance or archive is one this version cannot handle (a database other than
    SQLite or PostgreSQL, a dump for the other engine, a newer archive format or schema)."""

    exit_code = EXIT_UNSUPPORTED
