"""The README tells the truth about the module and stays short: its usage and set-up commands, and
links that reach the pages the rest of the documentation moved to (its inputs, outputs and
diagrams are generated: tests/test_docs.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from harness import hcl
from harness.docs import module_variables, read_hcl
from harness.terraform import REPO_ROOT

README_PATH = REPO_ROOT / "README.md"
README = README_PATH.read_text()
MAX_README_LINES = 350
PAGES = [
    README_PATH,
    *sorted((REPO_ROOT / "docs").glob("*.md")),
    *sorted(REPO_ROOT.glob("modules/*/README.md")),
    *sorted(REPO_ROOT.glob("examples/*/README.md")),
]


def _section(title: str) -> str:
    return README.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def _module_block(hcl_text: str) -> dict[str, Any]:
    (modules,) = hcl.parse(hcl_text)["module"]
    (body,) = modules.values()
    return {key: value for key, value in body.items() if key not in {"source", "__is_block__"}}


def _prose(markdown: str) -> str:
    """markdown without its fenced code blocks, whose brackets and hashes are not links or headings."""
    return re.sub(r"^```.*?^```", "", markdown, flags=re.S | re.M)


def _anchors(page: Path) -> set[str]:
    """The fragment GitHub gives each heading: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#+ (.+)$", _prose(page.read_text()), flags=re.M)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


def _links(page: Path) -> list[str]:
    return re.findall(r"\]\(([^)\s]+)\)", _prose(page.read_text()))


def test_readme_opens_with_the_two_set_up_commands() -> None:
    first_block = README.split("```sh\n", 1)[1].split("```", 1)[0]

    assert [line.split("#")[0].strip() for line in first_block.strip().splitlines()] == ["make demo", "make test"]


def test_usage_block_is_the_existing_workflow_example() -> None:
    usage = _section("Usage").split("```hcl\n", 1)[1].split("```", 1)[0]
    example = (REPO_ROOT / "examples" / "existing-workflow" / "main.tf").read_text()

    assert _module_block(usage) == _module_block(example)


def test_readme_is_short_enough_to_finish() -> None:
    assert len(README.splitlines()) <= MAX_README_LINES


def test_every_page_under_docs_is_linked_from_the_readme() -> None:
    linked = {(REPO_ROOT / link.split("#")[0]).resolve() for link in _links(README_PATH)}

    assert not [page.name for page in sorted((REPO_ROOT / "docs").glob("*.md")) if page.resolve() not in linked]


def test_every_relative_link_reaches_a_file_and_heading() -> None:
    broken = []
    for page in PAGES:
        for link in _links(page):
            if re.match(r"[a-z]+:", link):
                continue
            path, _, anchor = link.partition("#")
            target = (page.parent / path).resolve() if path else page
            if not target.exists() or (anchor and target.suffix == ".md" and anchor not in _anchors(target)):
                broken.append(f"{page.relative_to(REPO_ROOT)}: {link}")

    assert not broken


def _object_attributes(type_expression: str) -> set[str] | None:
    """The attribute names of an object(...) type at its top level, None for any other type."""
    body = type_expression.removeprefix("${").removesuffix("}")
    if not body.startswith("object({"):
        return None
    names, depth, token = set(), 0, ""
    for character in body.removeprefix("object({"):
        if character in "({[":
            depth += 1
        elif character in ")}]":
            depth -= 1
        elif depth == 0 and character == "=":
            names.add(token.strip().split(",")[-1].strip())
            token = ""
            continue
        if depth == 0 and character != "=":
            token += character
    return names


def test_every_setting_the_readme_shows_is_an_input_with_the_attributes_it_declares() -> None:
    """Terraform drops an attribute that an object input does not declare, without a word: a
    misspelt example would teach a setting that does nothing."""
    variables = module_variables()
    blocks = re.findall(r"^```hcl\n(.*?)^```", README, re.S | re.M)
    shown: dict[str, Any] = {}
    for block in blocks:
        parsed = read_hcl(block)
        for settings in [body for module in parsed.get("module", []) for body in module.values()] or [parsed]:
            shown.update(
                {key: value for key, value in settings.items() if not key.startswith("__") and key != "source"}
            )

    assert len(shown) > 20
    assert sorted(set(shown) - set(variables)) == []
    wrong = {
        name: sorted(set(value) - attributes)
        for name, value in shown.items()
        if isinstance(value, dict)
        and (attributes := _object_attributes(variables[name]["type"])) is not None
        and set(value) - attributes
    }
    assert wrong == {}
