"""The repository's layers: product code, developer tools and tests apart."""

from __future__ import annotations

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
