"""The README tells the truth about the module: its usage and set-up commands (its inputs, outputs
and diagrams are generated: tests/test_docs.py)."""

from __future__ import annotations

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


def test_readme_opens_with_the_two_set_up_commands() -> None:
    first_block = README.split("```sh\n", 1)[1].split("```", 1)[0]

    assert [line.split("#")[0].strip() for line in first_block.strip().splitlines()] == ["make demo", "make test"]


def test_usage_block_is_the_existing_workflow_example() -> None:
    usage = _section("Usage").split("```hcl\n", 1)[1].split("```", 1)[0]
    example = (REPO_ROOT / "examples" / "existing-workflow" / "main.tf").read_text()

    assert _module_block(usage) == _module_block(example)
