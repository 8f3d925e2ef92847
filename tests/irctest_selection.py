"""irctest against trio-chat: the full selection and the short one CI runs.

    python tests/irctest_selection.py             # the full selection (one or two minutes)
    python tests/irctest_selection.py --short     # what tests/test_irctest.py runs
    python tests/irctest_selection.py --ngircd    # the full selection against ngircd

irctest is in third_party/irctest; trio_chat is imported from PYTHONPATH if it
is set, else from this checkout. Other arguments go to pytest (-x, -k, --junitxml).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IRCTEST = ROOT / "third_party" / "irctest"

MODULES = tuple(
    f"irctest/server_tests/{name}.py"
    for name in (
        "connection_registration",
        "messages",
        "join",
        "part",
        "quit",
        "pingpong",
        "utf8",
        "readq",
        "buffering",
        "names",
        "who",
        "whois",
        "topic",
        "kick",
        "lusers",
        "isupport",
    )
)
MARKERS = "not Ergo and not deprecated and not strict and not services"

# Tests trio-chat passes, a few from each module, chosen to run in about 20 seconds.
SHORT = tuple(
    f"irctest/server_tests/{test}"
    for test in (
        "connection_registration.py::ConnectionRegistrationTestCase::testConnectionRegistration",
        "connection_registration.py::ConnectionRegistrationTestCase::testNickCollision",
        "connection_registration.py::ConnectionRegistrationTestCase::testEarlyNickCollision",
        "connection_registration.py::ConnectionRegistrationTestCase::testQuitErrors",
        "connection_registration.py::ConnectionRegistrationTestCase::testEmptyRealname",
        "messages.py::PrivmsgTestCase::testPrivmsg",
        "messages.py::PrivmsgTestCase::testPrivmsgToUser",
        "messages.py::PrivmsgTestCase::testPrivmsgNonexistentChannel",
        "messages.py::PrivmsgTestCase::testPrivmsgNonexistentUser",
        "messages.py::NoticeTestCase::testNotice",
        "messages.py::TagsTestCase::testLineTooLong",
        "join.py::JoinTestCase::testJoinNamreply",
        "join.py::JoinTestCase::testJoinTwice",
        "part.py::PartTestCase::testBasicPart",
        "part.py::PartTestCase::testPartNotInEmptyChannel",
        "quit.py::ChannelQuitTestCase::testQuit",
        "pingpong.py::PingPongTestCase::testPing",
        "pingpong.py::PingPongTestCase::testPingEmptyToken",
        "utf8.py::Utf8TestCase::testUtf8Validation",
        "buffering.py::BufferingTestCase::testNoTags[byteperbyte-colon]",
        "names.py::NamesTestCase::testNamesNonexistingChannel",
        "names.py::NamesTestCase::testNamesModern",
        "who.py::WhoTestCase::testWhoMultiChan",
        "who.py::WhoTestCase::testWhoStar",
        "who.py::WhoTestCase::testWhoNick[casefolded]",
        "whois.py::WhoisTestCase::testWhoisUser[no-target]",
        "topic.py::TopicTestCase::testTopicModern",
        "topic.py::TopicTestCase::testUnsetTopicResponses",
        "topic.py::TopicPrivilegesTestCase::testTopicPrivileges",
        "kick.py::KickTestCase::testKickSendsMessages",
        "kick.py::KickTestCase::testKickPrivileges",
        "isupport.py::IsupportTestCase::testValues",
        "isupport.py::IsupportTestCase::testPrefix",
    )
)

CONTROLLERS = {"trio-chat": "irctest_controller", "ngircd": "irctest.controllers.ngircd"}


def command(tests: Sequence[str], software: str = "trio-chat", *pytest_args: str) -> list[str]:
    """The pytest command line, to run with ``cwd=IRCTEST`` and ``env=environment(tmp)``."""
    return [
        sys.executable,
        "-m",
        "pytest",
        "-c",
        "pytest.ini",  # irctest's own settings, not ours
        "-p",
        "no:cacheprovider",
        "-p",
        "no:trio",
        f"--controller={CONTROLLERS[software]}",
        "-m",
        MARKERS,
        *pytest_args,
        *tests,
    ]


def environment(tmp: Path) -> dict[str, str]:
    """PYTHONPATH for irctest, the controller and trio_chat (the caller's first), and a
    TMPDIR of the run's own: irctest keeps the ports it uses in a file there, unlocked."""
    paths = [str(IRCTEST), str(ROOT / "tests"), os.environ.get("PYTHONPATH", ""), str(ROOT)]
    return os.environ | {"PYTHONPATH": os.pathsep.join(p for p in paths if p), "TMPDIR": str(tmp)}


def main(argv: Sequence[str]) -> int:
    args = list(argv)
    tests = SHORT if "--short" in args else MODULES
    software = "ngircd" if "--ngircd" in args else "trio-chat"
    rest = [a for a in args if a not in ("--short", "--ngircd")]
    with tempfile.TemporaryDirectory(prefix="irctest-") as tmp:
        run = command(tests, software, *rest)
        return subprocess.run(run, cwd=IRCTEST, env=environment(Path(tmp)), check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
