"""The languages of the source pages: from Accept-Language, or the switcher for the session.

Tor Browser asks every site for English whatever its user reads, so the switcher matters more
than the header. The choice lives in the server-side session, never in a cookie of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode

from babel.units import format_unit
from flask import Flask, request, url_for
from flask_babel import Babel, get_locale

from source_interface.session_state import choose_language, chosen_language

DEFAULT = "en"
# Each name in its own language, as the switcher shows it.
LANGUAGES = {"en": "English", "pl": "Polski", "ro": "Română", "ar": "العربية"}
# The language a report was written in, named for staff.
IN_ENGLISH = {"en": "English", "pl": "Polish", "ro": "Romanian", "ar": "Arabic"}
RIGHT_TO_LEFT = {"ar"}
# Unit symbols a child knows from a phone ("2 GB"); Arabic's short form is an abbreviation.
LONG_UNITS = {"ar"}
# A page shown in answer to a form has no address of its own to reload in another language.
AFTER_FORM = {"reports.submit": "reports.lookup"}


@dataclass(frozen=True)
class LanguageLink:
    """One link of the switcher."""

    code: str
    name: str
    href: str
    current: bool


def _asked_for() -> str | None:
    code = request.args.get("l")
    return code if code in LANGUAGES else None


def select_language() -> str:
    """The page's language: ?l=, then the session's choice, then Accept-Language."""
    chosen = _asked_for() or chosen_language()
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT)


def _remember_choice() -> None:
    code = _asked_for()
    if code is not None:
        choose_language(code)


def _here(code: str) -> str:
    """This page in another language, or the nearest page that can be loaded again.

    Built with url_for from the matched route, never from request.path: on a 404 for
    "/%5Cevil.example/x" the raw path made a link a browser follows to http://evil.example/x.
    """
    rule, endpoint = request.url_rule, request.endpoint
    if rule is None or endpoint is None:  # no route matched (404, 405): the start page
        return url_for("main.index", l=code)
    if request.method != "GET" and "GET" not in (rule.methods or ()):
        return url_for(AFTER_FORM.get(endpoint, "main.index"), l=code)
    # The query is appended, not passed to url_for, so no key can become _external or _scheme.
    query = {key: value for key, value in request.args.items() if key != "l"}
    return f"{url_for(endpoint, **(request.view_args or {}))}?{urlencode({**query, 'l': code})}"


def _language_context() -> dict[str, object]:
    code = str(get_locale() or DEFAULT)
    links = [LanguageLink(c, name, _here(c), c == code) for c, name in LANGUAGES.items()]
    return {
        "language": code,
        "direction": "rtl" if code in RIGHT_TO_LEFT else "ltr",
        "language_links": links,
    }


def file_size(size: float) -> str:
    """A number of bytes as the page's language writes it: "2 GB", "1,5 GB", "500 MB"."""
    return file_size_in(str(get_locale() or DEFAULT), size)


def file_size_in(code: str, size: float) -> str:
    """A number of bytes as language code writes it (also for pages nginx serves)."""
    unit, amount = "digital-gigabyte", size / 1024**3
    if amount < 1:
        unit, amount = "digital-megabyte", size / 1024**2
    length: Literal["long", "short"] = "long" if code in LONG_UNITS else "short"
    return format_unit(amount, unit, length=length, format="#,##0.#", locale=code)


def register_languages(app: Flask) -> None:
    """Translate the pages with Flask-Babel and give templates the language and switcher."""
    # Multi-line {% trans %} blocks become one-line messages for the translators.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    Babel(app, locale_selector=select_language)
    app.before_request(_remember_choice)
    app.context_processor(_language_context)
    app.jinja_env.filters["file_size"] = file_size


def language_for_staff() -> str | None:
    """The page's language in English, for a report's heading; None when it is English."""
    code = str(get_locale() or DEFAULT)
    return None if code == DEFAULT else IN_ENGLISH[code]
