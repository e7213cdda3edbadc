"""Generated documentation, in the spirit of terraform-docs (whose binary is not installed here).

``make docs`` (``PYTHONPATH=. python -m harness.docs``) rewrites, from the sources:

- between ``<!-- BEGIN_TF_DOCS -->`` and ``<!-- END_TF_DOCS -->`` in the README of the root
  module, of each module under modules/ and of each example: its requirements, providers,
  modules, resources, inputs and outputs, read from its .tf files with python-hcl2 only;
- the diagrams, drawn from two plans of the root module with the sample workflow (PLAN_CONFIGS):
  the loop in poll mode and in events mode, the callback state machine and the sample workflow's
  trigger graph, as Terraform itself renders and merges them. Each is a Graphviz source and an
  SVG under docs/, shown as an image between ``<!-- BEGIN_DIAGRAM <name> -->`` and
  ``<!-- END_DIAGRAM <name> -->`` on the page that explains it (DIAGRAM_PAGES). GitHub shows SVG
  images in Markdown, so no diagram is also written as Mermaid;
- between ``<!-- BEGIN_ROLE_PERMISSIONS -->`` and ``<!-- END_ROLE_PERMISSIONS -->`` in
  docs/operations.md: what each role you bring needs, feature by feature, read from the policy
  documents the module attaches to the roles it creates (ROLES).

``--check`` lists the stale files instead of writing them; tests/test_docs.py checks the same.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
from hcl2.rules.base import AttributeRule
from hcl2.rules.containers import ObjectRule, TupleRule
from hcl2.rules.expressions import ExprTermRule
from hcl2.rules.functions import FunctionCallRule

from harness import asl, hcl
from harness.emulator import REGION, AwsEmulator
from harness.terraform import REPO_ROOT, TerraformWorkspace
from harness.tf_config import blocks

DOCS = REPO_ROOT / "docs"
DESIGN = DOCS / "design.md"
TF_DOCS = ("<!-- BEGIN_TF_DOCS -->", "<!-- END_TF_DOCS -->")
SAMPLE_MODULE = "modules/sample-glue-workflow"
SAMPLE_NAME = "retail-sample"
# The two plans every diagram is drawn from: the sample workflow gives the triggers a graph and
# supplies the job and crawler names that events mode needs.
PLAN_CONFIGS: dict[str, dict[str, Any]] = {
    "poll": {"name": SAMPLE_NAME, "create_sample_workflow": True},
    "events": {"name": SAMPLE_NAME, "create_sample_workflow": True, "completion_mode": "events"},
}
# Strings and heredocs as their text and block labels unquoted; expressions stay "${...}".
HCL_TEXT = hcl2.SerializationOptions(strip_string_quotes=True, preserve_heredocs=False)
# Types and defaults longer than this are laid out one attribute per line, as in a .tf file.
INLINE_WIDTH = 60
EDGE_LABEL_WIDTH = 32


def diagram_markers(name: str) -> tuple[str, str]:
    return f"<!-- BEGIN_DIAGRAM {name} -->", f"<!-- END_DIAGRAM {name} -->"


# ---------------------------------------------------------------------------------------------
# HCL as python-hcl2 reads it
# ---------------------------------------------------------------------------------------------


def read_hcl(text: str) -> dict[str, Any]:
    return hcl.parse(text, HCL_TEXT)


def hcl_text(value: str) -> str:
    """A string's text: python-hcl2 leaves the template escapes of a literal ``${`` or ``%{`` as written."""
    return value.replace("$${", "${").replace("%%{", "%{")


def _is_expression(value: str) -> bool:
    return value.startswith("${") and value.endswith("}")


