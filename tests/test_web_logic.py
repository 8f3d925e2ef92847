"""The browser page's logic (trio_chat/web/static/*.js), tested with node's own runner."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

TESTS = Path(__file__).parent / "web"


def test_page_logic_passes_its_node_tests() -> None:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("node is needed to test the browser page (apt-get install nodejs)")
        pytest.skip("node is not installed")
    result = subprocess.run(
        [node, "--test", str(TESTS)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
