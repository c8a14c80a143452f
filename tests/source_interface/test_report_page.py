"""The report page (issue 12): short, one free-text box, errors first, and a branch for
someone reporting about another child."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from seethesigns.db import make_engine, make_session_factory
from seethesigns.instance_settings import UrgentHelp, update_urgent_help
from seethesigns.settings import Settings
from tests.conftest import csrf_token
from tests.source_interface.test_copy import main_part
from tests.source_interface.test_journey import new_source
from tests.source_interface.test_replies_and_leaving import reply_to_only_source

NO_NAME = "don't write your name, address or school"
OWN_NAME_NOT_NEEDED = "We don't need your own name."
CHILD_FIELDS = ('name="child_name"', 'name="child_age"', 'name="child_school"')
CHOICE_LABELS = ("Yes", "No", "I'm not sure", "Me", "Someone else", "Both")
# The urgent box's own label is an answer too (issue 13).
CHOICE_LABELS += ("Yes, please look at this first",)


def form_of(page: str) -> str:
    """The report form alone."""
    start = page.index('action="/submit"')
    return page[start : page.index("</form>", start)]


def questions(page: str) -> list[str]:
    """Every question's label or legend on the form, in order, choices left out."""
    found = re.findall(r"<(?:label for|legend)[^>]*>([^<]+)<", form_of(page))
    return [text for text in found if text not in CHOICE_LABELS]


def test_one_free_text_question_and_optional_said_once(source_client: FlaskClient) -> None:
    new_source(source_client)
    page = source_client.get("/lookup").get_data(as_text=True)
    assert questions(page) == [
        "What is happening?",
        "Where does it happen?",
        "When does it happen?",
        "Is anyone in danger right now?",
        "Is this about you or someone else?",
        "Do you need us to look at this first?",
        "Add files (up to 2 GB)",
    ]
    assert form_of(page).count("<textarea") == 1
    assert "optional" not in main_part(page).lower()
    assert main_part(page).count("Answer only the questions you want.") == 1
    assert " required" not in form_of(page)


def test_no_replies_block_before_the_first_reply(
    source_client: FlaskClient, settings: Settings
) -> None:
    new_source(source_client)
    for path in ("/lookup?new=1", "/lookup"):
        page = main_part(source_client.get(path).get_data(as_text=True))
        assert "Replies from us" not in page and "No replies yet" not in page, path
    reply_to_only_source(settings, "We read it.")
    page = source_client.get("/lookup").get_data(as_text=True)
    assert "Replies from us" in page and "We read it." in page
    assert page.index("Replies from us") < page.index('action="/submit"')  # replies first
    source_client.post(
        "/delete-all-replies", data={"csrf_token": csrf_token(page), "confirm": "yes"}
    )
    page = source_client.get("/lookup").get_data(as_text=True)
    assert "Replies from us" in page and "You deleted a reply." in page


def test_errors_come_before_the_first_question_and_take_the_focus(
    source_client: FlaskClient,
) -> None:
    new_source(source_client)
    page = source_client.get("/lookup").get_data(as_text=True)
    refused = source_client.post("/submit", data={"csrf_token": csrf_token(page)})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    error = re.search(r'<[a-z]+ [^>]*id="form-error"[^>]*>', html)
    assert error is not None
    assert 'tabindex="-1"' in error.group() and " autofocus" in error.group()
    assert html.count(" autofocus") == 1
    assert html.index('id="form-error"') < html.index('<label for="what"')
    assert html.index("Please write a message or choose a file to send.") < html.index(
        '<label for="what"'
    )


def test_the_page_starts_without_a_choice_and_with_the_advice_for_a_child(
    source_client: FlaskClient,
) -> None:
    new_source(source_client)
    page = source_client.get("/lookup").get_data(as_text=True)
    assert 'href="/lookup?about=me"' in page and 'href="/lookup?about=other"' in page
    assert NO_NAME in page.replace("\n  ", " ")
    assert not any(field in page for field in CHILD_FIELDS)
    assert " checked" not in form_of(page)  # nobody is told who it is about
    me = source_client.get("/lookup?about=me").get_data(as_text=True)
    assert 'id="who-me" name="who" value="me" checked' in me
    assert NO_NAME in me.replace("\n  ", " ")
    assert not any(field in me for field in CHILD_FIELDS)


