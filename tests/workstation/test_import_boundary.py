"""The workstation is a separate, offline machine: it must not pull in the server's code.

Checked in a fresh interpreter, so nothing the test suite itself imported can hide a leak.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import workstation

FORBIDDEN = (
    "flask",
    "werkzeug",
    "jinja2",
    "sqlalchemy",
    "alembic",
    "gunicorn",
    "requests",
    "urllib3",
    "http.client",
    "seethesigns",
    "source_interface",
    "journalist_interface",
)
EVERY_MODULE = """
import importlib, pkgutil, sys, workstation
for found in pkgutil.walk_packages(workstation.__path__, "workstation."):
    importlib.import_module(found.name)
"""
PRINT_MODULES = '\nimport sys\nprint("\\n".join(sorted(sys.modules)))\n'


def loaded_modules(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running code."""
    run = subprocess.run(
        [sys.executable, "-I", "-c", code + PRINT_MODULES],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(run.stdout.split())


def leaks(modules: set[str]) -> list[str]:
    """Loaded modules that belong to the server or the web stack."""
    return sorted(
        name for name in modules for bad in FORBIDDEN if name == bad or name.startswith(bad + ".")
    )


def test_every_workstation_module_imports_without_the_server() -> None:
    modules = loaded_modules(EVERY_MODULE)
    assert "workstation.cli" in modules and "gnupg" in modules
    assert leaks(modules) == []


def test_the_command_line_entry_point_imports_without_the_server() -> None:
    run = subprocess.run(
        [sys.executable, "-I", "-X", "importtime", "-c", "import workstation.cli"],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = {line.split("|")[-1].strip() for line in run.stderr.splitlines() if "|" in line}
    assert "workstation.cli" in imported
    assert leaks(imported) == []


def test_no_source_file_names_the_server_packages() -> None:
    package = Path(workstation.__file__).parent
    for path in package.rglob("*.py"):
        text = path.read_text()
        for bad in ("seethesigns", "source_interface", "journalist_interface", "flask"):
            assert f"import {bad}" not in text and f"from {bad}" not in text, path


def test_the_check_would_see_a_leak() -> None:
    assert "flask" in leaks(loaded_modules("import workstation, flask"))
