"""CSV files that staff open in a spreadsheet, with no cell the spreadsheet would run.

A cell starting with =, +, -, @, a tab or a carriage return is read as a formula by Excel and
LibreOffice (CSV injection, OWASP): such a cell gets a leading apostrophe, which makes it text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """The value as a cell's text, never a formula; None is an empty cell."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A whole CSV document (RFC 4180 line ends), every cell made safe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(name) for name in header])
    writer.writerows([safe_cell(value) for value in row] for row in rows)
    return out.getvalue()