def test_someone_else_is_asked_about_the_child_not_about_themselves(
    source_client: FlaskClient,
) -> None:
    new_source(source_client)
    page = source_client.get("/lookup?about=other").get_data(as_text=True)
    main = main_part(page).replace("\n  ", " ")
    assert NO_NAME not in main
    assert OWN_NAME_NOT_NEEDED in main
    assert 'id="who-other" name="who" value="other" checked' in page
    assert 'aria-current="true">About someone else<' in page
    for field in CHILD_FIELDS:
        assert field in form_of(page), field
    labels = questions(page)
    assert labels[1:5] == [
        "The child you are worried about",
        "Their name",
        "Their age",
        "Their school",
    ]
    # The adult helpline from the instance settings, by the form.
    assert "<bdi>NSPCC</bdi>" in main and '<bdi dir="ltr">0808\xa0800\xa05000</bdi>' in main
    # Every box is capped at the message limit, as the others are.
    for field in ("child_name", "child_age", "child_school"):
        tag = re.search(rf'<input id="{field}"[^>]*>', page)
        assert tag is not None and 'maxlength="100000"' in tag.group(), field


@pytest.mark.parametrize("who", ["other", "both"])
def test_an_error_keeps_the_someone_else_branch(source_client: FlaskClient, who: str) -> None:
    new_source(source_client)
    page = source_client.get("/lookup?about=other").get_data(as_text=True)
    too_long = {
        "csrf_token": csrf_token(page),
        "who": who,
        "child_name": "Sam",
        "what": "x" * 100_001,
    }
    html = source_client.post("/submit", data=too_long).get_data(as_text=True)
    assert "too long" in html
    assert 'id="child_name" name="child_name"' in html and 'value="Sam"' in html
    assert f'value="{who}" checked' in html


def test_an_area_names_its_own_adult_helpline(
    source_client: FlaskClient, settings: Settings
) -> None:
    engine = make_engine(settings.database_url)
    with make_session_factory(engine)() as db:
        update_urgent_help(
            db, UrgentHelp(adult_helpline_name="Parents <Line>", adult_helpline_contact="0800 123")
        )
    engine.dispose()
    new_source(source_client)
    page = source_client.get("/lookup?about=other").get_data(as_text=True)
    assert "<bdi>Parents &lt;Line&gt;</bdi>" in main_part(page) and "NSPCC" not in page
    footer = page.split('<footer class="help">', 1)[1]
    assert "Parents &lt;Line&gt;" in footer and "Childline" in footer  # the child's lines stay


def test_photo_advice_stands_by_the_file_picker(source_client: FlaskClient) -> None:
    new_source(source_client)
    form = form_of(source_client.get("/lookup").get_data(as_text=True))
    picker = form[form.index('<label for="fh">') : form.index('<input id="fh"')]
    advice = " ".join(picker.split())
    assert "Add files (up to 2 GB)" in advice
    assert "A photo can show where it was taken." in advice
    assert "A screenshot of the photo does not, so send a screenshot instead." in advice
    assert "Don't send photos that show your face or where you live." in advice
    assert 'aria-describedby="fh-hint"' in form


def test_sending_the_someone_else_page_untouched_sends_nothing(
    source_client: FlaskClient, settings: Settings
) -> None:
    new_source(source_client)
    page = source_client.get("/lookup?about=other").get_data(as_text=True)
    # The page checked "Someone else" itself; that alone is not a report.
    refused = source_client.post("/submit", data={"csrf_token": csrf_token(page), "who": "other"})
    assert refused.status_code == 400
    assert "Please write a message or choose a file to send." in refused.get_data(as_text=True)
    assert not list(settings.store_dir.rglob("*.gpg"))
