"""The operator's command line, through click's runner and once as the installed script."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import gnupg
import pyotp
import pytest
from alembic.script import ScriptDirectory
from click.testing import CliRunner, Result
from sqlalchemy import text
from sqlalchemy.orm import Session

from seethesigns.cli import main
from seethesigns.cli_options import CONTROL_PORT_ENV, CONTROL_SOCKET_ENV
from seethesigns.db import alembic_config, make_engine
from seethesigns.settings import CONFIG_ENV, Argon2Settings, Settings, load_settings
from seethesigns.staff_accounts import StaffAccounts
from tests.conftest import OfflineKey, short_tmpdir
from tests.databases import TemplateDatabase, empty_database, schema_version

SCRIPT = Path(sys.executable).parent / "seethesigns"
QR_BLOCKS = set("█▀▄")


@pytest.fixture
def instance_dir() -> Iterator[Path]:
    """A short, empty directory for `init` to fill."""
    home = short_tmpdir("stcli")
    yield home
    subprocess.run(
        ["gpgconf", "--homedir", str(home / "data" / "gnupg"), "--kill", "all"], check=False
    )
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def public_key_file(offline_key: OfflineKey, instance_dir: Path) -> Path:
    """The armored public submission key, as the operator copies it over."""
    path = instance_dir / "submission.asc"
    path.write_text(offline_key.public_key)
    return path


@pytest.fixture
def config(settings: Settings) -> Path:
    """The configuration file of the settings fixture (cheap argon2)."""
    return settings.data_dir / "seethesigns.toml"


def run(*args: str, env: dict[str, str | None] | None = None) -> Result:
    """Invoke the command line in-process, with no configuration from the environment."""
    unset: dict[str, str | None] = dict.fromkeys((CONFIG_ENV, CONTROL_PORT_ENV, CONTROL_SOCKET_ENV))
    return CliRunner().invoke(main, list(args), env={**unset, **(env or {})})


def assert_clean_error(result: Result, message: str) -> None:
    """A failure a person can read: exit code 1, the message, no traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert message in result.output
    assert "Traceback" not in result.output


def database_version(database: Path) -> str:
    """The Alembic revision a SQLite database file is at."""
    return schema_version(f"sqlite:///{database}")


def test_init_creates_a_working_instance(
    instance_dir: Path, public_key_file: Path, offline_key: OfflineKey
) -> None:
    data_dir = instance_dir / "data"
    result = run("init", "--data-dir", str(data_dir), "--submission-key", str(public_key_file))
    assert result.exit_code == 0, result.output
    config = data_dir / "seethesigns.toml"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    loaded = load_settings(config)
    assert loaded.data_dir == data_dir.resolve()
    assert loaded.submission_key_fingerprint == offline_key.fingerprint
    assert loaded.argon2 == Argon2Settings()  # the production cost
    grouped = " ".join(offline_key.fingerprint[i : i + 4] for i in range(0, 40, 4))
    assert f"Submission key fingerprint: {grouped}" in result.output
    keys = gnupg.GPG(gnupghome=str(loaded.gnupg_homedir)).list_keys()
    assert [key["fingerprint"] for key in keys] == [offline_key.fingerprint]
    head = ScriptDirectory.from_config(alembic_config(loaded.database_url)).get_current_head()
    assert database_version(data_dir / "seethesigns.db") == head
    for sub in ("gnupg", "store", "tmp"):
        assert stat.S_IMODE((data_dir / sub).stat().st_mode) == 0o700


def test_init_writes_the_config_where_asked(instance_dir: Path, public_key_file: Path) -> None:
    config = instance_dir / "etc" / "site.toml"
    result = run(
        "init",
        "--data-dir",
        str(instance_dir / "data"),
        "--submission-key",
        str(public_key_file),
        "--config",
        str(config),
    )
    assert result.exit_code == 0, result.output
    assert load_settings(config).data_dir == (instance_dir / "data").resolve()
    assert not (instance_dir / "data" / "seethesigns.toml").exists()


