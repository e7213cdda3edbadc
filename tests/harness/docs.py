"""Generated documentation, in the spirit of terraform-docs (whose binary is not installed here).

``make docs`` (``PYTHONPATH=tests python -m harness.docs``) rewrites, from the sources:

- between ``<!-- BEGIN_TF_DOCS -->`` and ``<!-- END_TF_DOCS -->`` in the README of the root
  module, of each module under modules/ and of each example: its requirements, providers,
  modules, resources, inputs and outputs, read from its .tf files with python-hcl2;
- a diagram of every top-level ``*.asl.json``, drawn from the definition Terraform's own
  ``templatefile`` renders, and of the sample workflow's trigger graph, drawn from a plan of
  modules/sample-glue-workflow: Graphviz sources and SVGs under docs/, and Mermaid in README.md
  between ``<!-- BEGIN_DIAGRAM <name> -->`` and ``<!-- END_DIAGRAM <name> -->``.

``--check`` lists the stale files instead of writing them; tests/test_docs.py checks the same.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2

from harness import asl
from harness.emulator import REGION, AwsEmulator
from harness.plans import planned_resources
from harness.terraform import REPO_ROOT, TerraformWorkspace
from harness.tf_config import blocks

README = REPO_ROOT / "README.md"
DOCS = REPO_ROOT / "docs"
TF_DOCS = ("<!-- BEGIN_TF_DOCS -->", "<!-- END_TF_DOCS -->")
SAMPLE_MODULE = "modules/sample-glue-workflow"
SAMPLE_NAME = "retail-sample"
# Types and defaults longer than this are laid out one attribute per line, as in a .tf file.
INLINE_WIDTH = 60
EDGE_LABEL_WIDTH = 32


def diagram_markers(name: str) -> tuple[str, str]:
    return f"<!-- BEGIN_DIAGRAM {name} -->", f"<!-- END_DIAGRAM {name} -->"


# ---------------------------------------------------------------------------------------------
# HCL values as python-hcl2 returns them (strings keep their quotes, expressions are "${...}")
# ---------------------------------------------------------------------------------------------


def hcl_string(literal: str) -> str:
    """The text of a quoted string or heredoc."""
    body = literal[1:-1]
    if body.startswith("<<"):
        marker, _, rest = body.partition("\n")
        content = rest.rsplit("\n", 1)[0]  # without the closing marker's line
        text = textwrap.dedent(content) if marker.startswith("<<-") else content
    else:
        # HCL's quoted-string escapes are JSON's.
        text = json.loads(literal)
    return text.replace("$${", "${").replace("%%{", "%{")


def hcl_value(value: Any, indent: str = "") -> str:
    """A value as HCL source: objects on one line while they fit, else one attribute per line."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value[2:-1] if value.startswith("${") and value.endswith("}") else value
    if isinstance(value, list):
        return "[" + ", ".join(hcl_value(item, indent) for item in value) + "]"
    if isinstance(value, dict):
        pairs = [(key, hcl_value(item, indent + "  ")) for key, item in value.items() if not key.startswith("__")]
        inline = "{ " + ", ".join(f"{key} = {item}" for key, item in pairs) + " }" if pairs else "{}"
        return inline if len(inline) <= INLINE_WIDTH and "\n" not in inline else _layout(pairs, indent)
    return str(value)


def hcl_type(value: Any) -> str:
    """A type constraint, its object types laid out one attribute per line when it is long."""
    expression = hcl_value(value) if value is not None else "any"
    return expression if len(expression) <= INLINE_WIDTH else _expand_objects(expression, "")


def _expand_objects(expression: str, indent: str) -> str:
    parts: list[str] = []
    position = 0
    while (start := _find(expression, "object({", position)) >= 0:
        brace = start + len("object(")
        close = _closing(expression, brace)
        attributes = [attribute.split("=", 1) for attribute in _split_top_level(expression[brace + 1 : close])]
        pairs = [(name.strip(), _expand_objects(value.strip(), indent + "  ")) for name, value in attributes]
        parts.append(expression[position:brace] + _layout(pairs, indent))
        position = close + 1
    return "".join(parts) + expression[position:]


