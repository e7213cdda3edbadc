"""Terraform's own tests (tests/*.tftest.hcl, mocked provider), and a guard that they name every custom condition."""

from __future__ import annotations

from collections import Counter

import pytest

from harness.terraform import (
    MODULE_DIRECTORIES,
    NATIVE_TEST_DIR,
    REPO_ROOT,
    TerraformTestResults,
    TerraformWorkspace,
)
from harness.tf_config import RunBlock, conditions, run_blocks

TEST_FILES = sorted(path.name for path in NATIVE_TEST_DIR.glob("*.tftest.hcl"))


def _run_blocks() -> list[RunBlock]:
    return [run for name in TEST_FILES for run in run_blocks(NATIVE_TEST_DIR / name)]


@pytest.fixture(scope="session")
def native_results(tmp_path_factory: pytest.TempPathFactory) -> TerraformTestResults:
    """Every .tftest.hcl file run by one ``terraform test`` on one provider process: 44 CPU-s where a
    command per file cost 60 (each loads the module and the provider's schema again)."""
    workspace = TerraformWorkspace(tmp_path_factory.mktemp("native"), ".")
    workspace.add_native_tests()
    workspace.init()
    with workspace.serving_provider():
        return workspace.test()


# An item per file, all on the worker that runs them (xdist_group), each reporting its own file.
@pytest.mark.xdist_group("terraform-test")
@pytest.mark.parametrize("test_file", TEST_FILES)
def test_every_run_block_of_the_file_passes(native_results: TerraformTestResults, test_file: str) -> None:
    # Read from the file, not from Terraform's report, so that a run it skipped shows up.
    runs = {(f"tests/{test_file}", run.name) for run in run_blocks(NATIVE_TEST_DIR / test_file)}
    reported = {run: status for run, status in native_results.runs.items() if run[0] == f"tests/{test_file}"}
    diagnostics = [line for line in native_results.diagnostics if line.startswith(f"tests/{test_file}")]

    assert {run: status for run, status in reported.items() if status != "pass"} == {}, "\n".join(diagnostics)
    assert set(reported) == runs


@pytest.mark.xdist_group("terraform-test")
def test_terraform_test_runs_every_run_block_of_every_file_and_passes(native_results: TerraformTestResults) -> None:
    runs = len(_run_blocks())

    assert native_results.summary == {"status": "pass", "passed": runs, "failed": 0, "errored": 0, "skipped": 0}, (
        "\n".join(native_results.diagnostics)
    )


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