def hcl_value(value: Any, indent: str = "") -> str:
    """A value as HCL source: objects on one line while they fit, else one attribute per line."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # HCL's quoted-string escapes are JSON's, and a literal "${" stays escaped as "$${".
        return value[2:-1] if _is_expression(value) else json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(hcl_value(item, indent) for item in value) + "]"
    if isinstance(value, dict):
        pairs = [(key, hcl_value(item, indent + "  ")) for key, item in value.items() if not key.startswith("__")]
        inline = "{ " + ", ".join(f"{key} = {item}" for key, item in pairs) + " }" if pairs else "{}"
        return inline if len(inline) <= INLINE_WIDTH and "\n" not in inline else _layout(pairs, indent)
    return str(value)


def hcl_type(value: Any) -> str:
    """A type constraint, its object types laid out one attribute per line when it is long."""
    if value is None:
        return "any"
    # A type is an expression; python-hcl2 wraps it in "${...}" unless it is a bare keyword.
    expression = value[2:-1] if _is_expression(value) else value
    if len(expression) <= INLINE_WIDTH:
        return expression
    # python-hcl2's own tree of the expression says where each object type begins and ends.
    (attribute,) = (
        child for child in hcl2.parses(f"type = {expression}").body.children if isinstance(child, AttributeRule)
    )
    return _laid_out(attribute.expression, "")


def _laid_out(rule: Any, indent: str) -> str:
    if isinstance(rule, ExprTermRule):
        return _laid_out(rule.expression, indent)
    if isinstance(rule, FunctionCallRule):
        name = "::".join(str(identifier.serialize()) for identifier in rule.identifiers)
        arguments = rule.arguments.arguments if rule.arguments else []
        return f"{name}(" + ", ".join(_laid_out(argument, indent) for argument in arguments) + ")"
    if isinstance(rule, ObjectRule):
        pairs = [
            (str(element.key.serialize()), _laid_out(element.expression, indent + "  ")) for element in rule.elements
        ]
        return _layout(pairs, indent)
    if isinstance(rule, TupleRule):
        return "[" + ", ".join(_laid_out(element, indent) for element in rule.elements) + "]"
    value = rule.serialize()  # the source of a string or keyword, or a number or bool
    if isinstance(value, str):
        return value[2:-1] if _is_expression(value) else value
    return hcl_value(value)


def _layout(pairs: list[tuple[str, str]], indent: str) -> str:
    if not pairs:
        return "{}"
    width = max(len(name) for name, _ in pairs)
    lines = [f"{indent}  {name.ljust(width)} = {value}" for name, value in pairs]
    return "{\n" + "\n".join(lines) + f"\n{indent}}}"


# ---------------------------------------------------------------------------------------------
# Requirements, providers, modules, resources, inputs and outputs of one module
# ---------------------------------------------------------------------------------------------


def module_directories() -> list[Path]:
    candidates = [REPO_ROOT, *sorted((REPO_ROOT / "modules").glob("*")), *sorted((REPO_ROOT / "examples").glob("*"))]
    return [directory for directory in candidates if any(directory.glob("*.tf"))]


def _named_blocks(files: list[dict[str, Any]], kind: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, body)
        for parsed in files
        for entry in parsed.get(kind, [])
        for name, body in entry.items()
        if not name.startswith("__")
    ]


def module_variables(directory: Path = REPO_ROOT) -> dict[str, dict[str, Any]]:
    """Each variable block of a module, by name, as read_hcl reads it. Only the files that have one are
    parsed: python-hcl2 takes some 0.1 CPU-s per file, and conftest reads the root module's at start-up."""
    texts = [path.read_text() for path in sorted(directory.glob("*.tf"))]
    files = [read_hcl(text) for text in texts if re.search(r"^variable\s", text, re.MULTILINE)]
    return dict(_named_blocks(files, "variable"))


def _optional_default(attribute_type: str) -> tuple[bool, Any]:
    """Whether an object attribute's type, ``optional(type, default)``, gives a default, and which."""
    arguments = attribute_type.removeprefix("${optional(").removesuffix(")}")
    depth = 0
    for index, character in enumerate(arguments):
        depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(character, 0)
        if character == "," and depth == 0:
            return True, read_hcl(f"default = {arguments[index + 1 :].strip()}\n")["default"]
    return False, None


def object_defaults(variable: dict[str, Any]) -> dict[str, Any] | None:
    """An object variable's attributes with their defaults (``optional(type, default)`` in its type);
    None for a variable of another type."""
    type_expression = str(variable.get("type", "")).removeprefix("${").removesuffix("}")
    if not type_expression.startswith("object("):
        return None
    attributes = read_hcl(f"attributes = {type_expression.removeprefix('object(').removesuffix(')')}\n")
    defaults = {name: _optional_default(kind) for name, kind in attributes["attributes"].items()}
    return {name: default for name, (has_default, default) in defaults.items() if has_default}


# "Defaults to <name>-task-tokens." in a variable's description; "name (defaults to name)" for an attribute.
_DERIVED = re.compile(r"\bDefaults to (\S+?)\.?(?:\s|$)")
_DERIVED_ATTRIBUTE = re.compile(r"\b(\w+) \(defaults to (\S+?)\)")


def _derived(text: str, name: str) -> str:
    return name if text == "name" else text.replace("<name>", name)