def _layout(pairs: list[tuple[str, str]], indent: str) -> str:
    if not pairs:
        return "{}"
    width = max(len(name) for name, _ in pairs)
    lines = [f"{indent}  {name.ljust(width)} = {value}" for name, value in pairs]
    return "{\n" + "\n".join(lines) + f"\n{indent}}}"


def _depths(expression: str) -> list[int | None]:
    """Bracket depth at each character; None inside quoted strings, whose brackets do not count."""
    depths: list[int | None] = []
    depth, quoted, escaped = 0, False, False
    for char in expression:
        if quoted:
            depths.append(None)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                quoted = False
            continue
        if char in ")]}":
            depth -= 1
        depths.append(depth)
        if char in "([{":
            depth += 1
        elif char == '"':
            quoted = True
    return depths


def _find(expression: str, needle: str, start: int) -> int:
    depths = _depths(expression)
    return next(
        (
            index
            for index in range(start, len(expression))
            if depths[index] is not None and expression.startswith(needle, index)
        ),
        -1,
    )


def _closing(expression: str, opening: int) -> int:
    depths = _depths(expression)
    return next(
        index
        for index in range(opening + 1, len(expression))
        if expression[index] in ")]}" and depths[index] == depths[opening]
    )


def _split_top_level(expression: str) -> list[str]:
    depths = _depths(expression)
    cuts = [index for index, char in enumerate(expression) if char == "," and depths[index] == 0]
    parts = [expression[start + 1 : end] for start, end in zip([-1, *cuts], [*cuts, len(expression)], strict=True)]
    return [part.strip() for part in parts if part.strip()]


# ---------------------------------------------------------------------------------------------
# Requirements, providers, modules, resources, inputs and outputs of one module
# ---------------------------------------------------------------------------------------------


def module_directories() -> list[Path]:
    candidates = [REPO_ROOT, *sorted((REPO_ROOT / "modules").glob("*")), *sorted((REPO_ROOT / "examples").glob("*"))]
    return [directory for directory in candidates if any(directory.glob("*.tf"))]


def _named_blocks(files: list[dict[str, Any]], kind: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (name.strip('"'), body)
        for parsed in files
        for entry in parsed.get(kind, [])
        for name, body in entry.items()
        if not name.startswith("__")
    ]


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


def _given(body: dict[str, Any], key: str, render: Callable[[Any], str] = hcl_string) -> str:
    return _code(render(body[key])) if key in body else "n/a"


def _description(body: dict[str, Any]) -> str:
    return _prose(hcl_string(body["description"])) if "description" in body else "n/a"


def tf_docs(directory: Path) -> str:
    """The terraform-docs-like reference of the module in directory, in markdown."""
    files = [hcl2.loads(path.read_text()) for path in sorted(directory.glob("*.tf"))]
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
        return hcl_string(required.get(provider, {}).get("source", f'"hashicorp/{provider}"'))

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


def with_block(text: str, markers: tuple[str, str], content: str, after: Iterable[str] = ()) -> str:
    """text with the content between the markers replaced. Missing markers are added with the
    block, right after the last of ``after`` found in text or else at the end."""
    begin, end = markers
    block = f"{begin}\n{content.strip()}\n{end}"
    if begin in text:
        head, rest = text.split(begin, 1)
        if end not in rest:
            raise ValueError(f"{begin} has no {end} after it")
        return head + block + rest.split(end, 1)[1]
    anchors = [text.index(anchor) + len(anchor) for anchor in after if anchor in text]
    if anchors:
        cut = max(anchors)
        return f"{text[:cut]}\n\n{block}{text[cut:]}"
    return f"{text.rstrip()}\n\n{block}\n" if text.strip() else f"{block}\n"


# ---------------------------------------------------------------------------------------------
# Diagrams: one graph model, written as Graphviz DOT and as a Mermaid flowchart
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    dot: str
    mermaid: tuple[str, str]  # the brackets around a Mermaid node's label
    fill: str = ""


