"""Stripping metadata from documents with mat2, the one place the workstation runs it.

Photos carry GPS positions and phone models, office files carry author names: things that
can identify a young person if a document is passed on. mat2 runs on a copy in a private
folder under a plain name, so neither a hostile file name nor an existing
"x.cleaned.jpg" can steer where it writes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from workstation.filenames import create_unique, sibling_name

ORIGINAL_LABEL = "ORIGINAL-with-metadata"
MAT2_TIMEOUT_SECONDS = 600
_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,12}$")


class MetadataToolMissing(Exception):
    """mat2 is not installed."""


@dataclass(frozen=True)
class Cleaning:
    """What became of one document: the cleaned file and the kept original, or a note why not."""

    cleaned: Path | None
    original: Path | None
    note: str


class MetadataCleaner:
    """Runs mat2 on restored documents."""

    def __init__(self, mat2: str, work_dir: Path) -> None:
        self._mat2 = mat2
        self._work_dir = work_dir

    @classmethod
    def find(cls, work_dir: Path) -> MetadataCleaner:
        """The cleaner using the mat2 on PATH (Debian's `mat2` package)."""
        found = shutil.which("mat2")
        if found is None:
            raise MetadataToolMissing(
                "--clean-metadata needs mat2: install Debian's package with `apt-get install mat2`"
            )
        return cls(found, work_dir)

    def clean(self, document: Path) -> Cleaning:
        """Clean document; on success it holds the cleaned bytes and the original is renamed."""
        suffix = _SUFFIX.search(document.name)
        folder = Path(tempfile.mkdtemp(prefix="mat2-", dir=self._work_dir))
        try:
            copy = folder / ("document" + (suffix.group() if suffix else ""))
            shutil.copyfile(document, copy)
            try:
                run = subprocess.run(
                    [self._mat2, "--", str(copy)],
                    capture_output=True,
                    text=True,
                    timeout=MAT2_TIMEOUT_SECONDS,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                return Cleaning(None, None, "metadata not removed: mat2 took too long")
            cleaned = copy.with_name(sibling_name(copy, "cleaned"))
            if run.returncode != 0 or not cleaned.is_file():
                return Cleaning(None, None, _why(run.stdout + run.stderr))
            original, handle = create_unique(
                document.parent, sibling_name(document, ORIGINAL_LABEL)
            )
            handle.close()
            document.replace(original)
            shutil.move(cleaned, document)
            return Cleaning(document, original, "metadata removed with mat2")
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def _why(output: str) -> str:
    if "not supported" in output:
        return "metadata not removed: mat2 does not support this format"
    first = next((line.strip() for line in output.splitlines() if line.strip()), "no output")
    return f"metadata not removed: mat2 failed ({first[:200]})"
