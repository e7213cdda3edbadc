"""The repository's layers: product code, developer tools and tests apart."""

from __future__ import annotations

import re
import subprocess
import sys

from harness.terraform import REPO_ROOT


def test_the_harness_runs_without_pytest() -> None:
    """make demo, make bench and make docs import the harness outside any test run."""
    modules = sorted(f"harness.{path.stem}" for path in (REPO_ROOT / "harness").glob("*.py"))
    probe = f"import sys; import {', '.join(modules)}; print(sorted(m for m in sys.modules if 'pytest' in m))"

    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=True, env={"PATH": ""}
    )

    assert len(modules) > 10
    assert result.stdout.strip() == "[]"


def test_tests_hold_only_tests_and_their_conftest() -> None:
    python_files = {path.name for path in (REPO_ROOT / "tests").rglob("*.py")}

    assert "conftest.py" in python_files
    assert {name for name in python_files if name != "conftest.py" and not name.startswith("test_")} == set()


def test_no_test_or_tool_starts_an_in_process_moto_mock() -> None:
    """mock_aws resets every moto backend of the process on start, the threaded emulator's too: a
    test using it in a worker wiped the stacks other tests there had applied (a destroy then failed
    on a dashboard it could not find)."""
    sources = [*(REPO_ROOT / "tests").rglob("*.py"), *(REPO_ROOT / "harness").glob("*.py")]
    uses = re.compile(r"import[^\n]*\bmock_aws\b|\bmock_aws\(")
    users = [path.name for path in sources if uses.search(path.read_text()) and path.name != "test_layout.py"]

    assert len(sources) > 40
    assert users == []
