"""The pre-commit hooks: a valid configuration, offline, running the gates `make lint` runs."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from typing import Any

import yaml

from harness.terraform import REPO_ROOT

PRE_COMMIT_CONFIG = REPO_ROOT / ".pre-commit-config.yaml"


def _hooks() -> list[dict[str, Any]]:
    config = yaml.safe_load(PRE_COMMIT_CONFIG.read_text())
    return [hook for repo in config["repos"] for hook in repo["hooks"]]


def _lint_commands() -> list[list[str]]:
    """The commands of `make lint`, as make expands them (-o its prerequisites: no install, nothing run)."""
    printed = subprocess.run(
        ["make", "--no-print-directory", "-n", "-o", "terraform-check", "-o", ".venv/.installed", "lint"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [shlex.split(line) for line in printed.splitlines()]


def test_pre_commit_accepts_the_configuration() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-config", str(PRE_COMMIT_CONFIG)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_every_hook_is_local_and_runs_an_installed_command() -> None:
    config = yaml.safe_load(PRE_COMMIT_CONFIG.read_text())
    commands = {hook["id"]: shlex.split(hook["entry"])[0] for hook in _hooks()}

    # A remote hook repository or a language other than system would be downloaded.
    assert {repo["repo"] for repo in config["repos"]} == {"local"}
    assert {hook["language"] for hook in _hooks()} == {"system"}
    missing = {
        hook: command
        for hook, command in commands.items()
        if not ((REPO_ROOT / command).is_file() if "/" in command else shutil.which(command))
    }
    assert missing == {}


def test_every_command_of_make_lint_is_a_hook() -> None:
    entries = [shlex.split(hook["entry"]) for hook in _hooks()]
    # A command up to its first path argument (the sources it checks): hooks get theirs from pre-commit.
    gates = [
        next((command[:index] for index in range(1, len(command)) if (REPO_ROOT / command[index]).exists()), command)
        for command in _lint_commands()
    ]

    assert len(gates) >= 4  # ruff check, ruff format, mypy, terraform fmt
    assert [gate for gate in gates if not any(entry[: len(gate)] == gate for entry in entries)] == []
