"""The generated docs (`make docs`) are up to date, and the generator says what the sources say."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness import bench, comparison, docs
from harness.plans import rendered_definition
from harness.terraform import REPO_ROOT

RUN = "run `make docs` and commit the result"
# One worker generates the docs for every test that reads them (4 CPU-s a generation).
pytestmark = pytest.mark.xdist_group("docs")


@pytest.fixture(scope="module")
def generated(plan: Callable[[str], dict[str, Any]]) -> dict[Path, str]:
    """The generated files, from docs.PLAN_CONFIGS planned with every other configuration (conftest)."""
    return docs.generate({name: plan(f"docs_{name}") for name in docs.PLAN_CONFIGS})


def _names(paths: list[Path]) -> str:
    return ", ".join(str(path.relative_to(REPO_ROOT)) for path in paths)


def test_generated_blocks_and_diagram_sources_are_up_to_date(generated: dict[Path, str]) -> None:
    stale = docs.stale(generated)

    assert not stale, f"stale: {_names(stale)}: {RUN}"


def test_no_diagram_outlives_its_source(generated: dict[Path, str]) -> None:
    leftovers = docs.orphaned(generated)

    assert not leftovers, f"left over: {_names(leftovers)}: {RUN}"


def test_svgs_are_up_to_date(generated: dict[Path, str]) -> None:
    installed = docs.installed_graphviz()
    if installed is None:
        pytest.skip("Graphviz's dot is not installed, so docs/*.svg are not compared (.ci/run installs it)")
    committed = {
        version for svg in docs.DOCS.glob("*.svg") if (version := docs.graphviz_version(svg.read_text())) is not None
    }
    if committed and committed != {installed}:
        pytest.skip(f"docs/*.svg were rendered by Graphviz {', '.join(sorted(committed))}, not {installed}")

    stale = docs.stale(docs.svgs(generated))

    assert not stale, f"stale: {_names(stale)}: {RUN}"


def test_events_loop_diagram_draws_the_token_wait_that_the_poll_loop_lacks(generated: dict[Path, str]) -> None:
    events_loop, poll_loop = (generated[docs.DOCS / f"{name}.dot"] for name in ("statemachine-events", "statemachine"))

    assert "dynamodb:putItem.waitForTaskToken" in events_loop
    assert "waitForTaskToken" not in poll_loop


def test_each_diagram_is_shown_as_its_svg_on_its_page_and_nowhere_else(generated: dict[Path, str]) -> None:
    pages = [path for path in generated if path.suffix == ".md"] + sorted(docs.DOCS.glob("*.md"))
    for name, page in docs.DIAGRAM_PAGES.items():
        image = f"]({docs.relative_link(docs.DOCS / f'{name}.svg', page)})"
        showing = {path for path in pages if docs.diagram_markers(name)[0] in generated.get(path, path.read_text())}

        assert showing == {page}, name
        assert image in generated[page], name
    assert not any("```mermaid" in generated.get(path, path.read_text()) for path in pages)


# ---------------------------------------------------------------------------------------------
# The generator on small pieces
# ---------------------------------------------------------------------------------------------


def _variable(hcl: str) -> dict[str, Any]:
    ((body,),) = (entry.values() for entry in docs.read_hcl(hcl)["variable"])
    return body


def test_long_object_type_is_laid_out_one_attribute_per_line_with_its_optional_defaults() -> None:
    body = _variable(
        """variable "v" {
          type = map(object({
            level = optional(string, "ERROR")
            retry = optional(object({
              attempts = optional(number, 3), on = list(string), strict = optional(bool, true)
            }), {})
          }))
        }"""
    )

    assert docs.hcl_type(body["type"]) == (
        "map(object({\n"
        '  level = optional(string, "ERROR")\n'
        "  retry = optional(object({\n"
        "    attempts = optional(number, 3)\n"
        "    on       = list(string)\n"
        "    strict   = optional(bool, true)\n"
        "  }), {})\n"
        "}))"
    )


def test_short_types_and_defaults_stay_on_one_line() -> None:
    body = _variable('variable "v" {\n type = object({ a = optional(bool, true) })\n default = { a = false }\n}')

    assert docs.hcl_type(body["type"]) == "object({a = optional(bool, true)})"
    assert docs.hcl_value(body["default"]) == "{ a = false }"
    assert docs.hcl_type(None) == "any"


def test_inputs_table_says_required_defaults_and_escapes_descriptions(tmp_path: Path) -> None:
    (tmp_path / "variables.tf").write_text(
        """variable "name" {
  description = "Prefix: <name>-x | y, \\"quoted\\""
  type        = string
}

