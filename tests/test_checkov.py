"""checkov on the module and its examples: no failed check, and every skip says why."""

from __future__ import annotations

import json
import os
import re
import subprocess

from harness.terraform import REPO_ROOT

SKIP_COMMENT = re.compile(r"checkov:skip=(.*)$", re.MULTILINE)
SKIP_WITH_REASON = re.compile(r"^CKV2?_[A-Z0-9_]+:\S.+")


def test_checkov_finds_no_failed_check() -> None:
    result = subprocess.run(
        [
            os.environ.get("CHECKOV_BIN", str(REPO_ROOT / ".venv-checkov" / "bin" / "checkov")),
            "--directory",
            str(REPO_ROOT),
            "--framework",
            "terraform",
            "--skip-download",  # no guideline download: CI has no internet
            "--output",
            "json",
            "--quiet",
            *[arg for path in (".venv", ".venv-checkov", ".terraform", "tests") for arg in ("--skip-path", path)],
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    summary = {key: sum(r["summary"][key] for r in reports) for key in ("passed", "failed")}
    failed = [
        f"{check['check_id']} {check['resource']} ({check['file_path']})"
        for r in reports
        for check in r["results"]["failed_checks"]
    ]

    assert failed == []
    assert summary["passed"] > 0


def test_every_checkov_skip_gives_its_reason() -> None:
    skips = [
        (path.relative_to(REPO_ROOT), match.group(1))
        for path in REPO_ROOT.rglob("*.tf")
        if not {".terraform", ".venv", ".venv-checkov"} & set(path.parts)
        for match in SKIP_COMMENT.finditer(path.read_text())
    ]

    assert [skip for skip in skips if not SKIP_WITH_REASON.match(skip[1])] == []
