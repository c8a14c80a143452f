"""After sending: honest words about what happens next, and waiting for a first reply (issue 12)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from seethesigns.db import make_engine, make_session_factory
from seethesigns.encryption import GpgService
from seethesigns.instance_settings import ReplyPromise, WhoReads, update_reply_promise
from seethesigns.models import Source, Staff
from seethesigns.models.base import utcnow
from seethesigns.replies import send_reply
from seethesigns.settings import Settings
from seethesigns.staff_accounts import StaffAccounts
from seethesigns.storage import Store
from source_interface.session_state import WAITING_SINCE
from tests.conftest import csrf_token
from tests.source_interface.readability import visible_text
from tests.source_interface.test_copy import main_part
from tests.source_interface.test_journey import new_source

REFRESH = re.compile(r'<meta http-equiv="refresh" content="(\d+)">')
NOT_IN_TROUBLE = "You are not in trouble."


def send_report(client: FlaskClient, **answers: str) -> str:
    """Send a report from the logged-in source; return the confirmation's <main> text."""
    page = client.get("/lookup").get_data(as_text=True)
    sent = client.post("/submit", data={"csrf_token": csrf_token(page), **answers})
    assert sent.status_code == 302 and sent.location == "/sent"
    return main_text(client, "/sent")


def main_text(client: FlaskClient, path: str) -> str:
    """A page's <main> as the reader sees it, in one string."""
    return " ".join(visible_text(main_part(client.get(path).get_data(as_text=True))))


def set_promise(settings: Settings, promise: ReplyPromise) -> None:
    """Change the instance's reply settings, as the admin form does."""
    engine = make_engine(settings.database_url)
    with make_session_factory(engine)() as db:
        update_reply_promise(db, promise)
    engine.dispose()


def staff_reply(settings: Settings, text: str) -> None:
    """A staff member replies to the instance's one source, through the domain code."""
    engine = make_engine(settings.database_url)
    with make_session_factory(engine)() as db:
        staff = db.scalar(select(Staff).where(Staff.username == "replier"))
        if staff is None:
            staff = StaffAccounts(settings.argon2, settings.login).create(db, "replier").staff
        gpg = GpgService(
            settings.gnupg_homedir, settings.submission_key_fingerprint, settings.tmp_dir
        )
        source = db.scalars(select(Source)).one()
        send_reply(db, Store(settings.store_dir), gpg, source, staff, text)
    engine.dispose()


def started_waiting_ago(client: FlaskClient, ago: timedelta) -> None:
    """Put an earlier start of the wait into the server-side session, as the app writes it."""
    with client.session_transaction() as session:
        session[WAITING_SINCE] = (utcnow() - ago).isoformat()


def test_a_child_about_themselves_is_told_they_are_not_in_trouble(
    source_client: FlaskClient,
) -> None:
    new_source(source_client)
    for who in ("me", "both"):
        text = send_report(source_client, what="A man makes me carry bags.", who=who)
        assert NOT_IN_TROUBLE in text, who
        assert "NSPCC" not in text, who  # the adult helpline is for adults


def test_a_parent_or_friend_is_thanked_and_offered_the_adult_helpline(
    source_client: FlaskClient,
) -> None:
    new_source(source_client)
    text = send_report(source_client, what="My son comes home with new phones.", who="other")
    assert "not in trouble" not in text
    assert "Thank you for telling us about someone else." in text
    assert "their name, age or school" in text
    page = main_part(source_client.get("/sent").get_data(as_text=True))
    assert "<bdi>NSPCC</bdi>" in page and "0808\xa0800\xa05000" in page


def test_no_answer_to_who_gets_words_true_for_both(source_client: FlaskClient) -> None:
    new_source(source_client)
    text = send_report(source_client, what="Something is happening.")
    assert NOT_IN_TROUBLE not in text
    assert "If this is about you, you are not in trouble." in text


