"""Validation and compatibility with the newest provider, without planning anything (make lint checks formatting)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from harness.terraform import MODULE_DIRECTORIES, REPO_ROOT
from harness.tf_config import Block, blocks

# Schema of the newest provider release (arguments, deprecations, 6.x-only additions), copied into
# the repository (its README says from where and how to refresh it); PROVIDER_REFERENCE names another copy.
PROVIDER_REFERENCE = Path(
    os.environ.get("PROVIDER_REFERENCE", REPO_ROOT / "tests" / "provider-reference" / "aws_current_arguments.json")
)


@pytest.mark.parametrize("workspace", ["root_module", "example_workspace"])
def test_configuration_is_valid_without_warnings(workspace: str, request: pytest.FixtureRequest) -> None:
    result = request.getfixturevalue(workspace).validate()

    assert result["valid"], result["diagnostics"]
    # Deprecated arguments and resources show up here as warnings on provider 5.100.0.
    assert result["warning_count"] == 0, result["diagnostics"]


def _reference() -> dict[str, Any]:
    if not PROVIDER_REFERENCE.exists():
        pytest.fail(f"provider reference {PROVIDER_REFERENCE} is missing; set PROVIDER_REFERENCE")
    return json.loads(PROVIDER_REFERENCE.read_text())


def _module_blocks() -> list[Block]:
    return [block for directory in MODULE_DIRECTORIES for block in blocks(directory)]


def _problems(block: Block, schema: dict[str, Any]) -> list[str]:
    deprecated = {entry["name"] for entry in schema["deprecated"]}
    newer_only = {entry["name"] for entry in schema.get("added_in_6x", [])}
    problems = [f"unknown argument {name}" for name in block.arguments - set(schema["arguments"])]
    problems += [f"deprecated {name}" for name in block.arguments & deprecated]
    problems += [f"6.x-only {name}" for name in block.arguments & newer_only]
    for nested, names in block.nested.items():
        if nested not in schema["blocks"]:
            problems.append(f"unknown block {nested}")
            continue
        if f"{nested}{{}}" in deprecated:
            problems.append(f"deprecated block {nested}")
        problems += [f"unknown {nested}.{name}" for name in names - set(schema["blocks"][nested])]
        problems += [f"deprecated {nested}.{name}" for name in names if f"{nested}.{name}" in deprecated]
        problems += [f"6.x-only {nested}.{name}" for name in names if f"{nested}.{name}" in newer_only]
    return problems


def test_every_block_uses_only_current_non_deprecated_arguments() -> None:
    reference = _reference()
    schemas = {"resource": reference["resources"], "data": reference["data_sources"]}
    module_blocks = _module_blocks()
    problems = {}
    for block in module_blocks:
        schema = schemas[block.kind].get(block.type)
        found = ["type not in the provider reference"] if schema is None else _problems(block, schema)
        if found:
            problems[f"{block.file.relative_to(REPO_ROOT)}: {block.kind}.{block.type}.{block.name}"] = found

    assert {block.type for block in module_blocks} >= {"aws_sfn_state_machine", "aws_iam_role"}
    assert problems == {}
