"""[alerts] in the configuration: optional, typed, and every error names its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from seethesigns.settings import AlertSettings, SettingsError, load_settings
from tests.seethesigns.test_settings import valid_config, write

MINIMAL = '\n[alerts]\nhost = "mail.example.org"\nfrom = "alerts@example.org"\n'


def test_without_alerts_nothing_is_sent(tmp_path: Path) -> None:
    assert load_settings(write(tmp_path, valid_config(tmp_path / "data"))).alerts is None


def test_a_minimal_section_takes_the_documented_defaults(tmp_path: Path) -> None:
    loaded = load_settings(write(tmp_path, valid_config(tmp_path / "data") + MINIMAL)).alerts
    assert loaded == AlertSettings(host="mail.example.org", from_address="alerts@example.org")
    assert (loaded.port, loaded.poll_seconds, loaded.urgent_repeat_minutes) == (587, 2.0, 5.0)
    assert loaded.socks_proxy is None and loaded.ca_file is None


def test_paths_and_the_socks_proxy_are_read(tmp_path: Path) -> None:
    extra = MINIMAL + (
        'password_file = "alerts-password"\nca_file = "/etc/ssl/relay.pem"\n'
        'socks_proxy = "127.0.0.1:9050"\nport = 465\nusername = "u"\n'
    )
    loaded = load_settings(write(tmp_path, valid_config(tmp_path / "data") + extra)).alerts
    assert loaded is not None
    assert loaded.password_file == (tmp_path / "data" / "alerts-password").resolve()
    assert loaded.ca_file == Path("/etc/ssl/relay.pem")
    assert loaded.socks_proxy == ("127.0.0.1", 9050)
    assert (loaded.port, loaded.username) == (465, "u")


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ('[alerts]\nfrom = "a@b.org"\n', r"\[alerts\] host is missing"),
        ('[alerts]\nhost = "x"\n', r"\[alerts\] from is missing"),
        ('[alerts]\nhost = " "\nfrom = "a@b.org"\n', r"\[alerts\] host must not be empty"),
        ('[alerts]\nhost = "x"\nfrom = "nobody"\n', r"\[alerts\] from must be a plain"),
        ('[alerts]\nhost = "x"\nfrom = "a@b.org\\r\\nBcc: c@d.org"\n', r"from must be a plain"),
        (MINIMAL + "starttls = false\n", r"\[alerts\] starttls must be true"),
        (MINIMAL + "port = 0\n", r"\[alerts\] port must be a TCP port"),
        (MINIMAL + 'port = "25"\n', r"\[alerts\] port must be of type int"),
        (MINIMAL + 'socks_proxy = "9050"\n', r"\[alerts\] socks_proxy must be HOST:PORT"),
        (MINIMAL + 'socks_proxy = "h:99999"\n', r"\[alerts\] socks_proxy must be a TCP port"),
        (MINIMAL + "poll_seconds = 0\n", r"\[alerts\] poll_seconds must be positive"),
        (MINIMAL + "urgent_repeat_minutes = -1\n", r"urgent_repeat_minutes must be positive"),
        (MINIMAL + 'password_file = ""\n', r"\[alerts\] password_file must not be empty"),
        ('alerts = "yes"\n', r"\[alerts\] must be a table"),
    ],
)
def test_an_invalid_value_is_named(tmp_path: Path, lines: str, message: str) -> None:
    text = valid_config(tmp_path / "data")
    if lines.startswith("alerts ="):
        text = lines + text
    else:
        text += "\n" + lines
    with pytest.raises(SettingsError, match=message):
        load_settings(write(tmp_path, text))
