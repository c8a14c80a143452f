"""`seethesigns_database: postgresql`: Debian's PostgreSQL on the server, reached as the service
account over its unix socket; reports land there and no SQLite file exists; a backup restores
onto a fresh server; a new release migrates it (or, when its migration fails, the pg_dump
taken before is put back)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import testinfra
from alembic.script import ScriptDirectory

from seethesigns.db import alembic_config
from tests.deploy.conftest import ROOT, Deployed, Operator, host_of, make_report, tunnel
from tests.deploy.lab import Lab

URL = "postgresql+psycopg://seethesigns@/seethesigns?host=/run/postgresql"
NEXT_MIGRATION = '''"""The next release's migration (deployment test): a table with one row."""
import sqlalchemy as sa
from alembic import op

revision = "9998pgnext"
down_revision = "PARENT"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("next_release", sa.Column("id", sa.Integer, primary_key=True))
    op.execute("INSERT INTO next_release (id) VALUES (42)")


def downgrade() -> None:
    op.drop_table("next_release")
'''
FAILING_MIGRATION = '''"""A migration that commits damage, then fails (deployment test)."""
from alembic import op

revision = "9999pgfails"
down_revision = "9998pgnext"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Outside the migration's own transaction: only the copy taken before can undo it.
    with op.get_context().autocommit_block():
        op.execute("DELETE FROM next_release")
    raise RuntimeError("this migration fails on purpose")


def downgrade() -> None:
    pass
