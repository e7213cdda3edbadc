"""The harness's Terraform workspace, where it manages processes of its own."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
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


def _running(process: psutil.Process) -> bool:
    """Whether the process runs: a zombie has ended, whether or not anything reaped it."""
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


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
        (provider,) = [
            child for child in psutil.Process(serving.pid).children() if child.name().startswith("terraform-provi")
        ]
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
            provider.terminate()
