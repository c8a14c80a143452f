"""What can be wrong with one item of an export. Each is reported by name; the rest go on."""

from __future__ import annotations


class ItemProblem(Exception):
    """One item could not be opened; str() is a sentence a staff member can act on."""


class UnexpectedEntry(ItemProblem):
    """A zip entry that no See the Signs export would hold: a link, a stray or odd path."""


class CorruptEntry(ItemProblem):
    """The zip entry itself is damaged: bad CRC, bad compressed data, cut short."""


class NotOpenPGP(ItemProblem):
    """The bytes are not an OpenPGP message at all."""


class NotForThisKey(ItemProblem):
    """The item is encrypted to some other key, or not encrypted to a key at all."""


class Damaged(ItemProblem):
    """The OpenPGP or gzip data is truncated or has been tampered with."""


class DecompressionBomb(ItemProblem):
    """The item would expand past the size or ratio limits in the workstation settings."""


def bomb(what: str, limit: int) -> DecompressionBomb:
    """The message for an item refused at some layer for expanding past `limit` bytes."""
    return DecompressionBomb(
        f"refused: {what} expands past {limit:,} bytes, beyond the workstation's size or ratio "
        "limit (a decompression bomb?); raise [limits] in the workstation settings only if "
        "you trust this item"
    )
