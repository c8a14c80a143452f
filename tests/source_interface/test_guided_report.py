"""The guided report: optional questions, free text, and one encrypted message for staff."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from seethesigns.settings import Settings
from source_interface.guided_report import GuidedReport
from tests.conftest import OfflineKey, csrf_token
from tests.source_interface.test_journey import new_source

ANSWERS = {
    "what": "A man pays my brother to take bags on the train.",
    "where": "The park by the station",
    "when": "Every Friday after school",
    "danger": "unsure",
    "who": "other",
    "anything_else": "He has a knife.",
    "msg": "Please help him.",
}


def submit(client: FlaskClient, form: dict[str, str]) -> tuple[int, str]:
    """Post the form on /lookup; the status and the page or redirect target."""
    page = client.get("/lookup").get_data(as_text=True)
    response = client.post("/submit", data={"csrf_token": csrf_token(page), **form})
    return response.status_code, response.location or response.get_data(as_text=True)


def stored_message(settings: Settings, offline_key: OfflineKey) -> str:
    """The one message on disk, decrypted as staff would on the workstation."""
    (found,) = settings.store_dir.rglob("*-msg.gpg")
    return offline_key.decrypt(found.read_bytes()).decode()


# The answers' labels, which are not questions: the choices, and the urgent box's (issue 13).
ANSWER_LABELS = ("Yes", "No", "I'm not sure", "Me", "Someone else", "Both")
ANSWER_LABELS += ("Yes, please look at this first",)


def test_every_question_on_the_form_is_marked_optional(source_client: FlaskClient) -> None:
    new_source(source_client)
    page = source_client.get("/lookup").get_data(as_text=True)
    form = page[page.index('action="/submit"') : page.index("</form>", page.index("/submit"))]
    questions = [
        text
        for text in re.findall(r"<(?:label for|legend)[^>]*>([^<]+)<", form)
        if text not in ANSWER_LABELS
    ]
    assert questions == [
        "What is happening? (optional)",
        "Where does it happen? (optional)",
        "When does it happen? (optional)",
        "Is anyone in danger right now? (optional)",
        "Is this about you or someone else? (optional)",
        "Anything else? (optional)",
        "Or write it all in your own words (optional)",
        "Do you need us to look at this first? (optional)",
        "Add files (optional, up to 2 GB)",
    ]
    assert " required" not in form
    assert "Say as much or as little as you like." in page


def test_answers_are_encrypted_together_with_their_questions(
    source_client: FlaskClient, settings: Settings, offline_key: OfflineKey
) -> None:
    new_source(source_client)
    assert submit(source_client, ANSWERS) == (302, "/sent")
    assert len(list(settings.store_dir.rglob("*.gpg"))) == 1  # one message, nothing else
    assert stored_message(settings, offline_key) == (
        "Guided report. Every question was optional.\n\n"
        "What is happening?\nA man pays my brother to take bags on the train.\n\n"
        "Where?\nThe park by the station\n\n"
        "When?\nEvery Friday after school\n\n"
        "Is anyone in danger right now?\nNot sure\n\n"
        "Is this about you or someone else?\nSomeone else\n\n"
        "Anything else?\nHe has a knife.\n\n"
        "In their own words:\nPlease help him."
    )


def test_one_answer_alone_is_enough(
    source_client: FlaskClient, settings: Settings, offline_key: OfflineKey
) -> None:
    new_source(source_client)
    assert submit(source_client, {"danger": "yes"}) == (302, "/sent")
    assert stored_message(settings, offline_key).endswith("Is anyone in danger right now?\nYes")


def test_free_text_alone_is_sent_as_written(
    source_client: FlaskClient, settings: Settings, offline_key: OfflineKey
) -> None:
    new_source(source_client)
    assert submit(source_client, {"msg": "just my words"})[0] == 302
    assert stored_message(settings, offline_key) == "just my words"


def test_staff_learn_the_language_to_reply_in(
    source_client: FlaskClient, settings: Settings, offline_key: OfflineKey
) -> None:
    source_client.get("/?l=pl")
    new_source(source_client)
    assert submit(source_client, {"msg": "Pomocy, proszę."})[0] == 302
    assert stored_message(settings, offline_key) == (
        "Guided report. Every question was optional. The page was in Polish.\n\n"
        "In their own words:\nPomocy, proszę."
    )


def test_an_empty_report_is_refused_and_a_made_up_choice_is_no_answer(
    source_client: FlaskClient, settings: Settings
) -> None:
    new_source(source_client)
    status, page = submit(source_client, {"what": "   ", "danger": "maybe", "who": ""})
    assert status == 400
    assert "Please write a message or choose a file to send." in page
    assert not list(settings.store_dir.rglob("*.gpg"))


def test_a_refused_report_keeps_every_answer(
    source_client: FlaskClient, settings: Settings
) -> None:
    new_source(source_client)
    too_long = {**ANSWERS, "msg": "x" * settings.max_message_chars}
    status, page = submit(source_client, too_long)
    assert status == 400
    assert "too long" in page
    assert f'value="{ANSWERS["where"]}"' in page
    assert f">{ANSWERS['what']}</textarea>" in page
    assert 'id="danger-unsure" name="danger" value="unsure" checked' in page
    assert 'id="who-other" name="who" value="other" checked' in page
    assert not list(settings.store_dir.rglob("*.gpg"))


def test_report_is_read_from_a_form() -> None:
    report = GuidedReport.from_form({"where": "here", "danger": "no", "who": "nobody"})
    assert report.answers == {"where": "here", "danger": "no"}
    assert report.content() == "here\nno"
    assert not report.is_empty()
    assert GuidedReport.from_form({}).is_empty()
    assert GuidedReport.from_form({}).message("Polish") == ""