def test_the_confirmation_says_what_will_happen_and_who_may_be_told(
    source_client: FlaskClient,
) -> None:
    new_source(source_client)
    text = send_report(source_client, what="Older boys send me to other towns.", who="me")
    assert "Your report is read by a team of social workers." in text
    assert "They will write back to you here" in text
    assert "may share what you sent with the police, or a doctor or nurse" in text
    assert "won't tell anyone just because you asked for help" in text
    assert "in danger or being hurt" in text and "try to tell you first" in text
    assert "secret" not in text.lower()  # no promise of secrecy
    landing = " ".join(visible_text(source_client.get("/").get_data(as_text=True)))
    assert "council" not in landing.lower()
    assert "Your report is read by a team of social workers." in landing
    assert "may share what you sent with the police, or a doctor or nurse" in landing
    assert "won't tell anyone just because you asked for help" in landing


@pytest.mark.parametrize(
    ("hours", "said"),
    [
        (1, "We usually reply within an hour."),
        (6, "We usually reply within 6 hours."),
        (23, "We usually reply within 23 hours."),
        (24, "We usually reply within a day."),
        (25, "We usually reply within 2 days."),  # rounded up: never sooner than set
        (48, "We usually reply within 2 days."),
        (168, "We usually reply within a week."),
        (200, "We usually reply within 9 days."),
        (336, "We usually reply within 2 weeks."),
    ],
)
def test_the_usual_reply_time_comes_from_the_settings_in_plain_words(
    source_client: FlaskClient, settings: Settings, hours: int, said: str
) -> None:
    set_promise(settings, ReplyPromise(reply_within_hours=hours))
    new_source(source_client)
    assert said in send_report(source_client, what="A report.")


def test_the_reply_time_is_translated_with_each_language_s_plurals(
    source_client: FlaskClient, settings: Settings
) -> None:
    new_source(source_client)
    send_report(source_client, what="A report.")
    expected = {
        1: {"pl": "w ciągu godziny.", "ro": "cel mult o oră.", "ar": "خلال ساعة."},
        2: {"pl": "w ciągu 2 godzin.", "ro": "cel mult 2 ore.", "ar": "خلال ساعتين."},
        5: {"pl": "w ciągu 5 godzin.", "ro": "cel mult 5 ore.", "ar": "خلال 5 ساعات."},
        20: {"pl": "w ciągu 20 godzin.", "ro": "cel mult 20 de ore.", "ar": "خلال 20 ساعة."},
        48: {"pl": "w ciągu 2 dni.", "ro": "cel mult 2 zile.", "ar": "خلال يومين."},
        300: {"pl": "w ciągu 13 dni.", "ro": "cel mult 13 zile.", "ar": "خلال 13 يومًا."},
        336: {"pl": "w ciągu 2 tygodni.", "ro": "cel mult 2 săptămâni.", "ar": "خلال أسبوعين."},
    }
    for hours, by_language in expected.items():
        set_promise(settings, ReplyPromise(reply_within_hours=hours))
        for language, words in by_language.items():
            page = source_client.get(f"/sent?l={language}").get_data(as_text=True)
            assert words in main_part(page), (hours, language)


def test_the_length_of_the_wait_is_translated_with_each_language_s_plurals(
    source_client: FlaskClient, settings: Settings
) -> None:
    new_source(source_client)
    send_report(source_client, what="A report.")
    expected = {
        2: {"pl": "najwyżej 2 minuty.", "ro": "cel mult 2 minute.", "ar": "إلى دقيقتين."},
        10: {"pl": "najwyżej 10 minut.", "ro": "cel mult 10 minute.", "ar": "إلى 10 دقائق."},
        25: {"pl": "najwyżej 25 minut.", "ro": "cel mult 25 de minute.", "ar": "إلى 25 دقيقة."},
    }
    for minutes, by_language in expected.items():
        set_promise(settings, ReplyPromise(wait_minutes=minutes))
        for language, words in by_language.items():
            page = source_client.get(f"/wait?l={language}").get_data(as_text=True)
            assert words in main_part(page), (minutes, language)


