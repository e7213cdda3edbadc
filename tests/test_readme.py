"""The README tells the truth about the module: its usage, inputs, outputs and set-up commands."""

from __future__ import annotations

import re
from typing import Any

import hcl2

from harness.terraform import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text()


def _section(title: str) -> str:
    return README.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def _module_block(hcl_text: str) -> dict[str, Any]:
    (modules,) = hcl2.loads(hcl_text)["module"]
    (body,) = modules.values()
    return {key: value for key, value in body.items() if key not in {"source", "__is_block__"}}


def _table_names(title: str) -> set[str]:
    return set(re.findall(r"^\| `([a-z0-9_]+)` \|", _section(title), re.MULTILINE))


def test_readme_opens_with_the_two_set_up_commands() -> None:
    first_block = README.split("```sh\n", 1)[1].split("```", 1)[0]

    assert [line.split("#")[0].strip() for line in first_block.strip().splitlines()] == ["make demo", "make test"]


def test_usage_block_is_the_existing_workflow_example() -> None:
    usage = _section("Usage").split("```hcl\n", 1)[1].split("```", 1)[0]
    example = (REPO_ROOT / "examples" / "existing-workflow" / "main.tf").read_text()

    assert _module_block(usage) == _module_block(example)


def test_inputs_table_lists_exactly_the_variables() -> None:
    variables = {next(iter(v)).strip('"') for v in hcl2.load((REPO_ROOT / "variables.tf").open())["variable"]}

    assert _table_names("Inputs") == variables


def test_outputs_table_lists_exactly_the_outputs() -> None:
    outputs = {next(iter(o)).strip('"') for o in hcl2.load((REPO_ROOT / "outputs.tf").open())["output"]}

    assert _table_names("Outputs") == outputs
