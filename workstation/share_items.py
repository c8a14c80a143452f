"""Which items of an opened folder a staff member chose to share, checked against its layout.

`open` writes `<designation>/<n>-message.txt`, `<designation>/<n>-reply.txt` and
`<designation>/documents/<name>`. Only what the young person sent (messages and documents)
may be shared, from one conversation at a time; replies are staff's own words and stay here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from workstation.filenames import printable
from workstation.reader import DOCUMENTS

DESIGNATION = re.compile(r"^[a-z_]{1,64}$")
TEXT = re.compile(r"^([0-9]{1,9})-(message|reply)\.txt$")


class ShareError(Exception):
    """Sharing cannot go ahead; the message says why, and nothing was written."""


@dataclass(frozen=True)
class ChosenItem:
    """One file chosen for sharing: a message's text or a document."""

    path: Path
    kind: str  # "message" or "document"


@dataclass(frozen=True)
class Selection:
    """The items chosen, all from one designation of one opened folder."""

    opened: Path
    designation: str
    items: list[ChosenItem]


def select_items(opened: Path, paths: list[Path]) -> Selection:
    """Check each path is a message or document of one designation inside opened."""
    if not (opened / "index.html").is_file():
        raise ShareError(f"{opened} is not a folder written by `open`")
    root = opened.resolve()
    items: list[ChosenItem] = []
    designations: set[str] = set()
    for path in paths:
        designation, item = _choose(root, path)
        if any(found.path == item.path for found in items):
            raise ShareError(f"{printable(str(path))} is given twice")
        designations.add(designation)
        items.append(item)
    if not items:
        raise ShareError("choose at least one item with --item")
    if len(designations) > 1:
        raise ShareError(
            "the items come from more than one conversation ("
            + ", ".join(sorted(designations))
            + "); share one designation at a time"
        )
    return Selection(root, designations.pop(), items)


def _choose(root: Path, path: Path) -> tuple[str, ChosenItem]:
    shown = printable(str(path))
    if path.is_symlink() or not path.is_file():
        raise ShareError(f"{shown} is not a file of the opened folder")
    try:
        parts = path.resolve().relative_to(root).parts
    except ValueError:
        raise ShareError(f"{shown} is outside the opened folder {root}") from None
    if not parts or not DESIGNATION.fullmatch(parts[0]):
        raise ShareError(f"{shown} is not in a designation's folder of {root}")
    if len(parts) == 3 and parts[1] == DOCUMENTS:
        return parts[0], ChosenItem(path.resolve(), "document")
    text = TEXT.fullmatch(parts[-1]) if len(parts) == 2 else None
    if text is None:
        raise ShareError(f"{shown} is not a message or a document written by `open`")
    if text.group(2) == "reply":
        raise ShareError(f"{shown} is a reply from staff; share only what the source sent")
    return parts[0], ChosenItem(path.resolve(), "message")
