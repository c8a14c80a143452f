"""Where a restore puts each part, and the configuration rewritten to point there.

By default everything goes back where the backup says it was. `--data-dir` moves the data
elsewhere: the configuration's `[instance] data_dir` (and `[database] url`, when the database
lived inside the data directory) are rewritten line by line, leaving every comment and other
setting as it was; the paths relative to data_dir follow by themselves. `--database-url` points
the restored configuration at another database (a PostgreSQL database made for the restore).
A dump is never restored into the other engine: the configuration restored into must name a
database of the kind the backup holds.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from seethesigns.backups import postgresql
from seethesigns.backups.database import database_kind, sqlite_path
from seethesigns.backups.errors import ArchiveDamaged, BackupError, TargetInUse, Unsupported
from seethesigns.backups.manifest import ENGINE_NAMES, POSTGRESQL, SQLITE, BackupHeader
from seethesigns.settings import Settings, SettingsError, parse_settings

SECTION = re.compile(r"^\s*\[\s*([A-Za-z0-9_-]+)\s*\]\s*(#.*)?$")
ASSIGNMENT = re.compile(r"^(\s*)([A-Za-z0-9_-]+)\s*=")


@dataclass(frozen=True)
class Targets:
    """Where each part of a restored instance goes."""

    config: Path
    config_text: bytes
    data_dir: Path
    database_url: str
    database_kind: str
    database: Path | None  # the SQLite file; None for PostgreSQL
    store: Path
    keyring: Path
    onion: Path
    relocated: bool


def _settings(text: str, config: Path) -> Settings:
    try:
        return parse_settings(tomllib.loads(text), config.parent)
    except (tomllib.TOMLDecodeError, SettingsError) as exc:
        raise ArchiveDamaged(f"the backed-up configuration does not load: {exc}") from None


def _set_values(text: str, values: dict[tuple[str, str], str]) -> str:
    """text with each (section, key) = value line replaced; raise if one is not found."""
    section, lines, done = "", [], set()
    for line in text.splitlines(keepends=True):
        if found := SECTION.match(line):
            section = found.group(1)
        elif (found := ASSIGNMENT.match(line)) and (section, found.group(2)) in values:
            key = (section, found.group(2))
            # A JSON string is a valid TOML basic string.
            line = f"{found.group(1)}{key[1]} = {json.dumps(values[key])}\n"
            done.add(key)
        lines.append(line)
    if done != values.keys():
        missing = ", ".join(f"[{s}] {k}" for s, k in sorted(values.keys() - done))
        raise BackupError(
            f"cannot point the configuration at the new data directory ({missing} is not a "
            "plain line); restore to the original paths, or edit the file by hand"
        )
    return "".join(lines)


def relocated_config(
    text: str,
    header: BackupHeader,
    config: Path,
    data_dir: Path,
    database_url: str | None = None,
) -> str:
    """The configuration text, rewritten so that data_dir is where the data now lives (and
    database_url, if given, is the database)."""
    values: dict[tuple[str, str], str] = {}
    if database_url is not None:
        values[("database", "url")] = database_url
    if _settings(text, config).data_dir != data_dir:
        original = _settings(text, Path(header.config_path))
        values[("instance", "data_dir")] = str(data_dir)
        if database_url is None and database_kind(original.database_url) == SQLITE:
            database = sqlite_path(original.database_url)
            if "url" in tomllib.loads(text).get("database", {}) and database.is_relative_to(
                original.data_dir
            ):
                moved = data_dir / database.relative_to(original.data_dir)
                values[("database", "url")] = f"sqlite:///{moved}"
    if not values:
        return text
    rewritten = _set_values(text, values)
    if _settings(rewritten, config).data_dir != data_dir:
        raise BackupError("rewriting the configuration's data_dir did not take effect")
    return rewritten


def _require_same_engine(header: BackupHeader, kind: str) -> None:
    if kind != header.database:
        backup, target = ENGINE_NAMES[header.database], ENGINE_NAMES[kind]
        raise Unsupported(
            f"this backup holds a {backup} database, but the configuration it would be restored "
            f"with names a {target} one ([database] url): a dump is never restored into the "
            f"other engine; give --database-url a {backup} database"
        )


def plan_targets(
    header: BackupHeader,
    config_text: bytes,
    config: Path | None,
    data_dir: Path | None,
    database_url: str | None = None,
) -> Targets:
    """Where everything goes: the paths given, else those the backup was taken from."""
    config = (config or Path(header.config_path)).absolute()
    data_dir = (data_dir or Path(header.data_dir)).resolve()
    try:
        text = config_text.decode("utf-8")
    except UnicodeDecodeError:
        raise ArchiveDamaged("the backed-up configuration is not UTF-8 text") from None
    rewritten = relocated_config(text, header, config, data_dir, database_url)
    settings = _settings(rewritten, config)
    kind = database_kind(settings.database_url)
    _require_same_engine(header, kind)
    old_data_dir = Path(header.data_dir)
    placed = {
        "[gnupg] homedir": settings.gnupg_homedir,
        "[tor] keys_dir": settings.tor.keys_dir,
    }
    if kind == SQLITE:
        placed["the database"] = sqlite_path(settings.database_url)
    for what, path in placed.items():
        if data_dir != old_data_dir and path.is_relative_to(old_data_dir):
            raise BackupError(
                f"{what} is an absolute path inside the old data directory ({path}); make it "
                "relative to data_dir, or restore to the original data directory"
            )
    return Targets(
        config=config,
        config_text=rewritten.encode("utf-8"),
        data_dir=data_dir,
        database_url=settings.database_url,
        database_kind=kind,
        database=placed.get("the database"),
        store=settings.store_dir,
        keyring=settings.gnupg_homedir,
        onion=settings.tor.keys_dir,
        relocated=rewritten != text,
    )


def _in_use(path: Path) -> bool:
    if path.is_dir() and not path.is_symlink():
        return any(path.iterdir())
    return path.exists() or path.is_symlink()


def refuse_if_in_use(config: Path | None, data_dir: Path | None, others: list[Path]) -> None:
    """Refuse an existing configuration, a non-empty data directory, or any other part."""
    if config is not None and (config.exists() or config.is_symlink()):
        raise TargetInUse(f"{config} already exists; refusing to overwrite it (see --force)")
    if data_dir is not None and _in_use(data_dir):
        raise TargetInUse(f"{data_dir} is not empty; refusing to restore into it (see --force)")
    for path in others:
        if _in_use(path):
            raise TargetInUse(f"{path} already exists; refusing to overwrite it (see --force)")


def refuse_database_in_use(targets: Targets) -> None:
    """Refuse a PostgreSQL database that already holds tables (an instance's, or anyone's)."""
    if targets.database_kind == POSTGRESQL and postgresql.holds_tables(targets.database_url):
        name = make_url(targets.database_url).database
        raise TargetInUse(
            f"the PostgreSQL database {name} already holds tables; refusing to restore into it "
            "(see --force)"
        )
