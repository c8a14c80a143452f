"""Reading a codename as a source typed it, before anything is derived from it (issue 12).

A child typing seven words on a phone makes typos. Each typed word is taken as the list word
it names: itself, the only word one edit away (a letter added, dropped, changed, or two
neighbours swapped), or the only word it is the start of (three letters or more). The list
keeps its words two edits apart and none the start of another, so a typo never lands on
another word; where a typed word could still mean two words, it is not guessed.

The server never stored codenames, so codenames issued from the EFF large list before issue
12 are still read as typed. A typed codename can have both readings (a new one with a typo
that is an old word): both are tried. Nothing here is secret: the lists are public, so
which readings a text has tells nothing about any source.
"""

from __future__ import annotations

import bisect
import string
from functools import cache

from seethesigns.codenames import CODENAME_WORDLIST, CODENAME_WORDS, OLD_WORDLIST, load_wordlist

PREFIX_MIN = 3


class WordNotOnList(Exception):
    """A typed word is on neither list and cannot be corrected; position counts from 1."""

    def __init__(self, position: int) -> None:
        super().__init__(position)
        self.position = position


class WrongWordCount(Exception):
    """The text has more or fewer words than a codename."""

    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.count = count


def one_edit_away(word: str) -> set[str]:
    """Every text one edit from word: a letter added, dropped or changed, or neighbours swapped."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    dropped = {a + b[1:] for a, b in splits if b}
    swapped = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    changed = {a + c + b[1:] for a, b in splits if b for c in string.ascii_lowercase}
    added = {a + c + b for a, b in splits for c in string.ascii_lowercase}
    return (dropped | swapped | changed | added) - {word}


@cache
def _words() -> tuple[tuple[str, ...], frozenset[str]]:
    words = tuple(sorted(load_wordlist(CODENAME_WORDLIST)))
    return words, frozenset(words)


@cache
def _old_words() -> frozenset[str]:
    return frozenset(load_wordlist(OLD_WORDLIST))


def _starting_with(prefix: str) -> set[str]:
    words, _ = _words()
    found = set()
    for word in words[bisect.bisect_left(words, prefix) :]:
        if not word.startswith(prefix):
            break
        found.add(word)
    return found


def correct_word(typed: str) -> str | None:
    """The one list word that typed names, or None if it names none or could name several."""
    _, known = _words()
    if typed in known:
        return typed
    matches = one_edit_away(typed) & known
    if len(typed) >= PREFIX_MIN:
        matches |= _starting_with(typed)
    return matches.pop() if len(matches) == 1 else None


def readings(normal: str) -> list[str]:
    """The codenames a normalised text can be, the corrected reading first; never empty.

    Raises WrongWordCount, or WordNotOnList when the text is a codename of neither list:
    for the first word on neither list, or else the first word that cannot be corrected.
    """
    typed = normal.split(" ")
    if len(typed) != CODENAME_WORDS:
        raise WrongWordCount(len(typed))
    corrected = [correct_word(word) for word in typed]
    found = []
    if all(corrected):
        found.append(" ".join(word for word in corrected if word))
    if all(word in _old_words() for word in typed) and normal not in found:
        found.append(normal)
    if not found:
        unread = [i for i, word in enumerate(corrected) if word is None]
        neither = [i for i in unread if typed[i] not in _old_words()]
        raise WordNotOnList((neither or unread)[0] + 1)
    return found
