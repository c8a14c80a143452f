"""Reading an API request's JSON body: only what SecureDrop's clients send, nothing stranger.

Python's parser recurses once per level of nesting, so 100,000 `[` ended in RecursionError;
and JSON can escape half of a surrogate pair (`"\\ud800"`), which makes a str that cannot be
encoded, and failed wherever the text was next used (hashing a passphrase, say). Both were a
500, with no login needed. Here they are malformed bodies, refused before anything reads them.
"""

from __future__ import annotations

import json
import re
from typing import Any

# SecureDrop's request bodies are an object of strings and lists of strings: depth 2.
MAX_DEPTH = 32
# A JSON string literal (its escapes included), and the brackets outside of one.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class MalformedBody(ValueError):
    """The body is not UTF-8 JSON of plain text and modest depth."""


def parse_json(body: bytes) -> Any:
    """The JSON value of body; MalformedBody if it is not one we accept."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedBody("not UTF-8") from exc
    if nesting_depth(text) > MAX_DEPTH:
        raise MalformedBody("nested too deeply")
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except ValueError as exc:  # json.JSONDecodeError, or an integer too long to convert
        raise MalformedBody("not JSON") from exc
    if _has_surrogate(value):
        raise MalformedBody("a string is not valid text")
    return value


def nesting_depth(text: str) -> int:
    """How deeply the arrays and objects in a JSON text nest (brackets inside strings aside)."""
    depth = deepest = 0
    for bracket in _BRACKET.findall(_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _refuse_constant(name: str) -> Any:
    raise MalformedBody(f"{name} is not JSON")


def _has_surrogate(value: Any) -> bool:
    """Whether any string in a parsed value (keys too) holds an unpaired surrogate."""
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, list):
        return any(_has_surrogate(item) for item in value)
    if isinstance(value, dict):
        return any(_has_surrogate(key) or _has_surrogate(item) for key, item in value.items())
    return False
