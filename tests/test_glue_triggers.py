"""Glue triggers as AWS runs them: what StartTrigger does (a moto shim) and which triggers fire in
a workflow run (the Glue run simulator)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from harness.emulator import AwsEmulator
from harness.glue_simulator import CLEAN, GlueRunSimulator

CRAWLED = {"LogicalOperator": "EQUALS", "CrawlerName": "crawl", "CrawlState": "SUCCEEDED"}
TRANSFORMED = {"LogicalOperator": "EQUALS", "JobName": "transform", "State": "SUCCEEDED"}


@pytest.fixture
def glue_client(emulator: AwsEmulator) -> Any:
    return emulator.client("glue")


@pytest.fixture
def workflow(glue_client: Any) -> str:
    name = f"triggers-{uuid.uuid4().hex[:12]}"
    glue_client.create_workflow(Name=name, MaxConcurrentRuns=1)
    return name


def _state(glue_client: Any, trigger: str) -> str:
    state: str = glue_client.get_trigger(Name=trigger)["Trigger"]["State"]
    return state


def test_starting_an_on_demand_workflow_trigger_starts_a_workflow_run_and_leaves_it_created(
    glue_client: Any, workflow: str, glue: GlueRunSimulator
) -> None:
    trigger = f"{workflow}-start"
    glue_client.create_trigger(
        Name=trigger, WorkflowName=workflow, Type="ON_DEMAND", Actions=[{"CrawlerName": "crawl"}]
    )

    glue_client.start_trigger(Name=trigger)

    (run,) = glue_client.get_workflow_runs(Name=workflow)["Runs"]
    assert [simulated.run_id for simulated in glue.runs_of(workflow)] == [run["WorkflowRunId"]]
    assert _state(glue_client, trigger) == "CREATED"


@pytest.mark.parametrize(
    "trigger_type, settings",
    [
        ("CONDITIONAL", {"Predicate": {"Logical": "AND", "Conditions": [CRAWLED]}}),
        ("SCHEDULED", {"Schedule": "cron(15 12 * * ? *)"}),
    ],
)
def test_starting_a_conditional_or_scheduled_trigger_activates_it_and_starts_no_run(
    glue_client: Any, workflow: str, glue: GlueRunSimulator, trigger_type: str, settings: dict[str, Any]
) -> None:
    trigger = f"{workflow}-{trigger_type.lower()}"
    glue_client.create_trigger(
        Name=trigger, WorkflowName=workflow, Type=trigger_type, Actions=[{"JobName": "transform"}], **settings
    )
    assert _state(glue_client, trigger) == "CREATED"

    glue_client.start_trigger(Name=trigger)

    assert _state(glue_client, trigger) == "ACTIVATED"
    assert glue_client.get_workflow_runs(Name=workflow)["Runs"] == []
    assert glue.runs_of(workflow) == []


@pytest.mark.parametrize("state", ["CREATED", "DEACTIVATED"])
def test_a_conditional_trigger_that_is_not_activated_does_not_fire_in_a_run(
    glue_client: Any, workflow: str, glue: GlueRunSimulator, state: str
) -> None:
    glue_client.create_trigger(
        Name=f"{workflow}-start", WorkflowName=workflow, Type="ON_DEMAND", Actions=[{"CrawlerName": "crawl"}]
    )
    glue_client.create_trigger(
        Name=f"{workflow}-then-transform",
        WorkflowName=workflow,
        Type="CONDITIONAL",
        StartOnCreation=True,
        Predicate={"Logical": "AND", "Conditions": [CRAWLED]},
        Actions=[{"JobName": "transform"}],
    )
    idle = f"{workflow}-then-publish"
    glue_client.create_trigger(
        Name=idle,
        WorkflowName=workflow,
        Type="CONDITIONAL",
        StartOnCreation=state == "DEACTIVATED",
        Predicate={"Logical": "AND", "Conditions": [TRANSFORMED]},
        Actions=[{"JobName": "publish"}],
    )
    if state == "DEACTIVATED":
        glue_client.stop_trigger(Name=idle)
    assert _state(glue_client, idle) == state
    glue.script(workflow, CLEAN)

    glue_client.start_workflow_run(Name=workflow)

    (run,) = glue.runs_of(workflow)
    assert [(node.name, node.state) for node in run.executed] == [("crawl", "SUCCEEDED"), ("transform", "SUCCEEDED")]
    assert _state(glue_client, f"{workflow}-start") == "CREATED"
