"""Terraform configuration read with python-hcl2: every resource and data block with the names it sets."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2

META_ARGUMENTS = {"count", "for_each", "provider", "depends_on", "lifecycle"}


@dataclass
class Block:
    kind: str  # "resource" or "data"
    type: str
    name: str
    file: Path
    arguments: set[str] = field(default_factory=set)
    # nested block name -> names set inside it; a sub-block is written "name{}"
    nested: dict[str, set[str]] = field(default_factory=dict)


def _unquote(key: str) -> str:
    return key.strip('"')


def _is_block_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(item, dict) and item.get("__is_block__") for item in value)
    )


def _body(body: dict[str, Any]) -> tuple[set[str], dict[str, list[dict[str, Any]]]]:
    """Argument names and nested blocks (dynamic blocks unwrapped to their content)."""
    arguments: set[str] = set()
    nested: dict[str, list[dict[str, Any]]] = {}
    for key, value in body.items():
        if key.startswith("__"):
            continue
        if key == "dynamic":
            for dynamic in value:
                for name, spec in dynamic.items():
                    nested.setdefault(_unquote(name), []).extend(spec["content"])
        elif _is_block_list(value):
            nested.setdefault(key, []).extend(value)
        else:
            arguments.add(key)
    return arguments, nested


def blocks(directory: Path) -> list[Block]:
    found: list[Block] = []
    for path in sorted(directory.glob("*.tf")):
        parsed = hcl2.load(path.open())
        for kind in ("resource", "data"):
            for entry in parsed.get(kind, []):
                for type_key, named in entry.items():
                    for name_key, body in named.items():
                        arguments, nested = _body(body)
                        block = Block(kind, _unquote(type_key), _unquote(name_key), path)
                        block.arguments = arguments - META_ARGUMENTS
                        for nested_name, bodies in nested.items():
                            if nested_name in META_ARGUMENTS:
                                continue
                            names = block.nested.setdefault(nested_name, set())
                            for nested_body in bodies:
                                inner_arguments, inner_blocks = _body(nested_body)
                                names |= inner_arguments | {f"{inner}{{}}" for inner in inner_blocks}
                        found.append(block)
    return found
