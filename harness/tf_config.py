"""Terraform configuration read with python-hcl2: every resource and data block with the names it sets."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.hcl import parse_file

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


def locals_of(tf_file: Path) -> dict[str, Any]:
    """The locals a .tf file sets, as python-hcl2 reads them (expressions stay strings)."""
    return {key: value for block in parse_file(tf_file)["locals"] for key, value in block.items()}


def blocks(directory: Path) -> list[Block]:
    found: list[Block] = []
    for path in sorted(directory.glob("*.tf")):
        parsed = parse_file(path)
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


def conditions(directory: Path) -> dict[str, int]:
    """Custom conditions of a module by the address a run's expect_failures names it with:
    validation blocks of var.NAME, pre- and postconditions of TYPE.NAME, data.TYPE.NAME and output.NAME.
    expect_failures names the object, not the condition, so each condition needs a run of its own."""
    found: dict[str, int] = {}
    for path in sorted(directory.glob("*.tf")):
        parsed = parse_file(path)
        for entry in parsed.get("variable", []):
            for name, body in entry.items():
                found[f"var.{_unquote(name)}"] = len(body.get("validation", []))
        for kind, prefix in (("resource", ""), ("data", "data.")):
            for entry in parsed.get(kind, []):
                for type_key, named in entry.items():
                    for name_key, body in named.items():
                        found[f"{prefix}{_unquote(type_key)}.{_unquote(name_key)}"] = sum(
                            len(block.get("precondition", [])) + len(block.get("postcondition", []))
                            for block in body.get("lifecycle", [])
                        )
        for entry in parsed.get("output", []):
            for name, body in entry.items():
                found[f"output.{_unquote(name)}"] = len(body.get("precondition", []))
    return {address: count for address, count in found.items() if count}


@dataclass
class RunBlock:
    file: Path
    name: str
    module_source: str  # "." for the module under test, else the run's module { source }
    expect_failures: list[str]


def run_blocks(path: Path) -> list[RunBlock]:
    """The run blocks of a .tftest.hcl file."""
    found: list[RunBlock] = []
    for entry in parse_file(path).get("run", []):
        for name, body in entry.items():
            modules = body.get("module", [])
            found.append(
                RunBlock(
                    path,
                    _unquote(name),
                    _unquote(modules[0]["source"]) if modules else ".",
                    [address.removeprefix("${").removesuffix("}") for address in body.get("expect_failures", [])],
                )
            )
    return found