'''


def sql(host: testinfra.host.Host, query: str) -> str:
    """One query's result, run with psql as the service account (peer authentication)."""
    return str(
        host.check_output(
            f'cd / && runuser -u seethesigns -- psql -XtA -d seethesigns -c "{query}"'
        )
    ).strip()


def source_with(workdir: Path, name: str, migrations: dict[str, str]) -> Path:
    """This commit's source tree plus the given migration files: a newer release."""
    folder = workdir / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    tree = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "HEAD"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=tree, check=True)
    head = str(ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head())
    for filename, text in migrations.items():
        path = folder / "seethesigns/migrations/versions" / filename
        path.write_text(text.replace("PARENT", head))
    return folder


@pytest.fixture(scope="module")
def on_postgresql(lab: Lab, operator: Operator) -> Iterator[Deployed]:
    """A fresh Debian 12 target deployed with seethesigns_database: postgresql."""
    target = lab.boot("pgsql1")
    inventory = operator.inventory(target, extra={"seethesigns_database": "postgresql"})
    run = operator.converge(inventory, label="first deploy on postgresql")
    yield Deployed(target, inventory, run, host_of(lab, target))


def no_sqlite_files(host: testinfra.host.Host) -> str:
    """Any SQLite database file under the instance's folders (there must be none)."""
    return str(
        host.check_output(
            "find /var/lib/seethesigns /etc/seethesigns /var/backups/seethesigns "
            "\\( -name '*.db' -o -name '*.db-wal' -o -name '*.sqlite' \\) -print"
        )
    )


def test_a_report_is_a_row_in_postgresql_and_no_sqlite_file_exists(
    on_postgresql: Deployed,
) -> None:
    host = on_postgresql.host
    assert f'url = "{URL}"' in host.check_output("cat /etc/seethesigns/seethesigns.toml")
    before = int(sql(host, "SELECT count(*) FROM submissions"))
    with tunnel(on_postgresql.target, 8080) as source_url:
        make_report(source_url, "They said they would hurt my sister (PostgreSQL deploy test).")
    assert int(sql(host, "SELECT count(*) FROM submissions")) == before + 1
    assert int(sql(host, "SELECT count(*) FROM sources")) >= 1
    assert no_sqlite_files(host) == ""
    # The service account's role can do nothing beyond its own database.
    assert (
        sql(
            host,
            "SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles "
            "WHERE rolname = current_user",
        )
        == "f|f|f"
    )
    assert (
        sql(host, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'seethesigns'")
        == "seethesigns"
    )
    # PostgreSQL listens on loopback only, as Debian ships it; nothing else new listens.
    for line in host.check_output("ss -Hltn").splitlines():
        address, port = line.split()[3].rsplit(":", 1)
        assert port == "22" or address in {"127.0.0.1", "[::1]"}, line
    assert "postgresql" in host.check_output("systemctl show -P After seethesigns-source.service")


def test_a_second_run_on_postgresql_changes_nothing(
    on_postgresql: Deployed, operator: Operator
) -> None:
    run = operator.converge(on_postgresql.inventory, label="second run on postgresql")
    recap = run.recap[on_postgresql.target.name]
    assert recap["failed"] == 0
    assert recap["changed"] == 0, run.output[-6000:]


def test_a_postgresql_backup_restores_onto_a_fresh_server(
    lab: Lab, operator: Operator, on_postgresql: Deployed
) -> None:
    # Before the new release below: this release restores backups of its own schema.
    original = on_postgresql.host
    backup = operator.converge(
        on_postgresql.inventory, "backup.yml", label="backup playbook on postgresql"
    )
    assert backup.recap[on_postgresql.target.name]["failed"] == 0
    folder = on_postgresql.inventory / "backups" / on_postgresql.target.name
    archive = sorted(folder.glob("*.tar.gpg"))[-1]
    secret_key = operator.workdir / "pg-backup-secret.asc"
    secret_key.write_bytes(
        subprocess.run(
            [
                "gpg",
                "--homedir",
                str(operator.backup_key.homedir),
                "--armor",
                "--export-secret-keys",
                operator.backup_key.fingerprint,
            ],
            capture_output=True,
            check=True,
        ).stdout
    )
    secret_key.chmod(0o600)

    fresh = lab.boot("pgsql2")
    inventory = operator.inventory(fresh, extra={"seethesigns_database": "postgresql"})
    operator.converge(
        inventory,
        "restore.yml",
        label="restore playbook on postgresql",
        seethesigns_restore_archive=str(archive),
        seethesigns_restore_secret_key=str(secret_key),
    )
    restored = host_of(lab, fresh)
    for table in ("sources", "submissions", "staff"):
        query = f"SELECT count(*) FROM {table}"  # noqa: S608 - fixed table names
        assert sql(restored, query) == sql(original, query), table
    assert no_sqlite_files(restored) == ""
    assert restored.check_output("ls /run/seethesigns-restore 2>&1 || true").endswith(
        "No such file or directory"
    )
    before = int(sql(restored, "SELECT count(*) FROM submissions"))
    with tunnel(fresh, 8080) as source_url:
        make_report(source_url, "The restored PostgreSQL server takes new reports.")
    assert int(sql(restored, "SELECT count(*) FROM submissions")) == before + 1


def test_a_new_release_migrates_postgresql_and_a_failed_one_puts_it_back(
    on_postgresql: Deployed, operator: Operator
) -> None:
    host, inventory = on_postgresql.host, on_postgresql.inventory
    reports = sql(host, "SELECT count(*) FROM submissions")
    newer = source_with(operator.workdir, "pg-next-source", {"9998_next.py": NEXT_MIGRATION})
    run = operator.converge(
        inventory, label="new release on postgresql", seethesigns_source_dir=str(newer)
    )
    assert "Keep the PostgreSQL database as it is, for a rollback" in run.output
    assert "Migrate the database" in run.output
    release = host.check_output("readlink /opt/seethesigns/current")
    assert sql(host, "SELECT version_num FROM alembic_version") == "9998pgnext"
    assert sql(host, "SELECT id FROM next_release") == "42"
    assert sql(host, "SELECT count(*) FROM submissions") == reports
    # The backup taken before it holds the PostgreSQL dump; the rollback dump is gone.
    assert len(host.check_output("ls /var/backups/seethesigns/before-*.tar.gpg").split()) == 1
    assert host.check_output("ls /var/lib/seethesigns/tmp/") == ""
    assert no_sqlite_files(host) == ""
    with tunnel(on_postgresql.target, 8080) as source_url:
        make_report(source_url, "After the new release (PostgreSQL deploy test).")

    failing = source_with(
        operator.workdir,
        "pg-failing-source",
        {"9998_next.py": NEXT_MIGRATION, "9999_fails.py": FAILING_MIGRATION},
    )
    broken = operator.play(
        inventory, label="failing release on postgresql", seethesigns_source_dir=str(failing)
    )
    assert broken.returncode != 0
    assert "this migration fails on purpose" in broken.output
    assert "Put the PostgreSQL database back as it was" in broken.output
    assert "runs again" in broken.output
    assert host.check_output("readlink /opt/seethesigns/current") == release
    # The damage the migration committed is undone by the dump taken before it.
    assert sql(host, "SELECT id FROM next_release") == "42"
    assert sql(host, "SELECT version_num FROM alembic_version") == "9998pgnext"
    assert int(sql(host, "SELECT count(*) FROM submissions")) == int(reports) + 1
    for unit in ("seethesigns-source", "seethesigns-journalist", "seethesigns-onion"):
        assert host.service(unit).is_running, unit
    with tunnel(on_postgresql.target, 8080) as source_url:
        make_report(source_url, "After the failed release (PostgreSQL deploy test).")
    assert int(sql(host, "SELECT count(*) FROM submissions")) == int(reports) + 2
