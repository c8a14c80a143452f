"""The static pages of an opened export: no JavaScript, nothing loaded from anywhere.

Everything that came from a source (messages, file names) is HTML-escaped, and links are
percent-encoded relative paths. A Content-Security-Policy forbids scripts, frames and any
fetch, so the pages stay inert even in a browser that has a network.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from urllib.parse import quote

from workstation.reader import OpenedItem, OpenReport

CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'none'"
STYLE = """
body { font: 16px/1.5 sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em; }
.item { border: 1px solid #bbb; border-radius: 4px; margin: 1em 0; padding: .5em 1em; }
.reply { background: #eef4ff; }
.problem { background: #fff0f0; border-color: #c00; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; font: inherit; }
.meta { color: #555; font-size: .9em; }
"""
KIND_LABEL = {"message": "Message from the source", "document": "Document from the source"}
# The browser would run these as pages with access to this folder: offer them as downloads.
ACTIVE_SUFFIXES = {".htm", ".html", ".shtml", ".xhtml", ".xht", ".svg", ".svgz", ".xml", ".mht"}


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"{body}</body>\n</html>\n"
    )


def _link(target: Path, base: Path, text: str) -> str:
    href = quote(target.relative_to(base).as_posix())
    download = " download" if target.suffix.lower() in ACTIVE_SUFFIXES else ""
    return f'<a href="{escape(href)}"{download}>{escape(text)}</a>'


def _item_html(item: OpenedItem, folder: Path) -> str:
    label = "Reply from staff" if item.kind == "reply" else KIND_LABEL[item.kind]
    heading = f'<p class="meta">{item.number}. {label} <code>{escape(item.entry)}</code></p>\n'
    if item.problem:
        body = f"<p><strong>Not opened:</strong> {escape(item.problem)}</p>\n"
        return f'<div class="item problem">\n{heading}{body}</div>\n'
    assert item.path is not None
    if item.kind == "document":
        body = f"<p>{_link(item.path, folder, item.path.name)} ({item.size:,} bytes)"
        if item.original is not None:
            original = _link(item.original, folder, item.original.name)
            body += f"<br>Original, with its metadata: {original}"
        if item.note:
            body += f'<br><span class="meta">{escape(item.note)}</span>'
        body += "</p>\n"
    else:
        clipped = " (shortened here; the whole text is in the file)" if item.text_clipped else ""
        body = f'<pre>{escape(item.text or "")}</pre>\n<p class="meta">'
        body += f"{_link(item.path, folder, item.path.name)}{clipped}</p>\n"
    css = "item reply" if item.kind == "reply" else "item"
    return f'<div class="{css}">\n{heading}{body}</div>\n'


def _count(number: int, noun: str) -> str:
    plural = "replies" if noun == "reply" else f"{noun}s"
    return f"{number} {noun if number == 1 else plural}"


def write_designation_page(report: OpenReport, designation: str, items: list[OpenedItem]) -> Path:
    """<designation>/index.html: the whole conversation in order."""
    folder = report.out_dir / designation
    folder.mkdir(mode=0o700, exist_ok=True)
    body = '<p><a href="../index.html">All sources in this export</a></p>\n'
    body += f"<h1>{escape(designation.replace('_', ' '))}</h1>\n"
    body += "".join(_item_html(item, folder) for item in items)
    path = folder / "index.html"
    path.write_text(_page(designation.replace("_", " "), body), encoding="utf-8")
    return path


def write_index(report: OpenReport) -> Path:
    """index.html for the export, and one page per designation."""
    body = "<h1>Reports in this export</h1>\n<p>Documents open in their own programs. "
    body += "Do not forward any file before checking it for details that identify the source.</p>\n"
    rows = []
    for designation, items in report.designations().items():
        page = write_designation_page(report, designation, items)
        opened = sum(1 for item in items if not item.problem)
        kinds = ", ".join(
            _count(sum(1 for item in items if item.kind == kind), kind)
            for kind in ("message", "document", "reply")
        )
        rows.append(
            f"<li>{_link(page, report.out_dir, designation.replace('_', ' '))}: "
            f"{opened} of {len(items)} items opened ({kinds})</li>\n"
        )
    body += "<ul>\n" + "".join(rows) + "</ul>\n" if rows else "<p>No items.</p>\n"
    problems = report.problems()
    if problems:
        body += "<h2>Not opened</h2>\n<ul>\n" + "".join(
            f"<li><code>{escape(name)}</code>: {escape(reason)}</li>\n" for name, reason in problems
        )
        body += "</ul>\n"
    path = report.out_dir / "index.html"
    path.write_text(_page("Reports in this export", body), encoding="utf-8")
    return path
