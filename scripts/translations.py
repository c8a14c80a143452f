"""Keep the source pages' catalogues in step with the templates (`make translations`).

Extracts the messages into messages.pot, merges them into each language's messages.po (a new
or changed message arrives empty or fuzzy, and the tests fail until a translator fills it),
copies the English messages into the English catalogue, and compiles the .mo files that the
app loads. The .mo files are committed, and a test checks that they match the .po files.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
CATALOGUES = ROOT / "source_interface" / "translations"
TEMPLATE = CATALOGUES / "messages.pot"
LANGUAGES = ("en", "pl", "ro", "ar")
WIDTH = "100"


def pybabel(*arguments: str) -> None:
    """Run one pybabel command in the repository's root."""
    CommandLineInterface().run(["pybabel", "--quiet", *arguments])


def fill_english() -> None:
    """English is the templates' own language: each message translates to itself."""
    path = CATALOGUES / "en" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale="en")
    for message in catalog:
        if message.id:
            message.string = message.id
            message.flags.discard("fuzzy")
    with path.open("wb") as handle:
        write_po(handle, catalog, width=int(WIDTH))


def main() -> None:
    """Extract, update every catalogue (creating missing ones), fill English, compile."""
    with (ROOT / "pyproject.toml").open("rb") as handle:
        version = tomllib.load(handle)["project"]["version"]
    pybabel(
        "extract", "-F", str(ROOT / "babel.cfg"), "--no-location", "--sort-output",
        "-w", WIDTH, "-c", "Translators:", "--project", "See the Signs", "--version", version,
        "--copyright-holder", "See the Signs", "-o", str(TEMPLATE), str(ROOT),
    )  # fmt: skip
    for language in LANGUAGES:
        command = "update"
        if not (CATALOGUES / language / "LC_MESSAGES" / "messages.po").exists():
            command = "init"
        extra = ["--ignore-obsolete", "--no-fuzzy-matching"] if command == "update" else []
        pybabel(
            command, "-i", str(TEMPLATE), "-d", str(CATALOGUES), "-l", language, "-w", WIDTH,
            *extra,
        )  # fmt: skip
    fill_english()
    pybabel("compile", "-d", str(CATALOGUES))


if __name__ == "__main__":
    sys.exit(main())
