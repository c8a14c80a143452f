"""The guided report: optional questions, free text, and one encrypted message for staff."""

from __future__ import annotations

from flask.testing import FlaskClient

from seethesigns.settings import Settings
from source_interface.guided_report import GuidedReport
from tests.conftest import OfflineKey, csrf_token
from tests.source_interface.test_journey import new_source

# Every field the form has ever had: "anything_else" and "msg" are from before issue 12, and
# a page left open in a tab may still post them.
ANSWERS = {
    "what": "A man pays my brother to take bags on the train.",
    "where": "The park by the station",
    "when": "Every Friday after school",
    "danger": "unsure",
    "who": "other",
    "child_name": "Sam",
    "child_age": "14",
    "child_school": "Hill Road School",
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
        "Name of the child at risk:\nSam\n\n"
        "Their age:\n14\n\n"
        "Their school:\nHill Road School\n\n"
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
    assert f'value="{ANSWERS["child_name"]}"' in page  # "someone else": their fields are kept
    assert f'value="{ANSWERS["child_school"]}"' in page
    # The one box holds what the old page's boxes held, so nothing typed is lost.
    box = page.split('name="what"', 1)[1].split("</textarea>", 1)[0]
    assert box.split(">", 1)[1].startswith(ANSWERS["what"] + "\n\n" + ANSWERS["anything_else"])
    assert page.count("</textarea>") == 1
    assert 'id="danger-unsure" name="danger" value="unsure" checked' in page
    assert 'id="who-other" name="who" value="other" checked' in page
    assert not list(settings.store_dir.rglob("*.gpg"))


def test_old_boxes_go_back_into_the_one_box() -> None:
    report = GuidedReport.from_form({"msg": "words", "anything_else": "more", "where": "here"})
    assert report.form_answers() == {"what": "more\n\nwords", "where": "here"}


def test_report_is_read_from_a_form() -> None:
    report = GuidedReport.from_form({"where": "here", "danger": "no", "who": "nobody"})
    assert report.answers == {"where": "here", "danger": "no"}
    assert report.content() == "here"  # the source's words; choices say nothing of their own
    assert not report.is_empty()
    assert GuidedReport.from_form({}).is_empty()
    assert GuidedReport.from_form({"who": "other"}).is_empty()  # chosen by the page's link
    assert GuidedReport.from_form({}).message("Polish") == ""


def test_the_child_at_risk_is_named_to_staff_in_english(
    source_client: FlaskClient, settings: Settings, offline_key: OfflineKey
) -> None:
    source_client.get("/?l=ro")
    new_source(source_client)
    form = {"what": "Fiul meu", "who": "other", "child_name": "Ștefan", "child_age": "13"}
    assert submit(source_client, form)[0] == 302
    assert stored_message(settings, offline_key) == (
        "Guided report. Every question was optional. The page was in Romanian.\n\n"
        "What is happening?\nFiul meu\n\n"
        "Is this about you or someone else?\nSomeone else\n\n"
        "Name of the child at risk:\nȘtefan\n\n"
        "Their age:\n13"
    )


def test_a_page_left_open_from_before_still_sends_its_old_fields(
    source_client: FlaskClient, settings: Settings, offline_key: OfflineKey
) -> None:
    new_source(source_client)
    old_page = {"what": "Bags on the train.", "anything_else": "A knife.", "msg": "Help."}
    assert submit(source_client, old_page) == (302, "/sent")
    message = stored_message(settings, offline_key)
    assert "What is happening?\nBags on the train." in message
    assert "Anything else?\nA knife." in message
    assert message.endswith("In their own words:\nHelp.")
