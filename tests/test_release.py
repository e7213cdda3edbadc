"""What a team needs to adopt a release: a licence, a changelog and one version number."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import glue_loop
from harness.terraform import REPO_ROOT


def test_the_package_takes_its_version_from_the_cli_package_alone() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())

    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "glue_loop.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", glue_loop.__version__)


def test_the_changelogs_newest_release_is_the_packages_version() -> None:
    releases = re.findall(
        r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", (REPO_ROOT / "CHANGELOG.md").read_text(), re.M
    )

    assert releases, "CHANGELOG.md names no release"
    assert releases[0] == glue_loop.__version__


def test_the_cli_says_its_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "glue_loop", "--version"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == f"glue-loop {glue_loop.__version__}"


def test_the_licence_is_apache_2_and_the_package_says_so() -> None:
    licence = (REPO_ROOT / "LICENSE").read_text()
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]

    assert licence.lstrip().startswith("Apache License\n") and "Version 2.0, January 2004" in licence
    assert (project["license"], project["license-files"]) == ("Apache-2.0", ["LICENSE"])


def test_the_dev_venv_has_the_glue_loop_command_of_this_checkout() -> None:
    """make tools installs the package editable, so glue-loop runs this checkout's code."""
    command = Path(sys.executable).parent / "glue-loop"
    result = subprocess.run([command, "--version"], capture_output=True, text=True, check=True)

    # Away from the checkout and pytest's pythonpath: only the editable install can find the package.
    found = subprocess.run(
        [sys.executable, "-c", "import glue_loop; print(glue_loop.__file__)"],
        cwd=Path(sys.executable).parent,
        env={key: value for key, value in os.environ.items() if key != "PYTHONPATH"},
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.strip() == f"glue-loop {glue_loop.__version__}"
    assert Path(found.stdout.strip()).resolve() == (REPO_ROOT / "glue_loop" / "__init__.py").resolve()
