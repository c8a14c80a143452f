"""The terminal summary of an opened export: the same as the index, as plain lines."""

from __future__ import annotations

from pathlib import Path

from workstation.filenames import printable
from workstation.reader import OpenReport, describe

KIND_WIDTH = 9


def format_summary(report: OpenReport, index: Path) -> str:
    """What was opened, per designation in order, then every problem by name."""
    lines = []
    for designation, items in report.designations().items():
        count = f"{len(items)} item" + ("" if len(items) == 1 else "s")
        lines.append(f"{designation.replace('_', ' ')}  ({count})")
        for item in items:
            lines.append(f"  {item.number:>4}  {item.kind:<{KIND_WIDTH}} {describe(item)}")
    problems = report.problems()
    if problems:
        lines.append("")
        lines.append(f"NOT OPENED ({len(problems)}):")
        lines.extend(f"  {printable(name)}: {reason}" for name, reason in problems)
    opened = sum(1 for item in report.items if not item.problem)
    lines.append("")
    lines.append(f"Opened {opened} of {len(report.items) + len(report.skipped)} entries.")
    lines.append(f"Index: {index}")
    return "\n".join(lines)