def documented_values(variables: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    """What the variables' blocks say each input is when it is not set, for a module called ``name``:
    its default, an object's attributes with their own defaults, and the value a description says a
    name defaults to ("Defaults to <name>-task-tokens.", "name (defaults to name)")."""
    values: dict[str, Any] = {}
    for variable_name, variable in variables.items():
        if "default" not in variable:
            continue
        attributes = object_defaults(variable)
        description = str(variable.get("description", ""))
        if attributes is not None:
            for attribute, derived in _DERIVED_ATTRIBUTE.findall(description):
                attributes[attribute] = _derived(derived, name)
            values[variable_name] = attributes
        elif derived_name := _DERIVED.search(description):
            values[variable_name] = _derived(derived_name[1], name)
        else:
            values[variable_name] = variable["default"]
    return values


def documented_examples(variables: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """The examples a variable's validation messages give of a good value: '(for example "/" or "/data/")'."""
    examples: dict[str, list[str]] = {}
    for variable_name, variable in variables.items():
        for rule in variable.get("validation", []):
            for given in re.findall(r"\(for example ([^)]*)\)", str(rule.get("error_message", ""))):
                examples.setdefault(variable_name, []).extend(re.findall(r'"([^"]*)"', given))
    return examples


def _cell(text: str) -> str:
    # A pipe ends a table cell even inside a code span.
    return text.replace("|", "\\|")


def _code(text: str) -> str:
    if "\n" in text:
        return _cell("<pre>" + html.escape(text, quote=False).replace("\n", "<br>") + "</pre>")
    return _cell(f"`{text}`")


def _prose(text: str) -> str:
    # Escaped so that a placeholder such as <name> shows instead of passing for an HTML tag.
    return _cell(html.escape(" ".join(text.split()), quote=False))


def _table(title: str, header: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return f"## {title}\n\nNo {title.lower()}."
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return f"## {title}\n\n" + "\n".join(lines)


def _given(body: dict[str, Any], key: str, render: Callable[[Any], str] = hcl_text) -> str:
    return _code(render(body[key])) if key in body else "n/a"


def _description(body: dict[str, Any]) -> str:
    return _prose(hcl_text(body["description"])) if "description" in body else "n/a"


def tf_docs(directory: Path) -> str:
    """The terraform-docs-like reference of the module in directory, in markdown."""
    files = [read_hcl(path.read_text()) for path in sorted(directory.glob("*.tf"))]
    settings = [block for parsed in files for block in parsed.get("terraform", [])]
    required: dict[str, dict[str, Any]] = {
        name: spec if isinstance(spec, dict) else {"version": spec}  # the pre-0.13 form: a version only
        for block in settings
        for providers in block.get("required_providers", [])
        for name, spec in providers.items()
        if not name.startswith("__")
    }
    requirements = [
        ["terraform", _given(block, "required_version")] for block in settings if "required_version" in block
    ]
    requirements += [[name, _given(spec, "version")] for name, spec in sorted(required.items())]

    resources = blocks(directory)
    used = {block.type.split("_", 1)[0] for block in resources} | {name for name, _ in _named_blocks(files, "provider")}

    def source(provider: str) -> str:
        return hcl_text(required.get(provider, {}).get("source", f"hashicorp/{provider}"))

    providers = [[name, _code(source(name)), _given(required.get(name, {}), "version")] for name in sorted(used)]
    modules = [
        [f"`{name}`", _given(body, "source"), _given(body, "version")] for name, body in _named_blocks(files, "module")
    ]
    resource_rows = []
    for block in sorted(resources, key=lambda block: (block.type, block.name, block.kind)):
        provider, short_type = block.type.split("_", 1)
        page = "resources" if block.kind == "resource" else "data-sources"
        link = f"https://registry.terraform.io/providers/{source(provider)}/latest/docs/{page}/{short_type}"
        address = f"{'data.' if block.kind == 'data' else ''}{block.type}.{block.name}"
        resource_rows.append([f"[{address}]({link})", "resource" if block.kind == "resource" else "data source"])
    inputs = [
        [
            f"`{name}`",
            _description(body),
            _code(hcl_type(body.get("type"))),
            _given(body, "default", hcl_value),
            "no" if "default" in body else "yes",
        ]
        for name, body in _named_blocks(files, "variable")
    ]
    outputs = [[f"`{name}`", _description(body)] for name, body in _named_blocks(files, "output")]
    return "\n\n".join(
        [
            _table("Requirements", ["Name", "Version"], requirements),
            _table("Providers", ["Name", "Source", "Version"], providers),
            _table("Modules", ["Name", "Source", "Version"], modules),
            _table("Resources", ["Name", "Type"], resource_rows),
            _table("Inputs", ["Name", "Description", "Type", "Default", "Required"], inputs),
            _table("Outputs", ["Name", "Description"], outputs),
        ]
    )


def with_block(text: str, markers: tuple[str, str], content: str) -> str:
    """text with the content between the markers replaced; missing markers are added with the block at the end."""
    begin, end = markers
    block = f"{begin}\n{content.strip()}\n{end}"
    if begin in text:
        head, rest = text.split(begin, 1)
        if end not in rest:
            raise ValueError(f"{begin} has no {end} after it")
        return head + block + rest.split(end, 1)[1]
    return f"{text.rstrip()}\n\n{block}\n" if text.strip() else f"{block}\n"


# ---------------------------------------------------------------------------------------------
# Diagrams: one graph model, written as Graphviz DOT
# ---------------------------------------------------------------------------------------------


SHAPES = {
    "start": 'shape=ellipse, style=filled, fillcolor="#e0e0e0", fontsize=9',
    "end": 'shape=doublecircle, style=filled, fillcolor="#e0e0e0", fontsize=9',
    "task": "shape=box",
    "choice": "shape=diamond",
    "pass": "shape=box, style=rounded",
    "wait": "shape=hexagon",
    "nested": "shape=box3d",
    "succeed": 'shape=box, style="rounded,filled", fillcolor="#d4edda"',
    "fail": 'shape=box, style="rounded,filled", fillcolor="#f8d7da"',
    "trigger": 'shape=hexagon, style=filled, fillcolor="#fff3cd"',
    "crawler": "shape=parallelogram",
    "job": "shape=box",
}
STATE_SHAPES = {
    "Task": "task",
    "Choice": "choice",
    "Pass": "pass",
    "Wait": "wait",
    "Parallel": "nested",
    "Map": "nested",
    "Succeed": "succeed",
    "Fail": "fail",
}
START, END = "(start)", "(end)"


@dataclass
class Diagram:
    name: str  # of docs/<name>.dot and .svg and of the page's markers
    title: str
    source: str  # what it is drawn from, named in the .dot file
    caption: str  # markdown above the image; "{root}" stands for the way from its page to the repository root
    nodes: dict[str, tuple[str, str]] = field(default_factory=dict)  # key: (label, shape)
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # (from, to, label)

    def node(self, key: str, label: str, shape: str) -> str:
        if key in self.nodes:
            raise ValueError(f"{self.name}: two nodes named {key!r}")
        self.nodes[key] = (label, shape)
        return key

    def edge(self, source: str, target: str, label: str = "") -> None:
        self.edges.append((source, target, label))


def _dot_quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(diagram: Diagram) -> str:
    lines = [
        f"// Generated by `make docs` from {diagram.source}: edit that, not this file.",
        f"digraph {_dot_quoted(diagram.name)} {{",
        f'  graph [label={_dot_quoted(diagram.title)}, labelloc=t, fontname="Helvetica", nodesep=0.3];',
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    lines += [
        f"  {_dot_quoted(key)} [label={_dot_quoted(label)}, {SHAPES[shape]}];"
        for key, (label, shape) in diagram.nodes.items()
    ]
    lines += [
        f"  {_dot_quoted(source)} -> {_dot_quoted(target)}" + (f" [label={_dot_quoted(label)}]" if label else "") + ";"
        for source, target, label in diagram.edges
    ]
    return "\n".join([*lines, "}", ""])


def relative_link(path: Path, page: Path) -> str:
    return Path(os.path.relpath(path, page.parent)).as_posix()


def diagram_block(diagram: Diagram, page: Path) -> str:
    """The caption, the SVG and a link to its Graphviz source, with links relative to page."""
    root = relative_link(REPO_ROOT, page)
    svg, dot = (relative_link(DOCS / f"{diagram.name}{suffix}", page) for suffix in (".svg", ".dot"))
    return "\n".join(
        [
            diagram.caption.format(root="" if root == "." else f"{root}/"),
            "",
            f"![{diagram.title}]({svg})",
            "",
            f"Graphviz source: [`{diagram.name}.dot`]({dot}).",
        ]
    )


# ---------------------------------------------------------------------------------------------
# State machines
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StateMachine:
    name: str
    templates: str  # the files it is written in
    plan: str  # of PLAN_CONFIGS
    address: str
    title: str
    caption: str


STATE_MACHINES = (
    StateMachine(
        "statemachine",
        "statemachine.asl.json",
        "poll",
        "aws_sfn_state_machine.this[0]",
        "The loop in poll mode (statemachine.asl.json)",
        "Every state and transition of the loop in poll mode, from "
        "[`statemachine.asl.json`]({root}statemachine.asl.json) as a plan of the module renders it:",
    ),
    StateMachine(
        "statemachine-events",
        "statemachine.asl.json and statemachine.events.json",
        "events",
        "aws_sfn_state_machine.this[0]",
        "The loop in events mode (statemachine.asl.json with statemachine.events.json)",
        "Every state and transition of the loop in events mode, from "
        "[`statemachine.asl.json`]({root}statemachine.asl.json) and "
        "[`statemachine.events.json`]({root}statemachine.events.json) as a plan of the module renders and merges them:",
    ),
    StateMachine(
        "callback",
        "callback.asl.json",
        "events",
        "aws_sfn_state_machine.callback[0]",
        "The callback state machine (callback.asl.json)",
        "Every state and transition of the callback state machine, from "
        "[`callback.asl.json`]({root}callback.asl.json) as a plan of the module renders it:",
    ),
)
# The page each diagram is shown on.
DIAGRAM_PAGES = {
    "statemachine": DESIGN,
    "statemachine-events": DESIGN,
    "callback": DESIGN,
    "sample-workflow-triggers": REPO_ROOT / SAMPLE_MODULE / "README.md",
}


def _created(plan: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    """Planned values of every instance of a resource type that the plan creates, by address."""
    return {
        change["address"]: change["change"]["after"]
        for change in plan["resource_changes"]
        if change["type"] == resource_type and change["change"]["actions"] == ["create"]
    }


COMPARISONS = (
    ("GreaterThanEquals", ">="),
    ("LessThanEquals", "<="),
    ("GreaterThan", ">"),
    ("LessThan", "<"),
    ("Equals", "=="),
    ("Matches", "matches"),
)


def _path(path: str) -> str:
    # Every JSONPath starts with "$.", which says nothing in a diagram.
    return path.removeprefix("$.")


def choice_rule(rule: dict[str, Any]) -> str:
    """A Choice rule in a few words, e.g. ``run.status == "STOPPED" or run.status == "ERROR"``."""
    if "Condition" in rule:  # JSONata; a diagram reads better without the path to the state's input
        return rule["Condition"].removeprefix("{%").removesuffix("%}").strip().replace("$states.input.", "")
    if "Not" in rule:
        inner = rule["Not"]
        if _is_comparison(inner) and _has_negative_form(_operator(inner)):
            return _comparison(inner, negated=True)
        return f"not ({choice_rule(inner)})"
    for combinator in ("And", "Or"):
        if combinator in rule:
            operands = [choice_rule(inner) for inner in rule[combinator]]
            wrapped = [
                f"({text})" if {"And", "Or"} & set(inner) else text
                for text, inner in zip(operands, rule[combinator], strict=True)
            ]
            return f" {combinator.lower()} ".join(wrapped)
    return _comparison(rule)


def _is_comparison(rule: dict[str, Any]) -> bool:
    return not {"Condition", "Not", "And", "Or"} & set(rule)


def _operator(rule: dict[str, Any]) -> str:
    suffixes = tuple(suffix for suffix, _ in COMPARISONS)
    return next(key for key in rule if key.startswith("Is") or key.removesuffix("Path").endswith(suffixes))


def _has_negative_form(operator: str) -> bool:
    base = operator.removesuffix("Path")
    return operator.startswith("Is") or (base.endswith("Equals") and not base.endswith("ThanEquals"))


def _comparison(rule: dict[str, Any], negated: bool = False) -> str:
    """A data-test rule, negated for those with a negative form ("!=", "is not")."""
    operator = _operator(rule)
    value = rule[operator]
    if operator.startswith("Is"):
        return f"{_path(rule['Variable'])} is {'' if bool(value) != negated else 'not '}{operator[2:].lower()}"
    symbol = next(symbol for suffix, symbol in COMPARISONS if operator.removesuffix("Path").endswith(suffix))
    if negated:
        symbol = "!="
    compared = _path(value) if operator.endswith("Path") else json.dumps(value)
    return f"{_path(rule['Variable'])} {symbol} {compared}"


def _wrapped(text: str) -> str:
    return "\n".join(textwrap.wrap(text, EDGE_LABEL_WIDTH, break_long_words=False, break_on_hyphens=False))


def transition_label(transition: asl.Transition) -> str:
    rule = transition.rule or {}
    if transition.via == "Choice":
        return _wrapped(choice_rule(rule))
    if transition.via == "Catch":
        return _wrapped("catch " + ", ".join(rule["ErrorEquals"]))
    return "Default" if transition.via == "Default" else ""


def state_machine_diagram(diagram: Diagram, definition: dict[str, Any]) -> Diagram:
    """diagram with every state and transition of definition."""
    diagram.node(START, "start", "start")
    for state_name, state in definition["States"].items():
        label = state_name
        if state["Type"] == "Task":
            label += "\n" + re.sub(r"^arn:[^:]+:states:::", "", state["Resource"])
        diagram.node(state_name, label, STATE_SHAPES.get(state["Type"], "task"))
    diagram.edge(START, definition["StartAt"])
    for transition in asl.all_transitions(definition):
        diagram.edge(transition.source, transition.target, transition_label(transition))
    ending = [state_name for state_name, state in definition["States"].items() if state.get("End")]
    if ending:
        diagram.node(END, "end", "end")
        for state_name in ending:
            diagram.edge(state_name, END)
    return diagram


def planned_state_machine(machine: StateMachine, plans: dict[str, dict[str, Any]]) -> Diagram:
    (definition,) = (
        json.loads(values["definition"])
        for address, values in _created(plans[machine.plan], "aws_sfn_state_machine").items()
        if address == machine.address
    )
    source = f"{machine.templates} (as {machine.address} in {_planned_with(machine.plan)})"
    return state_machine_diagram(Diagram(machine.name, machine.title, source, machine.caption), definition)


def _planned_with(plan: str) -> str:
    arguments = ", ".join(f"{name} = {hcl_value(value)}" for name, value in PLAN_CONFIGS[plan].items())
    return f"a plan of the root module with {arguments}"


# ---------------------------------------------------------------------------------------------
# The sample workflow's trigger graph
# ---------------------------------------------------------------------------------------------


def trigger_diagram(plan: dict[str, Any]) -> Diagram:
    """The triggers a plan creates: Terraform itself evaluates the locals, for_each and dynamic
    blocks of modules/sample-glue-workflow into them."""
    (workflow,) = (values["name"] for values in _created(plan, "aws_glue_workflow").values())
    diagram = Diagram(
        "sample-workflow-triggers",
        title="Triggers of the sample workflow",
        source=f"{SAMPLE_MODULE} (as {_planned_with('poll')})",
        caption=f"The triggers a plan of [`{SAMPLE_MODULE}`]({{root}}{SAMPLE_MODULE}) creates (names without "
        "their `<name>-` prefix): a job or crawler ending in the state on an arrow fires the trigger, "
        "which starts what it points at once its conditions hold (`AND`: all, `ANY`: one).",
    )

    def short(name: str) -> str:
        return name.removeprefix(f"{workflow}-")

    def node(step: dict[str, Any]) -> str:
        kind = "crawler" if step.get("crawler_name") else "job"
        key = f"{kind} {step[f'{kind}_name']}"
        return key if key in diagram.nodes else diagram.node(key, short(step[f"{kind}_name"]), kind)

    diagram.node(START, "StartWorkflowRun", "start")
    # The start trigger first, so that the Graphviz source reads in the order the run goes.
    triggers = sorted(_created(plan, "aws_glue_trigger").values(), key=lambda trigger: trigger["type"] != "ON_DEMAND")
    for trigger in triggers:
        predicate = trigger["predicate"][0] if trigger["predicate"] else {"logical": trigger["type"], "conditions": []}
        key = diagram.node(f"trigger {trigger['name']}", f"{short(trigger['name'])}\n{predicate['logical']}", "trigger")
        if trigger["type"] == "ON_DEMAND":
            diagram.edge(START, key)
        for condition in predicate["conditions"]:
            diagram.edge(node(condition), key, condition["crawl_state"] or condition["state"])
        for action in trigger["actions"]:
            diagram.edge(key, node(action))
    return diagram


# ---------------------------------------------------------------------------------------------
# The permissions of roles you bring
# ---------------------------------------------------------------------------------------------

ROLE_PERMISSIONS = ("<!-- BEGIN_ROLE_PERMISSIONS -->", "<!-- END_ROLE_PERMISSIONS -->")
OPERATIONS = DOCS / "operations.md"


@dataclass(frozen=True)
class Role:
    variable: str  # the input that brings it
    title: str
    documents: tuple[str, ...]  # the aws_iam_policy_document data sources the created role gets


ROLES = (
    Role("role_arn", "The loop's role", ("loop", "observability")),
    Role("callback_role_arn", "The callback's role (events mode)", ("callback", "observability")),
    Role("event_rule_role_arn", "The EventBridge role (events mode)", ("events",)),
)
# When a statement is attached: its dynamic block's for_each, or its document's count. A
# condition missing here fails `make docs`, so that a new one cannot go undescribed.
NEEDED_WHEN = {
    "local.create_role ? 1 : 0": "always",
    "local.create_role && local.events_mode ? 1 : 0": "always",
    "local.create_role && (local.logging_enabled || var.tracing_enabled) ? 1 : 0": "always",
    "var.recovery.enabled ? [1] : []": "`recovery.enabled`",
    "local.events_mode ? [1] : []": "events mode",
    "local.wake_on_data ? [1] : []": "events mode with `wake_on_data`",
    "local.events_mode && var.token_table_kms_key_arn != null ? [1] : []": "events mode with `token_table_kms_key_arn`",
    "var.token_table_kms_key_arn != null ? [1] : []": "`token_table_kms_key_arn`",
    "local.pause_parameter_name != null ? [1] : []": "a pause flag (the default)",
    "local.notify ? [1] : []": "notices (`create_sns_topic` or `sns_topic_arn`)",
    "local.notify && local.sns_kms_key_arn != null ? [1] : []": "notices to a KMS-encrypted topic",
    "var.metrics.enabled ? [1] : []": "metrics (the default)",
    "local.logging_enabled ? [1] : []": "logging (the default)",
    "var.tracing_enabled ? [1] : []": "tracing (the default)",
}
# What a statement's resource expression names.
RESOURCE_NAMES = {
    "local.glue_workflow_arn": "the workflow",
    "local.state_machine_arn": "the loop's state machine",
    "local.token_table_arn": "the token table",
    "var.token_table_kms_key_arn": "that key",
    "aws_ssm_parameter.pause[0].arn": "the pause flag's parameter",
    "local.sns_topic_arn": "the topic",
    "local.sns_kms_key_arn": "the topic's key",
    "aws_sfn_state_machine.callback[0].arn": "the callback state machine",
    "*": "`*` (no resource-level permissions)",
}


def _expression(value: str) -> str:
    return value[2:-1] if _is_expression(value) else value


def policy_documents() -> dict[str, tuple[str, list[dict[str, Any]]]]:
    """Each aws_iam_policy_document of the root module by name: its count and its statements, each
    with the condition it is attached on ("" for always), static ones first, as python-hcl2 reads them."""
    documents = {}
    for path in sorted(REPO_ROOT.glob("*.tf")):
        for entry in read_hcl(path.read_text()).get("data", []):
            for type_key, named in entry.items():
                if type_key.strip('"') != "aws_iam_policy_document":
                    continue
                for name, body in named.items():
                    statements = [{**statement, "when": ""} for statement in body.get("statement", [])]
                    for dynamic in body.get("dynamic", []):
                        for kind, block in dynamic.items():
                            if kind.strip('"') == "statement":
                                when = _expression(block["for_each"])
                                statements += [{**content, "when": when} for content in block["content"]]
                    documents[name.strip('"')] = (_expression(body.get("count", "")), statements)
    return documents


def _statement_row(statement: dict[str, Any], document_when: str) -> list[str]:
    when = NEEDED_WHEN[statement["when"] or document_when]
    resources = [RESOURCE_NAMES[_expression(resource)] for resource in statement["resources"]]
    conditions = []
    for condition in statement.get("condition", []):
        if condition["test"] != "StringEquals":
            raise ValueError(f"describe the {condition['test']} condition of {statement['sid']}")
        values = ", ".join(_code(_expression(value).removeprefix("var.")) for value in condition["values"])
        conditions.append(f"`{condition['variable']}` = {values}")
    on = ", ".join(resources) + "".join(f", where {condition}" for condition in conditions)
    return [when, ", ".join(_code(action) for action in statement["actions"]), on, _code(statement["sid"])]


def role_statements() -> dict[str, list[tuple[dict[str, Any], str]]]:
    """By the input that brings each role: the statements the module attaches to the role it
    creates instead, each with the condition of its document's count."""
    documents = policy_documents()
    return {
        role.variable: [(statement, documents[name][0]) for name in role.documents for statement in documents[name][1]]
        for role in ROLES
    }


def role_permissions() -> str:
    """The tables of what each role you bring needs."""
    statements = role_statements()
    sections = []
    for role in ROLES:
        rows = [_statement_row(statement, document_when) for statement, document_when in statements[role.variable]]
        header = ["Needed with", "Actions", "On", "Statement of the created role"]
        lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        sections.append(f"### {role.title}, `{role.variable}`\n\n" + "\n".join(lines))
    return "\n\n".join(sections)


# ---------------------------------------------------------------------------------------------
# Everything together
# ---------------------------------------------------------------------------------------------


def plan_all(endpoint_url: str) -> dict[str, dict[str, Any]]:
    """A plan of the root module for each of PLAN_CONFIGS; endpoint_url is an AWS emulator's."""
    with tempfile.TemporaryDirectory() as copy:
        workspace = TerraformWorkspace(Path(copy), ".", endpoint_url, REGION)
        workspace.init()
        return {name: workspace.plan(config) for name, config in PLAN_CONFIGS.items()}


def diagrams(plans: dict[str, dict[str, Any]]) -> list[Diagram]:
    return [*(planned_state_machine(machine, plans) for machine in STATE_MACHINES), trigger_diagram(plans["poll"])]


def generate(plans: dict[str, dict[str, Any]]) -> dict[Path, str]:
    """Every generated file's content but the SVGs (see svgs()), by path: the READMEs, the pages
    that show diagrams and docs/*.dot. plans are of PLAN_CONFIGS, by name (plan_all())."""
    files = {}
    for directory in module_directories():
        readme = directory / "README.md"
        files[readme] = with_block(readme.read_text() if readme.exists() else "", TF_DOCS, tf_docs(directory))
    for diagram in diagrams(plans):
        page = DIAGRAM_PAGES[diagram.name]
        text = files[page] if page in files else page.read_text() if page.exists() else ""
        files[page] = with_block(text, diagram_markers(diagram.name), diagram_block(diagram, page))
        files[DOCS / f"{diagram.name}.dot"] = to_dot(diagram)
    operations = files[OPERATIONS] if OPERATIONS in files else OPERATIONS.read_text()
    files[OPERATIONS] = with_block(operations, ROLE_PERMISSIONS, role_permissions())
    return files


def render_svg(dot_source: str) -> str:
    return subprocess.run(["dot", "-Tsvg"], input=dot_source, capture_output=True, text=True, check=True).stdout


def svgs(files: dict[Path, str]) -> dict[Path, str]:
    return {path.with_suffix(".svg"): render_svg(text) for path, text in files.items() if path.suffix == ".dot"}


def graphviz_version(svg_or_dot_output: str) -> str | None:
    """The version, e.g. "2.43.0 (0)", in the comment atop an SVG of Graphviz's or in `dot -V`."""
    found = re.search(r"graphviz version (\S+(?: \([^)]*\))?)", svg_or_dot_output)
    return found.group(1) if found else None


def installed_graphviz() -> str | None:
    if shutil.which("dot") is None:
        return None
    return graphviz_version(subprocess.run(["dot", "-V"], capture_output=True, text=True, check=True).stderr)


def stale(files: dict[Path, str]) -> list[Path]:
    return [path for path, text in files.items() if not path.exists() or path.read_text() != text]


def orphaned(files: dict[Path, str]) -> list[Path]:
    """Diagrams under docs/ whose source is gone."""
    leftovers = [dot for dot in sorted(DOCS.glob("*.dot")) if dot not in files]
    return [path for dot in leftovers for path in (dot, dot.with_suffix(".svg")) if path.exists()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make docs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="list stale files and exit 1 instead of writing")
    args = parser.parse_args(argv)
    if installed_graphviz() is None:
        parser.error("Graphviz's dot renders docs/*.svg and is not installed (`make docs` installs it)")
    emulator = AwsEmulator(quiet=True)
    try:
        files = generate(plan_all(emulator.endpoint_url))
    finally:
        emulator.stop()
    files |= svgs(files)
    changed, leftovers = stale(files), orphaned(files)
    for path in changed:
        print(f"{'stale' if args.check else 'wrote'}: {path.relative_to(REPO_ROOT)}")
        if not args.check:
            path.parent.mkdir(exist_ok=True)
            path.write_text(files[path])
    for path in leftovers:
        print(f"{'left over' if args.check else 'removed'}: {path.relative_to(REPO_ROOT)}")
        if not args.check:
            path.unlink()
    return 1 if args.check and (changed or leftovers) else 0


if __name__ == "__main__":
    sys.exit(main())