def test_waiting_page_refreshes_itself_until_the_wait_is_over(
    source_client: FlaskClient, settings: Settings
) -> None:
    set_promise(settings, ReplyPromise(wait_minutes=10))
    new_source(source_client)
    send_report(source_client, what="A report.", who="me")
    sent = source_client.get("/sent").get_data(as_text=True)
    assert '<a class="button" href="/wait">Wait here for a reply</a>' in sent
    waiting = source_client.get("/wait")
    html = waiting.get_data(as_text=True)
    assert waiting.status_code == 200
    head = html[: html.index("</head>")]
    assert REFRESH.findall(head) == ["20"]  # in <head>, where a browser acts on it
    assert '<a href="/wait">Check now</a>' in html
    assert "You can wait here for up to 10 minutes." in html
    assert re.findall(r"<title>(.*?)</title>", html) == ["Notes"]
    assert "<script" not in html.lower()
    # Near the end, the last check lands when the wait is over, not 20 seconds after.
    started_waiting_ago(source_client, timedelta(minutes=10) - timedelta(seconds=5))
    assert REFRESH.findall(source_client.get("/wait").get_data(as_text=True)) in (["5"], ["4"])
    started_waiting_ago(source_client, timedelta(minutes=10, seconds=1))
    html = source_client.get("/wait").get_data(as_text=True)
    assert REFRESH.findall(html) == []
    text = main_text(source_client, "/wait")
    assert "No reply yet" in text and "We usually reply within a day." in text
    assert '<a href="/wait">Check again</a>' in html
    # Checking again does not start a new wait: that takes a new report.
    assert REFRESH.findall(source_client.get("/wait").get_data(as_text=True)) == []
    send_report(source_client, what="More.")
    assert REFRESH.findall(source_client.get("/wait").get_data(as_text=True)) == ["20"]


def test_a_shorter_wait_set_by_the_admin_is_kept(
    source_client: FlaskClient, settings: Settings
) -> None:
    set_promise(settings, ReplyPromise(wait_minutes=1))
    new_source(source_client)
    send_report(source_client, what="A report.")
    assert "up to a minute" in main_text(source_client, "/wait")
    started_waiting_ago(source_client, timedelta(seconds=61))
    assert REFRESH.findall(source_client.get("/wait").get_data(as_text=True)) == []


def test_a_staff_reply_appears_on_the_waiting_page_and_the_refresh_stops(
    source_client: FlaskClient, settings: Settings
) -> None:
    new_source(source_client)
    staff_reply(settings, "An old reply, before this report.")
    send_report(source_client, what="Another report.")
    html = source_client.get("/wait").get_data(as_text=True)
    assert REFRESH.findall(html) == ["20"]  # only replies since the report count
    assert "An old reply" not in html
    staff_reply(settings, "We read it. Are you safe <now>?")
    html = source_client.get("/wait").get_data(as_text=True)
    assert REFRESH.findall(html) == []
    assert "We read it. Are you safe &lt;now&gt;?" in html  # decrypted, and escaped
    assert "An old reply" not in html
    assert '<a class="button" href="/lookup">Go to your report</a>' in html


def test_no_wait_is_offered_when_the_admin_turned_it_off(
    source_client: FlaskClient, settings: Settings
) -> None:
    set_promise(settings, ReplyPromise(wait_offered=False))
    new_source(source_client)
    text = send_report(source_client, what="A report.")
    assert "Wait here" not in text
    assert 'href="/wait"' not in source_client.get("/sent").get_data(as_text=True)
    response = source_client.get("/wait")
    assert response.status_code == 302 and response.location == "/lookup"


def test_waiting_needs_a_login(source_client: FlaskClient) -> None:
    response = source_client.get("/wait")
    assert response.status_code == 302 and response.location == "/login"


def test_who_reads_comes_from_the_settings_in_every_language(
    source_client: FlaskClient, settings: Settings
) -> None:
    """Issue 14: the partnership's own words, inside each language's sentence, isolated."""
    engine = make_engine(settings.database_url)
    with make_session_factory(engine)() as db:
        update_reply_promise(db, ReplyPromise(), WhoReads("Anytown MASH", "Essex Police"))
    engine.dispose()
    new_source(source_client)
    text = send_report(source_client, what="Older boys send me to other towns.", who="me")
    assert "Your report is read by Anytown MASH." in text
    assert "may share what you sent with Essex Police, to keep them safe." in text
    assert "a team of social workers" not in text
    page = source_client.get("/?l=ar").get_data(as_text=True)
    assert 'dir="rtl"' in page
    assert "يقرأ بلاغك هؤلاء: <bdi>Anytown MASH</bdi>" in page
    assert "<bdi>Essex Police</bdi>" in page
