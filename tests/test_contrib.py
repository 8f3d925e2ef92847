"""What contrib/ ships, tested as far as this machine allows: the systemd unit
checked by systemd itself, the container's command run as it would run."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import trio
from test_cli import kill, read_log_until

from trio_chat.protocol.framing import LineBuffer
from trio_chat.testing import TextClient

CONTRIB = Path(__file__).parent.parent / "contrib"
INSTALLED = "/opt/trio-chat/venv/bin/trio-chat"


def unit_settings() -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in (CONTRIB / "trio-chat.service").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


def test_the_unit_runs_sandboxed_with_its_state_and_reload_wired():
    settings = unit_settings()
    assert settings["DynamicUser"] == ["yes"]
    assert settings["StateDirectory"] == ["trio-chat"]
    assert settings["ProtectSystem"] == ["strict"]
    assert settings["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert settings["ExecStart"][0].startswith(f"{INSTALLED} server ")


def test_systemd_finds_nothing_wrong_with_the_unit(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    trio_chat = shutil.which("trio-chat", path=str(Path(sys.executable).parent))
    assert trio_chat is not None
    unit = tmp_path / "trio-chat.service"
    # the unit as installed, with this machine's trio-chat for the one in /opt
    unit.write_text((CONTRIB / "trio-chat.service").read_text().replace(INSTALLED, trio_chat))
    result = subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60, check=False
    )
    # systemd-analyze exits 0 on a setting it ignores, but says so
    assert (result.returncode, result.stderr) == (0, "")


def container_instructions() -> list[tuple[str, str]]:
    """The Containerfile's instructions, each with what follows it."""
    text = (CONTRIB / "Containerfile").read_text().replace("\\\n", " ")
    split = (line.partition(" ") for line in text.splitlines())
    return [(word, rest) for word, _, rest in split if word.isupper()]


def test_the_container_s_build_steps_are_valid_shell():
    script = "\n".join(rest for word, rest in container_instructions() if word == "RUN")
    assert "pip install" in script
    subprocess.run(["bash", "-n"], input=script, text=True, check=True, timeout=60)


async def test_the_container_s_command_serves_a_chat_and_stops_on_its_signal(tmp_path):
    steps = dict(container_instructions())
    command = json.loads(steps["ENTRYPOINT"]) + json.loads(steps["CMD"])
    assert command[0] == INSTALLED
    assert steps["STOPSIGNAL"] == "SIGTERM"
    # as in the container, but with this machine's trio-chat, a free port and a scratch volume
    volume = steps["VOLUME"]
    args = [
        arg.replace(volume, str(tmp_path)).replace("tcp://0.0.0.0:58000", "tcp://127.0.0.1:0")
        for arg in command[1:]
    ]
    process = await trio.lowlevel.open_process(
        [sys.executable, "-m", "trio_chat", *args], stderr=subprocess.PIPE
    )
    log = LineBuffer(1 << 16)
    try:
        found = await read_log_until(process, log, r"listening on tcp://127\.0\.0\.1:(\d+)")
        client = TextClient(await trio.open_tcp_stream("127.0.0.1", int(found[1])))
        await client.login("alice")
        await client.stream.aclose()
        process.terminate()
        with trio.fail_after(30):
            assert await process.wait() == 0
        assert (tmp_path / "chat.db").exists()
    finally:
        await kill(process)


@pytest.mark.parametrize("name", ["trio-chat.service", "Containerfile"])
def test_the_operating_guide_shows_each_file_as_shipped(name):
    guide = (Path(__file__).parent.parent / "docs" / "operating.md").read_text()
    assert f"```{'ini' if name.endswith('.service') else 'dockerfile'}\n" in guide
    assert (CONTRIB / name).read_text() in guide