def test_init_writes_the_database_url_it_is_given(
    instance_dir: Path, public_key_file: Path, template_database: TemplateDatabase
) -> None:
    data_dir = instance_dir / "data"
    if template_database.is_postgresql:
        url = template_database.empty_url()  # as the playbook makes one: empty, for init
    else:
        (instance_dir / "elsewhere").mkdir()
        url = f"sqlite:///{instance_dir / 'elsewhere' / 'site.db'}"
    args = ("init", "--data-dir", str(data_dir), "--submission-key", str(public_key_file))
    try:
        result = run(*args, "--database-url", url)
        assert result.exit_code == 0, result.output
        assert load_settings(data_dir / "seethesigns.toml").database_url == url
        assert not (data_dir / "seethesigns.db").exists()
        engine = make_engine(url)
        with engine.connect() as connection:
            version = connection.execute(text("SELECT version_num FROM alembic_version"))
            head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
            assert version.scalar_one() == head
        engine.dispose()
    finally:
        template_database.drop(url)


@pytest.mark.parametrize("url", ["nonsense", "mysql://x@y/z"])
def test_init_refuses_a_database_url_it_cannot_use(
    instance_dir: Path, public_key_file: Path, url: str
) -> None:
    data_dir = instance_dir / "data"
    args = ("init", "--data-dir", str(data_dir), "--submission-key", str(public_key_file))
    result = run(*args, "--database-url", url)
    assert result.exit_code == 2
    assert "--database-url" in result.output
    assert not data_dir.exists()


def test_init_writes_the_control_port_it_is_given(
    instance_dir: Path, public_key_file: Path
) -> None:
    data_dir = instance_dir / "data"
    args = ("init", "--data-dir", str(data_dir), "--submission-key", str(public_key_file))
    result = run(*args, "--control-port", "9051")
    assert result.exit_code == 0, result.output
    text = (data_dir / "seethesigns.toml").read_text()
    assert "\ncontrol_port = 9051\n" in text
    assert "\ncontrol_socket" not in text
    tor = load_settings(data_dir / "seethesigns.toml").tor
    assert (tor.control_port, tor.control_socket) == (9051, None)


def test_init_takes_the_control_socket_from_the_environment(
    instance_dir: Path, public_key_file: Path
) -> None:
    data_dir = instance_dir / "data"
    socket = instance_dir / 'odd "dir"' / "control"
    result = run(
        *("init", "--data-dir", str(data_dir), "--submission-key", str(public_key_file)),
        env={CONTROL_SOCKET_ENV: str(socket)},
    )
    assert result.exit_code == 0, result.output
    tor = load_settings(data_dir / "seethesigns.toml").tor
    assert (tor.control_port, tor.control_socket) == (None, socket)


def test_init_refuses_a_secret_key(instance_dir: Path, offline_key: OfflineKey) -> None:
    secret = instance_dir / "secret.asc"
    secret.write_text(
        gnupg.GPG(gnupghome=str(offline_key.homedir)).export_keys(
            offline_key.fingerprint, secret=True, passphrase=""
        )
    )
    result = run("init", "--data-dir", str(instance_dir / "data"), "--submission-key", str(secret))
    assert_clean_error(result, "SECRET key")
    assert str(secret) in result.output
    assert not (instance_dir / "data" / "seethesigns.toml").exists()
    assert not (instance_dir / "data" / "seethesigns.db").exists()


def test_init_refuses_to_overwrite_a_config(instance_dir: Path, public_key_file: Path) -> None:
    config = instance_dir / "data" / "seethesigns.toml"
    config.parent.mkdir()
    config.write_text("# the operator's own\n")
    result = run(
        "init", "--data-dir", str(instance_dir / "data"), "--submission-key", str(public_key_file)
    )
    assert_clean_error(result, "already exists")
    assert config.read_text() == "# the operator's own\n"


def test_init_needs_an_existing_key_file(instance_dir: Path) -> None:
    result = run(
        "init",
        "--data-dir",
        str(instance_dir / "data"),
        "--submission-key",
        str(instance_dir / "missing.asc"),
    )
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_migrate_brings_a_database_to_head(config: Path, settings: Settings) -> None:
    empty_database(settings.database_url)
    for _ in range(2):  # and running it again changes nothing
        result = run("migrate", "--config", str(config))
        assert result.exit_code == 0, result.output
        assert "up to date" in result.output
        script = ScriptDirectory.from_config(alembic_config(settings.database_url))
        assert schema_version(settings.database_url) == script.get_current_head()
    assert run("add-staff", "after-migrate", "--json", "--config", str(config)).exit_code == 0


