"""Rebuild seethesigns/wordlists/codename_words.txt (issue 12); see that folder's README.

Usage, with the EFF lists from the xkcdpass wheel (xkcdpass/static/) and wordfreq's
large_en.msgpack.gz from the wordfreq wheel (needs the msgpack package):

    python scripts/build_codename_words.py STATIC_DIR LARGE_EN_MSGPACK_GZ > codename_words.txt

The result is then read by eye; every word that should not be on a child's slip of paper
goes into codename_denylist.txt, and the script is run again until a run adds none.
"""

from __future__ import annotations

import gzip
import re
import sys
from pathlib import Path

import msgpack  # type: ignore[import-not-found]

SIZE = 1296
SOURCES = ("eff-short", "eff-special", "eff-long")
DENYLIST = Path(__file__).parent.parent / "seethesigns" / "wordlists" / "codename_denylist.txt"
# Harder or more abstract word shapes give way to plainer ones of about the same frequency.
ABSTRACT = re.compile(r"(ity|ism|ist|ion|ment|ance|ence|ive|ous|ize|ise|ly|ate|ical|ing|ed)$")
FORMS = ("", "s", "es", "ed", "er", "ing", "y")


def denylist() -> tuple[list[str], set[str]]:
    """The deny list's parts of words and whole words."""
    parts: list[str] = []
    whole: set[str] = set()
    for line in DENYLIST.read_text("utf-8").splitlines():
        if not line.startswith("#"):
            for entry in line.split():
                if entry.startswith("*"):
                    parts.append(entry.strip("*"))
                else:
                    whole.add(entry)
    return parts, whole


def denied(word: str, parts: list[str], whole: set[str]) -> bool:
    """True if the deny list refuses the word."""
    if any(part in word for part in parts):
        return True
    return any(word.endswith(end) and word[: len(word) - len(end)] in whole for end in FORMS)


def one_edit(a: str, b: str) -> bool:
    """True if a and b are equal or one edit apart (a letter added, dropped, changed or swapped)."""
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        swapped = len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
        return len(diff) <= 1 or (swapped and a[diff[1]] == b[diff[0]])
    short, long = sorted((a, b), key=len)
    if len(long) - len(short) != 1:
        return False
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return short[i:] == long[i + 1 :]


def main(static: Path, frequencies: Path) -> None:
    """Print the list: common words first, each kept only if it clashes with none kept."""
    pool: set[str] = set()
    for name in SOURCES:
        pool |= set((static / name).read_text("utf-8").split())
    short_list = set((static / "eff-short").read_text("utf-8").split())
    buckets = msgpack.unpackb(gzip.decompress(frequencies.read_bytes()), raw=False)[1:]
    rank = {word: i for i, bucket in reversed(list(enumerate(buckets))) for word in bucket}
    parts, whole = denylist()

    def score(word: str) -> int:
        return (
            rank[word]
            - (60 if word in short_list else 0)
            + 40 * max(0, len(word) - 6)
            + (80 if ABSTRACT.search(word) else 0)
        )

    candidates = sorted(
        (
            w
            for w in pool
            if re.fullmatch("[a-z]{3,8}", w) and w in rank and not denied(w, parts, whole)
        ),
        key=lambda w: (score(w), w),
    )
    chosen: list[str] = []
    for word in candidates:
        if not any(one_edit(word, c) or c.startswith(word) or word.startswith(c) for c in chosen):
            chosen.append(word)
            if len(chosen) == SIZE:
                break
    print("\n".join(sorted(chosen)))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
