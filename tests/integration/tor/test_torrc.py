"""The operator's torrc template is valid for the installed tor."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.tor

TORRC = Path(__file__).resolve().parents[3] / "tor" / "torrc"


def test_the_torrc_template_is_valid_for_this_tor(tor_binary: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [tor_binary, "--verify-config", "-f", str(TORRC), "--DataDirectory", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Configuration was valid" in done.stdout
    assert "SocksPort 0" in TORRC.read_text()
