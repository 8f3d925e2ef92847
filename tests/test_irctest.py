"""The short irctest selection passes against trio-chat's IRC listener.

The full selection is a command (tests/irctest_selection.py, docs/irc.md).
"""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET

from irctest_selection import IRCTEST, SHORT, command, environment


def test_short_irctest_selection_passes_without_skips(tmp_path):
    report = tmp_path / "irctest.xml"
    run = subprocess.run(
        command(SHORT, "trio-chat", "-q", f"--junitxml={report}"),
        cwd=IRCTEST,
        env=environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-8000:]
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None
    assert int(suite.get("tests", "0")) == len(SHORT)
    assert suite.get("skipped") == "0", run.stdout[-8000:]
