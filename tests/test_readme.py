"""The README tells the truth about the module and stays short: its usage and set-up commands, and
links that reach the pages the rest of the documentation moved to (its inputs, outputs and
diagrams are generated: tests/test_docs.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import hcl2

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
    (modules,) = hcl2.loads(hcl_text)["module"]
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
