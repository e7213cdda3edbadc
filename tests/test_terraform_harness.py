"""The harness's Terraform workspace, where it manages processes of its own."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.terraform import REPO_ROOT

# Serves the provider to a workspace in the directory it is given, says so, and sleeps in the `with`.
SERVING = """
import sys, time
from pathlib import Path
from harness.terraform import TerraformWorkspace

workspace = TerraformWorkspace(Path(sys.argv[1]), ".")
workspace.init()
with workspace.serving_provider():
    print("serving", flush=True)
    time.sleep(300)
"""


def _running(pid: int) -> bool:
    """Whether the process runs: a zombie (state Z) has ended, whether or not anything reaped it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _children(pid: int) -> dict[int, str]:
    """The processes whose parent is ``pid``, by pid, with their command names."""
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        name, rest = text.split(" (", 1)[1].rsplit(") ", 1)
        if int(rest.split()[1]) == pid:
            children[int(stat.parent.name)] = name
    return children


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux, Linux) ties the provider's life")
def test_a_served_provider_ends_with_a_process_killed_by_sigkill(tmp_path: Path) -> None:
    """No finally runs in a SIGKILLed test worker; its served provider (hundreds of MB) must not live on."""
    serving = subprocess.Popen(
        [sys.executable, "-c", SERVING, str(tmp_path)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert serving.stdout is not None and serving.stdout.readline() == "serving\n"
        (provider,) = [pid for pid, name in _children(serving.pid).items() if name.startswith("terraform-provi")]
    finally:
        serving.send_signal(signal.SIGKILL)
        serving.wait()
    try:
        deadline = time.monotonic() + 30
        while _running(provider) and time.monotonic() < deadline:
            time.sleep(0.1)

        assert not _running(provider), "the provider outlived the process that served it"
    finally:
        if _running(provider):
            os.kill(provider, signal.SIGTERM)
