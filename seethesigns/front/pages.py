"""The source pages nginx answers with itself: a file too big, and the site unreachable.

nginx refuses an oversized upload before gunicorn sees it, and answers for gunicorn when it
is down or every upload slot is taken. A young person must still read, in plain words, what
happened and what to do, so these pages reuse the source interface's own sentences and
translations. nginx cannot know the visit's language (it lives in the server-side session),
so each page says it in every language, each part marked with its language and direction.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path

from babel.support import Translations

import source_interface
from seethesigns.instance_settings import Disguise
from source_interface.languages import LANGUAGES, RIGHT_TO_LEFT, file_size_in

CATALOGUES = Path(source_interface.__file__).parent / "translations"
# nginx's pages are written into its configuration at deploy time, so they cannot follow an
# admin's later choice of title and exit page: they wear the defaults, which name no topic
# either. Their exit goes straight to the neutral page, since /exit needs gunicorn, which is
# what may be down when nginx answers.
TITLE = Disguise().site_title
QUICK_EXIT = Disguise().exit_url
LEAVE = "Leave this site"
START = "Go to the start"
TOO_LARGE_TITLE = "That file is too big"
TOO_LARGE_TEXT = (
    "Nothing was sent. Files can be up to %(size)s in all. Try a smaller file, or tell us "
    "what it shows instead."
)
UNAVAILABLE_TITLE = "Something went wrong"
UNAVAILABLE_TEXT = (
    "Please try again in a little while. If you were sending a report, it may not have "
    "reached us, so please send it again."
)


@dataclass(frozen=True)
class Part:
    """A page's words in one language."""

    code: str
    title: str
    text: str
    leave: str
    start: str


def _catalogue(code: str) -> Translations:
    found = Translations.load(str(CATALOGUES), [code], domain="messages")
    if not isinstance(found, Translations):  # babel falls back to no translation at all
        raise LookupError(f"no compiled catalogue for {code!r} in {CATALOGUES}")
    return found


def _parts(title: str, text: str, size: int | None = None) -> list[Part]:
    parts = []
    for code in LANGUAGES:
        words = _catalogue(code)
        body = words.gettext(text)
        parts.append(
            Part(
                code=code,
                title=words.gettext(title),
                text=body % {"size": file_size_in(code, size)} if size is not None else body,
                leave=words.gettext(LEAVE),
                start=words.gettext(START),
            )
        )
    return parts


def _attributes(code: str) -> str:
    return f'lang="{code}" dir="{"rtl" if code in RIGHT_TO_LEFT else "ltr"}"'


def _page(parts: list[Part]) -> str:
    """One small HTML page (it goes into nginx's configuration, so it is kept on one line)."""
    leave = " / ".join(f"<span {_attributes(p.code)}>{escape(p.leave)}</span>" for p in parts)
    sections = "".join(
        f"<section {_attributes(p.code)}><h1>{escape(p.title)}</h1><p>{escape(p.text)}</p>"
        f'<p><a href="/">{escape(p.start)}</a></p></section>'
        for p in parts
    )
    return (
        '<!doctype html><html lang="en" dir="ltr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(TITLE)}</title>"
        '<link rel="stylesheet" href="/static/style.css"></head><body>'
        f'<header class="top"><a class="exit every-language" href="{QUICK_EXIT}" '
        f'rel="noreferrer">{leave}</a></header><main id="main">{sections}</main></body></html>'
    )


def too_large_page(max_upload_bytes: int) -> str:
    """The page for an upload over the instance's limit, naming the limit."""
    return _page(_parts(TOO_LARGE_TITLE, TOO_LARGE_TEXT, max_upload_bytes))


def unavailable_page() -> str:
    """The page for gunicorn down, too slow, or every upload slot taken: try again."""
    return _page(_parts(UNAVAILABLE_TITLE, UNAVAILABLE_TEXT))
