"""Loading the instance's TOML configuration: every required value, every clear error."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import pytest

from seethesigns.config_file import render_config
from seethesigns.settings import CONFIG_ENV, Settings, SettingsError, load_settings

FINGERPRINT = "A" * 40
REQUIRED = [
    ("instance", "data_dir"),
    ("gnupg", "submission_key_fingerprint"),
    ("codenames", "pepper_filesystem_id"),
    ("codenames", "pepper_key_secret"),
    ("source", "secret_key"),
    ("source", "session_cookie_name"),
    ("journalist", "secret_key"),
    ("journalist", "session_cookie_name"),
]


def valid_config(data_dir: Path) -> str:
    """A complete configuration as `seethesigns init` writes it."""
    return render_config(data_dir, FINGERPRINT)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "seethesigns.toml"
    path.write_text(text, "utf-8")
    return path


def without_key(text: str, key: str) -> str:
    """The configuration with the line `key = ...` removed."""
    removed, count = re.subn(rf"(?m)^{key} = .*\n", "", text, count=1)
    assert count == 1, key
    return removed


def set_value(text: str, section: str, key: str, value: str) -> str:
    """The configuration with `key` in `[section]` set to the TOML literal value."""
    head, _, rest = text.partition(f"[{section}]\n")
    assert rest, section
    replaced, count = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", rest, count=1)
    assert count == 1, key
    return f"{head}[{section}]\n{replaced}"


def test_valid_config_loads(tmp_path: Path) -> None:
    loaded = load_settings(write(tmp_path, valid_config(tmp_path / "data")))
    assert loaded.data_dir == (tmp_path / "data").resolve()
    assert loaded.submission_key_fingerprint == FINGERPRINT
    assert len(loaded.pepper_filesystem_id) == len(loaded.pepper_key_secret) == 32
    assert loaded.gnupg_homedir == loaded.data_dir / "gnupg"
    assert loaded.store_dir == loaded.data_dir / "store"
    assert loaded.tmp_dir == loaded.data_dir / "tmp"
    assert loaded.database_url == f"sqlite:///{loaded.data_dir}/seethesigns.db"
    assert loaded.source.session_cookie_name == "sts_source"
    assert loaded.journalist.session_cookie_name == "sts_staff"
    assert loaded.argon2.memory_cost_kib == 65536
    assert loaded.argon2.max_concurrent == (os.cpu_count() or 1)
    assert loaded.argon2.busy_wait_seconds == 1.0
    assert loaded.login.max_failures == 5
    assert loaded.login.session_max_minutes == 480
    assert loaded.login.reauth_minutes == 5


def add_value(text: str, section: str, key: str, value: str) -> str:
    """The configuration with `key = value` added at the top of `[section]`."""
    head, _, rest = text.partition(f"[{section}]\n")
    assert rest and f"\n{key} = " not in rest.split("\n[", 1)[0], (section, key)
    return f"{head}[{section}]\n{key} = {value}\n{rest}"


def test_the_cap_on_concurrent_codename_derivations_is_a_setting(tmp_path: Path) -> None:
    text = add_value(valid_config(tmp_path), "argon2", "max_concurrent", "3")
    text = add_value(text, "argon2", "busy_wait_seconds", "0")
    loaded = load_settings(write(tmp_path, text))
    assert (loaded.argon2.max_concurrent, loaded.argon2.busy_wait_seconds) == (3, 0.0)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("max_concurrent", "0", "[argon2] max_concurrent must be positive"),
        ("max_concurrent", "1.5", "[argon2] max_concurrent must be of type int"),
        ("busy_wait_seconds", "-1", "[argon2] busy_wait_seconds must not be negative"),
        ("busy_wait_seconds", '"1"', "[argon2] busy_wait_seconds must be of type float"),
    ],
)
def test_an_invalid_cap_is_named(tmp_path: Path, key: str, value: str, message: str) -> None:
    text = add_value(valid_config(tmp_path), "argon2", key, value)
    with pytest.raises(SettingsError, match=re.escape(message)):
        load_settings(write(tmp_path, text))


def test_relative_data_dir_is_taken_from_the_config_file(tmp_path: Path) -> None:
    text = set_value(valid_config(tmp_path), "instance", "data_dir", '"data"')
    assert load_settings(write(tmp_path, text)).data_dir == (tmp_path / "data").resolve()


@pytest.mark.parametrize(("section", "key"), REQUIRED)
def test_missing_required_key_is_named(tmp_path: Path, section: str, key: str) -> None:
    text = valid_config(tmp_path)
    if section in ("source", "journalist"):
        head, _, rest = text.partition(f"[{section}]\n")
        text = f"{head}[{section}]\n{without_key(rest, key)}"
    else:
        text = without_key(text, key)
    with pytest.raises(SettingsError, match=re.escape(f"[{section}] {key} is missing")):
        load_settings(write(tmp_path, text))


@pytest.mark.parametrize("section", ["instance", "gnupg", "codenames", "source", "journalist"])
def test_missing_section_is_named(tmp_path: Path, section: str) -> None:
    text = valid_config(tmp_path).replace(f"[{section}]\n", "[renamed]\n")
    # Two [renamed] tables would be invalid TOML; rename only one section per test.
    with pytest.raises(SettingsError, match=re.escape(f"section [{section}] is missing")):
        load_settings(write(tmp_path, text))


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("argon2", "time_cost", '"3"', "[argon2] time_cost must be of type int"),
        ("argon2", "time_cost", "true", "[argon2] time_cost must be an integer"),
        ("argon2", "time_cost", "0", "[argon2] time_cost must be positive"),
        ("argon2", "memory_cost_kib", "4", "[argon2] memory_cost_kib must be at least 8"),
        ("login", "max_failures", "-1", "[login] max_failures must be positive"),
        ("login", "session_max_minutes", "0", "[login] session_max_minutes must be positive"),
        ("login", "reauth_minutes", "0", "[login] reauth_minutes must be positive"),
        ("uploads", "max_bytes", "1.5", "[uploads] max_bytes must be of type int"),
        ("source", "session_idle_minutes", "0", "[source] session_idle_minutes must be positive"),
        ("source", "session_cookie_name", '"a b"', "[source] session_cookie_name must be a plain"),
        ("source", "secret_key", "42", "[source] secret_key must be of type str"),
        ("gnupg", "submission_key_fingerprint", '"ABCD"', "submission_key_fingerprint is not a"),
        (
            "gnupg",
            "key_check_interval_seconds",
            '"30"',
            "[gnupg] key_check_interval_seconds must be of type float",
        ),
        ("instance", "data_dir", "7", "[instance] data_dir must be of type str"),
    ],
)
def test_invalid_value_is_named(
    tmp_path: Path, section: str, key: str, value: str, message: str
) -> None:
    text = set_value(valid_config(tmp_path), section, key, value)
    with pytest.raises(SettingsError, match=re.escape(message)):
        load_settings(write(tmp_path, text))


def test_integer_where_float_expected_is_accepted(tmp_path: Path) -> None:
    text = set_value(valid_config(tmp_path), "gnupg", "key_check_interval_seconds", "5")
    assert load_settings(write(tmp_path, text)).key_check_interval_seconds == 5.0


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"' + "ab" * 31 + '"', "must be 32 bytes"),
        ('"' + "ab" * 33 + '"', "must be 32 bytes"),
        ('"' + "zz" * 32 + '"', "must be hexadecimal"),
    ],
)
def test_pepper_must_be_32_bytes_of_hex(tmp_path: Path, value: str, message: str) -> None:
    text = set_value(valid_config(tmp_path), "codenames", "pepper_key_secret", value)
    with pytest.raises(SettingsError, match=re.escape(f"[codenames] pepper_key_secret {message}")):
        load_settings(write(tmp_path, text))


def test_identical_peppers_are_refused(tmp_path: Path) -> None:
    text = valid_config(tmp_path)
    pepper = re.search(r'pepper_filesystem_id = "([0-9a-f]+)"', text).group(1)
    text = set_value(text, "codenames", "pepper_key_secret", f'"{pepper}"')
    with pytest.raises(SettingsError, match="pepper_filesystem_id and pepper_key_secret must"):
        load_settings(write(tmp_path, text))


def test_identical_cookie_names_are_refused(tmp_path: Path) -> None:
    text = set_value(valid_config(tmp_path), "journalist", "session_cookie_name", '"sts_source"')
    with pytest.raises(SettingsError, match="session_cookie_name must differ"):
        load_settings(write(tmp_path, text))


def test_identical_secret_keys_are_refused(tmp_path: Path) -> None:
    text = valid_config(tmp_path)
    key = re.search(r'(?m)^secret_key = "([0-9a-f]+)"', text).group(1)
    text = set_value(text, "journalist", "secret_key", f'"{key}"')
    with pytest.raises(SettingsError, match="secret_key must differ"):
        load_settings(write(tmp_path, text))


def test_environment_variable_is_the_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, valid_config(tmp_path / "from-env"))
    monkeypatch.setenv(CONFIG_ENV, str(path))
    assert load_settings().data_dir == (tmp_path / "from-env").resolve()


def test_no_path_and_no_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    with pytest.raises(SettingsError, match=CONFIG_ENV):
        load_settings()


def test_nonexistent_file(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "nowhere.toml")


def test_invalid_toml(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="is not valid TOML"):
        load_settings(write(tmp_path, "[instance\ndata_dir = 1\n"))


def test_settings_are_frozen(tmp_path: Path) -> None:
    loaded = load_settings(write(tmp_path, valid_config(tmp_path)))
    assert isinstance(loaded, Settings)
    with pytest.raises(dataclasses.FrozenInstanceError):
        loaded.max_upload_bytes = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        loaded.source.secret_key = b""  # type: ignore[misc]


def test_tor_defaults_to_debians_control_socket_and_a_keys_dir_in_the_data_dir(
    tmp_path: Path,
) -> None:
    text = re.sub(r"(?s)\n\[tor\]\n.*", "\n", valid_config(tmp_path / "data"))
    tor = load_settings(write(tmp_path, text)).tor
    assert tor.control_port is None
    assert tor.control_socket == Path("/run/tor/control")
    assert tor.keys_dir == (tmp_path / "data" / "onion").resolve()
    assert (tor.source_port, tor.journalist_port) == (8080, 8081)


def test_tor_control_port_replaces_the_socket(tmp_path: Path) -> None:
    text = valid_config(tmp_path / "data").replace(
        'control_socket = "/run/tor/control"', "control_port = 9051"
    )
    tor = load_settings(write(tmp_path, text)).tor
    assert (tor.control_port, tor.control_socket) == (9051, None)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("control_port", "70000", "[tor] control_port must be a TCP port"),
        ("control_port", '"9051"', "[tor] control_port must be of type int"),
        ("source_port", "0", "[tor] source_port must be a TCP port"),
        ("pow_queue_rate", "0", "[tor] pow_queue_rate must be positive"),
        ("keys_dir", "7", "[tor] keys_dir must be of type str"),
    ],
)
def test_invalid_tor_values_are_named(tmp_path: Path, key: str, value: str, message: str) -> None:
    text = valid_config(tmp_path / "data")
    if key == "control_port":
        text = text.replace('control_socket = "/run/tor/control"', f"control_port = {value}")
    else:
        text = set_value(text, "tor", key, value)
    with pytest.raises(SettingsError, match=re.escape(message)):
        load_settings(write(tmp_path, text))


def test_tor_control_port_and_socket_together_are_refused(tmp_path: Path) -> None:
    text = valid_config(tmp_path / "data")
    text = text.replace(
        'control_socket = "/run/tor/control"', 'control_socket = "/x"\ncontrol_port = 9051'
    )
    with pytest.raises(SettingsError, match="set control_port or control_socket, not both"):
        load_settings(write(tmp_path, text))


def test_serve_binds_where_the_onion_points_unless_a_front_is_configured(tmp_path: Path) -> None:
    text = set_value(valid_config(tmp_path / "data"), "tor", "source_port", "8180")
    plain = load_settings(write(tmp_path, text))
    assert (plain.serve_port("source"), plain.serve_port("journalist")) == (8180, 8081)
    assert not plain.behind_front("source")
    fronted = load_settings(
        write(tmp_path, text.replace("# source_port = 8090", "source_port = 8090"))
    )
    assert (fronted.serve_port("source"), fronted.serve_port("journalist")) == (8090, 8081)
    assert fronted.behind_front("source")
    assert not fronted.behind_front("journalist")
    assert fronted.tor.source_port == 8180  # where nginx listens and the onion points


def test_a_config_from_before_serve_existed_still_loads(tmp_path: Path) -> None:
    text = re.sub(r"(?s)\n\[serve\]\n.*", "\n", valid_config(tmp_path / "data"))
    assert "\n[serve]" not in text
    loaded = load_settings(write(tmp_path, text))
    assert (loaded.serve_port("source"), loaded.serve_port("journalist")) == (8080, 8081)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ("source_port = 0", "[serve] source_port must be a TCP port"),
        ('journalist_port = "8091"', "[serve] journalist_port must be of type int"),
        ("journalist_port = 8080", "[tor] source_port and [serve] journalist_port are both 8080"),
        (
            "source_port = 8090\njournalist_port = 8090",
            "[serve] source_port and [serve] journalist_port are both 8090",
        ),
    ],
)
def test_invalid_serve_ports_are_named(tmp_path: Path, lines: str, message: str) -> None:
    text = valid_config(tmp_path / "data").replace("[serve]\n", f"[serve]\n{lines}\n")
    with pytest.raises(SettingsError, match=re.escape(message)):
        load_settings(write(tmp_path, text))


def test_one_port_for_both_onion_services_is_refused(tmp_path: Path) -> None:
    text = set_value(valid_config(tmp_path / "data"), "tor", "journalist_port", "8080")
    with pytest.raises(SettingsError, match=r"\[tor\] source_port and \[tor\] journalist_port"):
        load_settings(write(tmp_path, text))
