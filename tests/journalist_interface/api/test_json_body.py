"""Parsing an API body: modest depth, real text, nothing Python's json accepts beyond JSON."""

from __future__ import annotations

import json

import pytest

from journalist_interface.api.json_body import MAX_DEPTH, MalformedBody, nesting_depth, parse_json


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ("[]", 1),
        ('{"a": [1, {"b": []}]}', 4),
        ('"[[[[{{{{"', 0),  # brackets inside a string are text
        ('["\\"[[[", "\\\\"]', 1),  # escaped quote and escaped backslash
    ],
)
def test_nesting_depth_counts_only_structure(text: str, depth: int) -> None:
    assert nesting_depth(text) == depth


def test_a_reply_as_sent_parses() -> None:
    body = {"reply": "-----BEGIN PGP MESSAGE-----\n[{x}]\n-----END PGP MESSAGE-----", "uuid": None}
    assert parse_json(json.dumps(body).encode()) == body


def test_depth_up_to_the_limit_parses() -> None:
    assert parse_json(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None
    with pytest.raises(MalformedBody):
        parse_json(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))


@pytest.mark.parametrize(
    "body",
    [
        b"\xff",
        b"{not json",
        b"NaN",
        b'{"a": Infinity}',
        b"1" * 5000,  # more digits than Python converts
        b'"\\ud800"',
        b'["ok", {"\\udfff": 1}]',
    ],
)
def test_what_is_not_plain_json_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedBody):
        parse_json(body)