def test_migrate_without_a_config() -> None:
    assert_clean_error(run("migrate"), CONFIG_ENV)


def test_add_staff_json(config: Path, settings: Settings, db: Session) -> None:
    result = run("add-staff", "alice", "--json", "--config", str(config))
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert set(created) == {"username", "passphrase", "totp_secret", "status", "first_login"}
    assert created["username"] == "alice"
    assert created["status"] == "pending"
    assert "first login" in created["first_login"]
    now = time.time()
    staff = StaffAccounts(settings.argon2, settings.login).authenticate(
        db, "alice", created["passphrase"], pyotp.TOTP(created["totp_secret"]).at(now), now
    )
    assert not staff.is_admin


def test_add_staff_admin(config: Path, db: Session, settings: Settings) -> None:
    result = run("add-staff", "root", "--admin", "--json", "--config", str(config))
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    now = time.time()
    staff = StaffAccounts(settings.argon2, settings.login).authenticate(
        db, "root", created["passphrase"], pyotp.TOTP(created["totp_secret"]).at(now), now
    )
    assert staff.is_admin


def test_add_staff_prints_a_qr_code_and_the_secrets(
    config: Path, settings: Settings, db: Session
) -> None:
    result = run("add-staff", "bob", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "Created staff member 'bob'." in result.output
    assert "must choose a new passphrase and confirm a new two-factor device" in result.output
    lines = result.output.splitlines()
    qr = [line for line in lines if QR_BLOCKS & set(line)]
    assert len(qr) >= 10
    passphrase = next(line for line in lines if line.startswith("Passphrase:")).split(":", 1)[1]
    secret = next(line for line in lines if line.startswith("TOTP secret:")).split(":", 1)[1]
    secret = secret.replace(" ", "")
    now = time.time()
    StaffAccounts(settings.argon2, settings.login).authenticate(
        db, "bob", passphrase.strip(), pyotp.TOTP(secret).at(now), now
    )


def test_add_staff_takes_the_config_from_the_environment(config: Path) -> None:
    result = run("add-staff", "carol", "--json", env={CONFIG_ENV: str(config)})
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["username"] == "carol"


def test_add_staff_twice_is_a_clean_error(config: Path) -> None:
    assert run("add-staff", "dave", "--json", "--config", str(config)).exit_code == 0
    assert_clean_error(
        run("add-staff", "dave", "--json", "--config", str(config)), "already exists"
    )


def test_add_staff_with_an_invalid_name(config: Path) -> None:
    assert_clean_error(run("add-staff", " ", "--config", str(config)), "printable characters")


def test_missing_config_file(instance_dir: Path) -> None:
    missing = instance_dir / "nowhere.toml"
    assert_clean_error(run("add-staff", "erin", "--config", str(missing)), "does not exist")
    assert_clean_error(run("add-staff", "erin", env={CONFIG_ENV: str(missing)}), "does not exist")


def test_no_config_at_all() -> None:
    assert_clean_error(run("add-staff", "erin"), CONFIG_ENV)


def test_invalid_config_names_the_problem(instance_dir: Path) -> None:
    broken = instance_dir / "broken.toml"
    broken.write_text("[instance]\ndata_dir = 7\n")
    assert_clean_error(
        run("add-staff", "erin", "--config", str(broken)), "[instance] data_dir must be of type str"
    )


def test_installed_script(
    config: Path, settings: Settings, db: Session, instance_dir: Path
) -> None:
    assert SCRIPT.exists(), "run `pip install -e .` to install the console script"
    done = subprocess.run(
        [str(SCRIPT), "add-staff", "frank", "--json", "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    created = json.loads(done.stdout)
    now = time.time()
    StaffAccounts(settings.argon2, settings.login).authenticate(
        db, "frank", created["passphrase"], pyotp.TOTP(created["totp_secret"]).at(now), now
    )
    missing = subprocess.run(
        [str(SCRIPT), "add-staff", "gina", "--config", str(instance_dir / "nowhere.toml")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert missing.returncode == 1
    assert "does not exist" in missing.stderr
    assert "Traceback" not in missing.stderr
