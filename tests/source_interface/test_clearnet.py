"""The source interface through the HTTPS front (issue 17): honest words, and "require Tor"."""

from __future__ import annotations

from flask.testing import FlaskClient

from seethesigns.onion import OnionKeys
from seethesigns.settings import Settings
from tests.conftest import csrf_token
from tests.source_interface.conftest import Configure
from tests.source_interface.test_instance_settings import send
from tests.source_interface.test_journey import new_source

ONION_WORDS = "You are using Tor Browser"
CLEARNET_WORDS = "You are on the ordinary web."
TOR_PAGE = "Please use Tor Browser for this site"
REPORT = "a man at the park gives my brother money to take bags to another town"


def through_front(client: FlaskClient) -> FlaskClient:
    """Every request from client now carries the header nginx's HTTPS server sets."""
    client.environ_base["HTTP_X_SEETHESIGNS_FRONT"] = "https"
    return client


def test_the_onion_home_page_says_the_visit_is_hidden(source_client: FlaskClient) -> None:
    page = source_client.get("/").get_data(as_text=True)
    assert ONION_WORDS in page
    assert CLEARNET_WORDS not in page


def test_the_https_home_page_says_what_the_network_sees(source_client: FlaskClient) -> None:
    page = through_front(source_client).get("/").get_data(as_text=True)
    assert CLEARNET_WORDS in page
    assert "but not what you write" in page
    assert ONION_WORDS not in page


def test_any_other_value_of_the_header_is_the_onion(source_client: FlaskClient) -> None:
    page = source_client.get("/", headers={"X-SeeTheSigns-Front": "HTTPS "}).get_data(True)
    assert ONION_WORDS in page


def test_hide_your_visit_says_what_a_private_window_does_not_hide(
    source_client: FlaskClient,
) -> None:
    page = source_client.get("/hide-your-visit").get_data(as_text=True)
    assert "A private window does not hide your visit from the phone company" in page


def test_the_words_are_translated(source_client: FlaskClient) -> None:
    page = through_front(source_client).get("/?l=pl").get_data(as_text=True)
    assert "Jesteś w zwykłym internecie." in page


def stored_messages(settings: Settings) -> int:
    """How many encrypted messages are on disk."""
    return len(list(settings.store_dir.rglob("*-msg.gpg")))


def test_reports_are_taken_over_https_until_tor_is_required(
    source_client: FlaskClient, configure: Configure, settings: Settings
) -> None:
    through_front(source_client)
    new_source(source_client)
    status, _ = send(source_client, REPORT)
    assert status == 302
    # The form was open when an admin required Tor: sending it is refused, with the way on.
    token = csrf_token(source_client.get("/lookup").get_data(as_text=True))
    configure(require_tor=True)
    response = source_client.post("/submit", data={"csrf_token": token, "msg": REPORT})
    assert response.status_code == 403
    assert TOR_PAGE in response.get_data(as_text=True)
    assert stored_messages(settings) == 1


def test_with_tor_required_the_https_front_only_explains(
    source_client: FlaskClient, configure: Configure, settings: Settings
) -> None:
    configure(require_tor=True)
    through_front(source_client)
    address = OnionKeys(settings.tor.keys_dir).service_key("source").address
    for path in ("/", "/generate", "/login", "/lookup", "/signs"):
        response = source_client.get(path)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, path
        assert TOR_PAGE in page, path
        assert f"{address}.onion" in page, path
        assert "Leave this site" in page, path
    # Without a form token CSRF refuses it first (400); either way nothing is made.
    assert source_client.post("/create", data={}).status_code in (400, 403)
    assert source_client.get("/exit").status_code == 303


def test_with_tor_required_the_onion_is_unaffected(
    source_client: FlaskClient, configure: Configure
) -> None:
    configure(require_tor=True)
    new_source(source_client)
    status, _ = send(source_client, REPORT)
    assert status == 302
    assert TOR_PAGE not in source_client.get("/").get_data(as_text=True)
