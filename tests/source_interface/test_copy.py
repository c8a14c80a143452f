"""The words on the source pages: easy to read, victims first, honest, with help on every page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from seethesigns.db import make_engine, make_session_factory
from seethesigns.instance_settings import UrgentHelp, update_urgent_help
from seethesigns.settings import Settings
from tests.source_interface.readability import flesch_reading_ease, syllables, visible_text
from tests.source_interface.test_every_page import pages

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
MINIMUM_READING_EASE = 70
# Promises no website can keep: the pages must never make them.
OVERPROMISES = re.compile(
    r"100 ?%|complete(ly)? anonym|fully anonym|totally anonym|guarantee|untraceable"
    r"|no one will ever|nobody will ever|can never find|completely safe|totally safe",
    re.I,
)


def main_part(html: str) -> str:
    """The page's <main> element alone."""
    return html[html.index("<main") : html.index("</main>")]


@pytest.fixture
def english_pages(source_client: FlaskClient, settings: Settings) -> list[tuple[str, str]]:
    return [(name, r.get_data(as_text=True)) for name, r in pages(source_client, settings)]


def test_flesch_score_agrees_with_published_examples() -> None:
    assert syllables("happening") == 3
    assert syllables("codename") == 2  # not in the dictionary: code + name
    assert flesch_reading_ease(["The cat sat on the mat."]) == pytest.approx(116.1, abs=0.1)
    legal = (
        "Notwithstanding the aforementioned provisions, the organisation's safeguarding "
        "obligations necessitate comprehensive documentation of identifiable information."
    )
    assert flesch_reading_ease([legal]) < 0


def test_every_english_page_is_easy_to_read(english_pages: list[tuple[str, str]]) -> None:
    scores = []
    for name, html in english_pages:
        whole = flesch_reading_ease(visible_text(html))
        main = flesch_reading_ease(visible_text(main_part(html)))
        scores.append(f"{whole:6.1f} {main:6.1f}  {name}")
        assert whole >= MINIMUM_READING_EASE, (name, whole)
        assert main >= MINIMUM_READING_EASE, (name, main)
    ARTIFACTS.mkdir(exist_ok=True)
    report = "Flesch reading ease (whole page, <main> alone)\n" + "\n".join(scores) + "\n"
    (ARTIFACTS / "reading-ease.txt").write_text(report)


def test_no_page_promises_more_than_is_true(english_pages: list[tuple[str, str]]) -> None:
    for name, html in english_pages:
        assert not OVERPROMISES.search(" ".join(visible_text(html))), name


def text_of(client: FlaskClient, path: str) -> str:
    """A page's visible English text as one string."""
    return " ".join(visible_text(client.get(path).get_data(as_text=True)))


def test_children_are_treated_as_victims_first(source_client: FlaskClient) -> None:
    landing = text_of(source_client, "/")
    assert "You are not in trouble for telling us." in landing
    assert "it is not your fault" in landing
    signs = text_of(source_client, "/signs")
    assert "It is a crime against the young person." in signs
    assert "you are not to blame" in signs


def test_anonymity_is_explained_honestly(source_client: FlaskClient) -> None:
    landing = text_of(source_client, "/")
    assert "does not keep your IP address" in landing
    assert "we will know who you are" in landing  # what giving a name means
    assert "may see that you came here" in landing  # what the site cannot hide
    hide = text_of(source_client, "/hide-your-visit")
    assert "It does not wipe your history" in hide  # the quick exit, honestly
    assert "New Identity" in hide
    assert "clear your history" in hide


def test_signs_page_speaks_to_young_people_and_to_those_around_them(
    source_client: FlaskClient,
) -> None:
    page = main_part(source_client.get("/signs").get_data(as_text=True))
    young, others = page.split("Are you worried about a friend or your child?")
    for part in (young, others):
        lists = part[part.index("<ul>") : part.index("</ul>")]
        for sign in ("missing from school or home", "far from home", "money, clothes or phones",
                     "calls or texts", "older", "controls", "weapon"):  # fmt: skip
            assert sign in lists, sign
    assert "scared, angry, low" in young and "hurt" in young  # mood and injuries
    assert "sad, angry, scared" in others and "injuries they can't explain" in others


def test_urgent_help_is_on_every_page_and_comes_from_the_instance_settings(
    source_client: FlaskClient, settings: Settings
) -> None:
    defaults = ("999", "Childline", "0800\xa01111", "Fearless", "fearless.org")
    for name, response in pages(source_client, settings):
        footer = response.get_data(as_text=True).split('<footer class="help">', 1)[1]
        assert "Need help now?" in footer, name
        assert all(value in footer for value in defaults), name
        assert "Crimestoppers" not in footer  # not baked in: the settings name the services


def test_another_area_names_its_own_services(
    source_client: FlaskClient, settings: Settings
) -> None:
    engine = make_engine(settings.database_url)
    with make_session_factory(engine)() as db:
        elsewhere = UrgentHelp("112", "Helpline <One>", "0800 000", "Tell", "tell.example")
        update_urgent_help(db, elsewhere)
    engine.dispose()
    responses: list[tuple[str, TestResponse]] = list(pages(source_client, settings))
    for name, response in responses:
        footer = response.get_data(as_text=True).split('<footer class="help">', 1)[1]
        assert '<bdi dir="ltr">112</bdi>' in footer, name
        assert "<bdi>Helpline &lt;One&gt;</bdi>" in footer, name
        assert "tell.example" in footer and "Childline" not in footer, name
    lookup = dict(responses)["/lookup"].get_data(as_text=True)
    assert 'call <bdi dir="ltr">112</bdi>' in main_part(lookup)  # the danger question's hint
