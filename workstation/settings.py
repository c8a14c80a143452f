"""The workstation's own settings: one frozen object, from a TOML file or the defaults."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

GIB = 1024**3
MIB = 1024**2
# The largest count OpenPGP's iterated-and-salted S2K can encode (RFC 4880, 3.7.1.3).
MAX_S2K_COUNT = 65_011_712
MIN_S2K_COUNT = 65_536


class SettingsError(Exception):
    """The workstation configuration is unreadable or has a missing or invalid value."""


@dataclass(frozen=True)
class Limits:
    """How far one item may expand before it is refused as a decompression bomb.

    Every layer (the zip entry, the OpenPGP packet, the gzip stream) is held to both limits.
    The ratio applies only past `ratio_applies_above_bytes`, so a small, very repetitive text
    is never mistaken for a bomb.
    """

    max_item_bytes: int = 4 * GIB
    max_ratio: int = 100
    ratio_applies_above_bytes: int = 16 * MIB

    def ceiling(self, compressed_bytes: int) -> int:
        """The most bytes an item of this compressed size may expand to."""
        by_ratio = max(self.ratio_applies_above_bytes, self.max_ratio * compressed_bytes)
        return min(self.max_item_bytes, by_ratio)


@dataclass(frozen=True)
class KeySettings:
    """Cost and rules of passphrases: for the secret key, and for its backups.

    The S2K count is the number of bytes hashed to turn a passphrase into a key. The
    default is the largest OpenPGP allows (about half a second here): the workstation
    unlocks its key once per `open`, and an attacker with a stolen USB stick pays the same
    half second per guess. Tests turn it down to the minimum through this setting.
    """

    s2k_count: int = MAX_S2K_COUNT
    min_passphrase_chars: int = 12


@dataclass(frozen=True)
class WorkstationSettings:
    """Everything the workstation commands read from their configuration."""

    limits: Limits = field(default_factory=Limits)
    keys: KeySettings = field(default_factory=KeySettings)


def _positive_int(table: dict[str, Any], section: str, key: str, default: int) -> int:
    if key not in table:
        return default
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise SettingsError(f"settings: [{section}] {key} must be a positive integer")
    return value


def _table(doc: dict[str, Any], section: str, known: type) -> dict[str, Any]:
    table = doc.get(section, {})
    if not isinstance(table, dict):
        raise SettingsError(f"settings: [{section}] must be a table")
    allowed = {item.name for item in fields(known)}
    unknown = sorted(set(table) - allowed)
    if unknown:
        # A typo in a safety limit must not silently leave the default in force.
        raise SettingsError(f"settings: [{section}] has unknown key(s): {', '.join(unknown)}")
    return table


def _load_limits(doc: dict[str, Any]) -> Limits:
    table = _table(doc, "limits", Limits)
    defaults = Limits()
    return Limits(
        **{
            item.name: _positive_int(table, "limits", item.name, getattr(defaults, item.name))
            for item in fields(Limits)
        }
    )


def _load_keys(doc: dict[str, Any]) -> KeySettings:
    table = _table(doc, "keys", KeySettings)
    defaults = KeySettings()
    count = _positive_int(table, "keys", "s2k_count", defaults.s2k_count)
    if not MIN_S2K_COUNT <= count <= MAX_S2K_COUNT:
        raise SettingsError(
            f"settings: [keys] s2k_count must be between {MIN_S2K_COUNT} and {MAX_S2K_COUNT}"
        )
    return KeySettings(
        s2k_count=count,
        min_passphrase_chars=_positive_int(
            table, "keys", "min_passphrase_chars", defaults.min_passphrase_chars
        ),
    )


def parse_settings(doc: dict[str, Any]) -> WorkstationSettings:
    """Build settings from a parsed TOML document; missing keys take the defaults above."""
    unknown = sorted(set(doc) - {"limits", "keys"})
    if unknown:
        raise SettingsError(f"settings: unknown section(s): {', '.join(unknown)}")
    return WorkstationSettings(limits=_load_limits(doc), keys=_load_keys(doc))


def load_settings(path: Path | None) -> WorkstationSettings:
    """Settings from a TOML file, or the documented defaults when no file is given."""
    if path is None:
        return WorkstationSettings()
    try:
        with path.open("rb") as handle:
            doc = tomllib.load(handle)
    except FileNotFoundError:
        raise SettingsError(f"settings: {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"settings: {path} is not valid TOML: {exc}") from None
    return parse_settings(doc)