variable "tags" {
  description = <<-EOT
    Tags
    for all.
  EOT
  type        = map(string)
  default     = null
}
"""
    )

    table = docs.tf_docs(tmp_path).split("## Inputs\n\n", 1)[1].split("\n\n", 1)[0]

    assert table.splitlines()[2:] == [
        '| `name` | Prefix: &lt;name&gt;-x \\| y, "quoted" | `string` | n/a | yes |',
        "| `tags` | Tags for all. | `map(string)` | `null` | no |",
    ]


def test_choice_with_default_and_task_with_catch_become_labelled_edges() -> None:
    definition = {
        "StartAt": "Work",
        "States": {
            "Work": {
                "Type": "Task",
                "Resource": "arn:aws:states:::glue:startJobRun.sync",
                "Next": "Judge",
                "Catch": [{"ErrorEquals": ["Glue.A", "States.ALL"], "Next": "Broken"}],
            },
            "Judge": {
                "Type": "Choice",
                "Choices": [
                    {
                        "And": [
                            {"Variable": "$.run.status", "StringEquals": "DONE"},
                            {
                                "Or": [
                                    {"Variable": "$.n", "NumericGreaterThanPath": "$.max"},
                                    {"Variable": "$.x", "IsNull": True},
                                ]
                            },
                        ],
                        "Next": "Done",
                    },
                    {"Not": {"Variable": "$.token", "IsPresent": True}, "Next": "Work"},
                    {"Not": {"Variable": "$.n", "NumericLessThan": 3}, "Next": "Broken"},
                ],
                "Default": "Broken",
            },
            "Done": {"Type": "Pass", "End": True},
            "Broken": {"Type": "Fail"},
        },
    }

    diagram = docs.state_machine_diagram(docs.Diagram("m", title="t", source="s", caption="c"), definition)

    assert diagram.edges == [
        (docs.START, "Work", ""),
        ("Work", "Judge", ""),
        ("Work", "Broken", "catch Glue.A, States.ALL"),
        ("Judge", "Done", 'run.status == "DONE" and (n >\nmax or x is null)'),
        ("Judge", "Work", "token is not present"),
        ("Judge", "Broken", "not (n < 3)"),
        ("Judge", "Broken", "Default"),
        ("Done", docs.END, ""),
    ]
    assert diagram.nodes["Work"] == ("Work\nglue:startJobRun.sync", "task")
    assert diagram.nodes["Broken"] == ("Broken", "fail")


def test_diagram_labels_are_escaped_in_dot() -> None:
    diagram = docs.Diagram("d", title="t", source="s", caption="c")
    diagram.node("a", 'say "hi"', "task")
    diagram.node("b", "<b>\nnext", "choice")
    diagram.edge("a", "b", 'x == "#1"')

    assert '"a" [label="say \\"hi\\"", shape=box];' in docs.to_dot(diagram)
    assert '"b" [label="<b>\\nnext", shape=diamond];' in docs.to_dot(diagram)
    assert '"a" -> "b" [label="x == \\"#1\\""];' in docs.to_dot(diagram)


def test_diagram_block_links_its_svg_and_sources_relative_to_its_page() -> None:
    diagram = docs.Diagram("d", title="T", source="s", caption="From [`m.json`]({root}m.json):")

    assert docs.diagram_block(diagram, docs.DOCS / "design.md").splitlines() == [
        "From [`m.json`](../m.json):",
        "",
        "![T](d.svg)",
        "",
        "Graphviz source: [`d.dot`](d.dot).",
    ]
    assert docs.diagram_block(diagram, REPO_ROOT / "README.md").splitlines()[::2] == [
        "From [`m.json`](m.json):",
        "![T](docs/d.svg)",
        "Graphviz source: [`d.dot`](docs/d.dot).",
    ]


def _trigger(
    name: str, kind: str, actions: list[dict[str, Any]], logical: str = "", *conditions: Any
) -> dict[str, Any]:
    predicate = [{"logical": logical, "conditions": list(conditions)}] if logical else []
    return {"name": name, "type": kind, "actions": actions, "predicate": predicate}


def test_trigger_graph_follows_the_planned_triggers() -> None:
    def created(resource_type: str, address: str, after: dict[str, Any]) -> dict[str, Any]:
        return {"address": address, "type": resource_type, "change": {"actions": ["create"], "after": after}}

    crawled = {"crawler_name": "w-crawl", "crawl_state": "SUCCEEDED", "job_name": None, "state": None}
    failed = {"crawler_name": None, "crawl_state": None, "job_name": "w-clean", "state": "FAILED"}
    plan = {
        "resource_changes": [
            created("aws_glue_workflow", "module.m[0].aws_glue_workflow.this[0]", {"name": "w"}),
            created(
                "aws_glue_trigger",
                "aws_glue_trigger.start[0]",
                _trigger("w-start", "ON_DEMAND", [{"crawler_name": "w-crawl"}]),
            ),
            created(
                "aws_glue_trigger",
                'aws_glue_trigger.conditional["a.b"]',
                _trigger(
                    "w-then", "CONDITIONAL", [{"crawler_name": None, "job_name": "w-clean"}], "ANY", crawled, failed
                ),
            ),
        ]
    }

    diagram = docs.trigger_diagram(plan)

    assert diagram.nodes["trigger w-then"] == ("then\nANY", "trigger")
    assert diagram.nodes["crawler w-crawl"] == ("crawl", "crawler")
    assert diagram.edges == [
        (docs.START, "trigger w-start", ""),
        ("trigger w-start", "crawler w-crawl", ""),
        ("crawler w-crawl", "trigger w-then", "SUCCEEDED"),
        ("job w-clean", "trigger w-then", "FAILED"),
        ("trigger w-then", "job w-clean", ""),
    ]


def test_block_is_replaced_in_place_or_added_at_the_end() -> None:
    markers = docs.diagram_markers("new")
    text = "# T\n\nrest\n"

    added = docs.with_block(text, markers, "fresh")
    replaced = docs.with_block(added.replace("rest", "more"), markers, "newer")

    assert added == f"# T\n\nrest\n\n{markers[0]}\nfresh\n{markers[1]}\n"
    assert replaced == f"# T\n\nmore\n\n{markers[0]}\nnewer\n{markers[1]}\n"
    assert docs.with_block("", docs.TF_DOCS, "tables") == f"{docs.TF_DOCS[0]}\ntables\n{docs.TF_DOCS[1]}\n"


def test_the_design_guides_bench_sample_has_the_benchs_tables_and_the_modules_figures(
    plan: Callable[[str], dict[str, Any]], loop_locals: dict[str, Any]
) -> None:
    """docs/design.md shows a run of make bench (ten minutes: not run here). Each table in it has the
    header the bench prints now, and the figures the module itself fixes are the module's: the derived
    history budget and the history events of a poll and of a safety poll."""
    design = (REPO_ROOT / "docs" / "design.md").read_text()
    samples = "\n".join(re.findall(r"^```\n(.*?)^```", design, re.S | re.M))
    rows = {tuple(re.split(r"\s{2,}", line.strip())) for line in samples.splitlines()}
    config = rendered_definition(plan("default"))["States"]["ApplyDefaults"]["Parameters"]["config"]
    per_poll = loop_locals["history_events_per_poll"]

    assert [
        header
        for header in (bench.RUN_LENGTHS_HEADER, bench.LAG_HEADER, bench.MODES_HEADER, comparison.HEADER)
        if header not in rows
    ] == []
    assert f"History budget: {config['max_polls_per_execution']} polls per execution (module default)" in samples
    assert f"History events per poll: {per_poll['poll']};" in samples
    assert f"A safety poll costs {per_poll['events']} history events instead of a poll's {per_poll['poll']}" in (
        " ".join(design.split())
    )