SHAPES = {
    "start": Shape('shape=ellipse, style=filled, fillcolor="#e0e0e0", fontsize=9', ("((", "))"), "#e0e0e0"),
    "end": Shape('shape=doublecircle, style=filled, fillcolor="#e0e0e0", fontsize=9', ("(((", ")))"), "#e0e0e0"),
    "task": Shape("shape=box", ("[", "]")),
    "choice": Shape("shape=diamond", ("{", "}")),
    "pass": Shape("shape=box, style=rounded", ("(", ")")),
    "wait": Shape("shape=hexagon", ("{{", "}}")),
    "nested": Shape("shape=box3d", ("[[", "]]")),
    "succeed": Shape('shape=box, style="rounded,filled", fillcolor="#d4edda"', ("([", "])"), "#d4edda"),
    "fail": Shape('shape=box, style="rounded,filled", fillcolor="#f8d7da"', ("([", "])"), "#f8d7da"),
    "trigger": Shape('shape=hexagon, style=filled, fillcolor="#fff3cd"', ("{{", "}}"), "#fff3cd"),
    "crawler": Shape("shape=parallelogram", ("[/", "/]")),
    "job": Shape("shape=box", ("[", "]")),
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
    name: str  # of docs/<name>.dot and .svg and of the README markers
    title: str
    source: str  # what it is drawn from, named in the .dot file
    caption: str  # markdown above the image in README.md
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
        f"  {_dot_quoted(key)} [label={_dot_quoted(label)}, {SHAPES[shape].dot}];"
        for key, (label, shape) in diagram.nodes.items()
    ]
    lines += [
        f"  {_dot_quoted(source)} -> {_dot_quoted(target)}" + (f" [label={_dot_quoted(label)}]" if label else "") + ";"
        for source, target, label in diagram.edges
    ]
    return "\n".join([*lines, "}", ""])


