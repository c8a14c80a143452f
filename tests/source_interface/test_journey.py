"""The source's journey through the source interface, with real GnuPG and a real database."""

from __future__ import annotations

import io
import re

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from seethesigns.codename_reading import correct_word
from tests.conftest import OfflineKey, create_form, csrf_token

CODENAME = re.compile(r'<p class="codename" id="codename">([a-z -]+)</p>')


def new_source(client: FlaskClient) -> str:
    """Go through /generate and /create; return the codename shown."""
    page = client.get("/generate").get_data(as_text=True)
    codename = CODENAME.search(page).group(1)
    form = create_form(page)
    response = client.post("/create", data=form)
    assert response.status_code == 302
    return codename


def test_landing_page_offers_two_ways_in(source_client: FlaskClient) -> None:
    page = source_client.get("/").get_data(as_text=True)
    assert "Start a new report" in page
    assert "I have a codename" in page
    assert "<script" not in page


def test_codename_is_seven_words_and_differs_per_page(source_client: FlaskClient) -> None:
    first = CODENAME.search(source_client.get("/generate").get_data(as_text=True)).group(1)
    second = CODENAME.search(source_client.get("/generate").get_data(as_text=True)).group(1)
    assert len(first.split()) == 7
    assert first != second


def test_submit_message_and_file_then_login_again(
    source_client: FlaskClient, settings, offline_key: OfflineKey
) -> None:
    codename = new_source(source_client)
    page = source_client.get("/lookup").get_data(as_text=True)
    response = source_client.post(
        "/submit",
        data={
            "csrf_token": csrf_token(page),
            "msg": "hello from a test",
            "fh": (io.BytesIO(b"file body"), "notes.txt"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    stored = sorted(p.name for p in settings.store_dir.rglob("*.gpg"))
    assert len(stored) == 2
    assert stored[0].startswith("1-") and stored[0].endswith("-msg.gpg")
    assert stored[1].startswith("2-") and stored[1].endswith("-doc.gz.gpg")
    msg = next(settings.store_dir.rglob("*-msg.gpg"))
    assert offline_key.decrypt(msg.read_bytes()) == b"hello from a test"

    source_client.post("/logout", data={"csrf_token": csrf_token(page)})
    assert source_client.get("/lookup").status_code == 302
    login_page = source_client.get("/login").get_data(as_text=True)
    response = source_client.post(
        "/login", data={"csrf_token": csrf_token(login_page), "codename": codename}
    )
    assert response.status_code == 302
    assert source_client.get("/lookup").status_code == 200


def test_wrong_codename_is_refused(source_client: FlaskClient) -> None:
    new_source(source_client)
    page = source_client.get("/login").get_data(as_text=True)
    response = source_client.post(
        "/login",
        data={
            "csrf_token": csrf_token(page),
            "codename": "zebra tiger lemon river candy violin wagon",
        },
    )
    assert response.status_code == 401
    assert "didn't work" in response.get_data(as_text=True)


def log_in(client: FlaskClient, typed: str) -> TestResponse:
    """Post typed to the login form."""
    page = client.get("/login").get_data(as_text=True)
    return client.post("/login", data={"csrf_token": csrf_token(page), "codename": typed})


def test_a_codename_with_a_typo_and_a_shortened_word_logs_in(source_client: FlaskClient) -> None:
    """Issue 12: one typo, or the start of a word, in each of three words; caps and spaces."""
    codename = new_source(source_client)
    source_client.post(
        "/logout", data={"csrf_token": csrf_token(source_client.get("/lookup").text)}
    )
    words = codename.split(" ")
    # The start of a word, unless it would also be one edit from another word.
    words[1] = words[1][:-1] if correct_word(words[1][:-1]) == words[1] else words[1]
    words[3] = words[3] + "q"
    words[5] = "x" + words[5][1:] if correct_word("x" + words[5][1:]) else words[5]
    typed = "  " + "   ".join(words).upper() + " "
    response = log_in(source_client, typed)
    assert response.headers["Location"] == "/lookup"


def test_a_word_not_on_the_list_is_named_by_its_number_only(source_client: FlaskClient) -> None:
    codename = new_source(source_client)
    source_client.post(
        "/logout", data={"csrf_token": csrf_token(source_client.get("/lookup").text)}
    )
    words = codename.split(" ")
    words[2] = "qqqqqq"
    response = log_in(source_client, " ".join(words))
    page = response.get_data(as_text=True)
    assert response.status_code == 401
    assert "Check word 3. It is not one of our words." in page
    assert "didn't work" not in page
    # Nothing typed is put back into a page that could be kept.
    assert "qqqqqq" not in page and " ".join(words[:2]) not in page
    assert source_client.get("/lookup").status_code == 302


def test_a_codename_with_too_few_words_says_so(source_client: FlaskClient) -> None:
    codename = new_source(source_client)
    source_client.post(
        "/logout", data={"csrf_token": csrf_token(source_client.get("/lookup").text)}
    )
    response = log_in(source_client, " ".join(codename.split(" ")[:6]))
    assert response.status_code == 401
    assert "Your codename has seven words." in response.get_data(as_text=True)


def test_empty_submission_is_refused_and_keeps_nothing(
    source_client: FlaskClient, settings
) -> None:
    new_source(source_client)
    page = source_client.get("/lookup").get_data(as_text=True)
    response = source_client.post("/submit", data={"csrf_token": csrf_token(page), "msg": "  "})
    assert response.status_code == 400
    assert "Please write a message" in response.get_data(as_text=True)
    assert not list(settings.store_dir.rglob("*.gpg"))
