"""Terraform's own tests (tests/*.tftest.hcl, mocked provider), and a guard that they name every custom condition."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from harness.terraform import (
    MODULE_DIRECTORIES,
    NATIVE_TEST_DIR,
    REPO_ROOT,
    TerraformWorkspace,
)
from harness.tf_config import RunBlock, conditions, run_blocks

TEST_FILES = sorted(path.name for path in NATIVE_TEST_DIR.glob("*.tftest.hcl"))


def _run_blocks() -> list[RunBlock]:
    return [run for name in TEST_FILES for run in run_blocks(NATIVE_TEST_DIR / name)]


@pytest.fixture(scope="session")
def native_tests(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TerraformWorkspace]:
    """The module with its .tftest.hcl files and mocks, initialised once per worker, with one provider process."""
    workspace = TerraformWorkspace(tmp_path_factory.mktemp("native"), ".")
    workspace.add_native_tests()
    workspace.init()
    with workspace.provider_served_once():
        yield workspace


# One item per file, so that xdist spreads the files over its workers.
@pytest.mark.parametrize("test_file", TEST_FILES)
def test_every_run_block_of_the_file_passes(native_tests: TerraformWorkspace, test_file: str) -> None:
    results = native_tests.test(f"tests/{test_file}")
    # Read from the file, not from Terraform's report, so that a run it skipped shows up.
    runs = {(f"tests/{test_file}", run.name) for run in run_blocks(NATIVE_TEST_DIR / test_file)}

    failed = {run: status for run, status in results.runs.items() if status != "pass"}
    assert failed == {}, "\n".join(results.diagnostics)
    assert set(results.runs) == runs
    assert results.summary == {"status": "pass", "passed": len(runs), "failed": 0, "errored": 0, "skipped": 0}


def test_every_custom_condition_is_expected_to_fail_in_a_run_of_its_own() -> None:
    """A validation or precondition that no run expects to fail is untested: expect_failures names
    the variable or resource, so an object with n conditions needs n runs that name it."""
    expected = Counter(
        ((REPO_ROOT / run.module_source).resolve(), address) for run in _run_blocks() for address in run.expect_failures
    )
    untested = [
        f"{directory.relative_to(REPO_ROOT)}: {address} has {count} conditions, {expected[(directory, address)]} runs"
        for directory in MODULE_DIRECTORIES
        for address, count in conditions(directory).items()
        if expected[(directory, address)] < count
    ]

    assert untested == [], "\n".join(["Name these in the expect_failures of more runs:", *untested])