def _mermaid_text(text: str) -> str:
    # Mermaid's entity codes: a quote would end the label, < and > would pass for HTML.
    for char, code in (("#", "#35;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(char, code)
    return text.replace("\n", "<br>")


def to_mermaid(diagram: Diagram) -> str:
    ids = {key: f"n{index}" for index, key in enumerate(diagram.nodes)}
    lines = ["flowchart TD"]
    for key, (label, shape) in diagram.nodes.items():
        opening, closing = SHAPES[shape].mermaid
        lines.append(f'  {ids[key]}{opening}"{_mermaid_text(label)}"{closing}')
    for source, target, label in diagram.edges:
        arrow = f'-->|"{_mermaid_text(label)}"|' if label else "-->"
        lines.append(f"  {ids[source]} {arrow} {ids[target]}")
    for name, style in SHAPES.items():
        filled = [ids[key] for key, (_, shape) in diagram.nodes.items() if shape == name]
        if style.fill and filled:
            lines += [f"  classDef {name} fill:{style.fill}", f"  class {','.join(filled)} {name}"]
    return "\n".join(lines)


def readme_block(diagram: Diagram) -> str:
    return "\n".join(
        [
            diagram.caption,
            "",
            f"![{diagram.title}](docs/{diagram.name}.svg)",
            "",
            f'<details><summary>The same graph in Mermaid (Graphviz source: <a href="docs/{diagram.name}.dot">'
            f"docs/{diagram.name}.dot</a>)</summary>",
            "",
            "```mermaid",
            to_mermaid(diagram),
            "```",
            "",
            "</details>",
        ]
    )


# ---------------------------------------------------------------------------------------------
# State machines
# ---------------------------------------------------------------------------------------------


def asl_files() -> list[Path]:
    return sorted(REPO_ROOT.glob("*.asl.json"))


def rendered_asl(path: Path) -> dict[str, Any]:
    """The definition as Terraform's templatefile renders it, each template variable set to
    "<name>": the real renderer, so that escapes and directives come out as deployed."""
    names = sorted(set(re.findall(r"(?<!\$)\$\{\s*([A-Za-z_][\w-]*)", path.read_text())))
    variables = ", ".join(f'{name} = "<{name}>"' for name in names)
    expression = f"base64encode(templatefile({json.dumps(str(path))}, {{ {variables} }}))"
    with tempfile.TemporaryDirectory() as empty:  # no configuration to load, so no providers
        result = subprocess.run(
            ["terraform", "console"], input=expression, cwd=empty, capture_output=True, text=True, check=False
        )
    if result.returncode != 0:
        raise RuntimeError(f"terraform console could not render {path.name}:\n{result.stderr}")
    return json.loads(base64.b64decode(json.loads(result.stdout)))


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
    if "Condition" in rule:  # JSONata
        return rule["Condition"].removeprefix("{%").removesuffix("%}").strip()
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


def state_machine_diagram(path: Path, definition: dict[str, Any]) -> Diagram:
    name = path.name.removesuffix(".asl.json")
    diagram = Diagram(
        name,
        title=path.name,
        source=path.name,
        caption=f"Every state and transition of [`{path.name}`]({path.name}) as Terraform renders it "
        "(template variables shown as `<name>`):",
    )
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


# ---------------------------------------------------------------------------------------------
# The sample workflow's trigger graph
# ---------------------------------------------------------------------------------------------


def sample_workflow_plan(endpoint_url: str) -> dict[str, Any]:
    """A plan of the sample workflow module: Terraform itself evaluates its locals, for_each
    and dynamic blocks into the triggers it would create."""
    with tempfile.TemporaryDirectory() as copy:
        workspace = TerraformWorkspace(Path(copy), SAMPLE_MODULE, endpoint_url, REGION)
        workspace.init()
        return workspace.plan({"name": SAMPLE_NAME})


def _of_type(resources: dict[str, dict[str, Any]], resource_type: str) -> list[dict[str, Any]]:
    pattern = re.compile(rf"(^|\.){resource_type}\.[\w-]+(\[[^\]]*\])?$")
    return [values for address, values in resources.items() if pattern.search(address)]


def trigger_diagram(plan: dict[str, Any]) -> Diagram:
    resources = planned_resources(plan)
    (workflow,) = (values["name"] for values in _of_type(resources, "aws_glue_workflow"))
    diagram = Diagram(
        "sample-workflow-triggers",
        title="Triggers of the sample workflow",
        source=f"a plan of {SAMPLE_MODULE}",
        caption=f"The triggers a plan of [`{SAMPLE_MODULE}`]({SAMPLE_MODULE}) creates (names without "
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
    # The start trigger first, so that the Mermaid source reads in the order the run goes.
    for trigger in sorted(_of_type(resources, "aws_glue_trigger"), key=lambda trigger: trigger["type"] != "ON_DEMAND"):
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
# Everything together
# ---------------------------------------------------------------------------------------------


def generate(endpoint_url: str) -> dict[Path, str]:
    """Every generated file's content but the SVGs (see svgs()), by path: the README files and
    docs/*.dot. endpoint_url is an AWS emulator's, for the aws provider of the sample's plan."""
    files = {}
    for directory in module_directories():
        readme = directory / "README.md"
        files[readme] = with_block(readme.read_text() if readme.exists() else "", TF_DOCS, tf_docs(directory))
    state_machines = [state_machine_diagram(path, rendered_asl(path)) for path in asl_files()]
    # A state machine without a block in README.md yet gets one beside the other state machines'.
    siblings = [diagram_markers(diagram.name)[1] for diagram in state_machines]
    placed = [(diagram, siblings) for diagram in state_machines]
    placed.append((trigger_diagram(sample_workflow_plan(endpoint_url)), []))
    for diagram, after in placed:
        files[DOCS / f"{diagram.name}.dot"] = to_dot(diagram)
        files[README] = with_block(files[README], diagram_markers(diagram.name), readme_block(diagram), after)
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
        files = generate(emulator.endpoint_url)
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
