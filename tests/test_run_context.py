"""The run context: every run the loop starts carries glue_loop_* run properties saying where it
stands in its chain, and the previous run's id and times as the loop read them from Glue."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from retail_pipeline import parse_timestamp

from conftest import EVENTS_WORKFLOW, WORKFLOW
from harness.emulator import AwsEmulator
from harness.eventbridge import EventsLoop, end_run_with_events, wait_for_token
from harness.glue_simulator import CLEAN, UNTIL_FINISHED, GlueRunSimulator, RunOutcome, SimulatedRun
from harness.loop import wait_until_stopped
from harness.moto_shims import timestamps_as

MakeLoop = Callable[..., str]
FAILS = RunOutcome(failed=1)
CONTEXT = {
    "glue_loop_run_number",
    "glue_loop_chain_id",
    "glue_loop_previous_run_id",
    "glue_loop_previous_run_started_on",
    "glue_loop_previous_run_completed_on",
}


def start(sfn: Any, arn: str, **execution_input: Any) -> None:
    sfn.start_execution(stateMachineArn=arn, input=json.dumps(execution_input))


def context(run: SimulatedRun) -> dict[str, str]:
    return {name: value for name, value in run.properties.items() if name.startswith("glue_loop_")}


def assert_names_as_previous(emulator: AwsEmulator, run: SimulatedRun, previous: SimulatedRun) -> None:
    """``run``'s context names ``previous`` with the times Glue reports for it, in a form the job parses."""
    reported = emulator.client("glue").get_workflow_run(Name=previous.workflow, RunId=previous.run_id)["Run"]
    assert run.properties["glue_loop_previous_run_id"] == previous.run_id
    assert parse_timestamp(run.properties["glue_loop_previous_run_started_on"]) == reported["StartedOn"]
    assert parse_timestamp(run.properties["glue_loop_previous_run_completed_on"]) == reported["CompletedOn"]


def test_first_run_of_a_chain_has_number_1_and_no_previous_run(
    sfn: Any, make_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    loop = make_loop()
    glue.script(WORKFLOW, FAILS)
    start(sfn, loop, run_properties={"market": "EU"})

    wait_until_stopped(sfn, loop)

    (run,) = glue.runs_of(WORKFLOW)
    assert run.properties["market"] == "EU"
    assert set(context(run)) == {"glue_loop_run_number", "glue_loop_chain_id"}
    assert run.properties["glue_loop_run_number"] == "1"


def test_a_successor_execution_names_the_run_judged_before_it_and_keeps_the_chain_id(
    sfn: Any, emulator: AwsEmulator, make_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    loop = make_loop()
    glue.script(WORKFLOW, RunOutcome(running_polls=1), CLEAN, FAILS)
    start(sfn, loop, run_properties={"market": "EU"})

    chain = wait_until_stopped(sfn, loop)

    first, second, third = glue.runs_of(WORKFLOW)
    assert len(chain) == 3
    assert [run.properties["glue_loop_run_number"] for run in (first, second, third)] == ["1", "2", "3"]
    assert {run.properties["glue_loop_chain_id"] for run in (first, second, third)} == {chain[1].input["chain_id"]}
    assert_names_as_previous(emulator, second, first)
    assert_names_as_previous(emulator, third, second)
    assert all(run.properties["market"] == "EU" for run in (first, second, third))


def test_a_run_started_in_the_same_execution_names_the_run_before_it(
    sfn: Any, emulator: AwsEmulator, make_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    loop = make_loop(runs_per_execution=3)
    glue.script(WORKFLOW, CLEAN, CLEAN, FAILS)
    start(sfn, loop)

    (execution,) = wait_until_stopped(sfn, loop)

    first, second, third = glue.runs_of(WORKFLOW)
    assert execution.status == "FAILED"
    assert [run.properties["glue_loop_run_number"] for run in (first, second, third)] == ["1", "2", "3"]
    assert len({run.properties["glue_loop_chain_id"] for run in (first, second, third)}) == 1
    assert_names_as_previous(emulator, second, first)
    assert_names_as_previous(emulator, third, second)


def test_a_run_handed_over_to_a_successor_is_named_by_the_run_after_it(
    sfn: Any, emulator: AwsEmulator, make_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    loop = make_loop(max_polls_per_execution=2)
    glue.script(WORKFLOW, RunOutcome(running_polls=3), FAILS)
    start(sfn, loop)

    chain = wait_until_stopped(sfn, loop)

    first, second = glue.runs_of(WORKFLOW)
    assert chain[1].input["resume_run_id"] == first.run_id
    assert second.properties["glue_loop_run_number"] == "2"
    assert second.properties["glue_loop_chain_id"] == first.properties["glue_loop_chain_id"]
    assert_names_as_previous(emulator, second, first)


def test_user_run_properties_cannot_override_or_fake_the_run_context(
    sfn: Any, make_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    loop = make_loop()
    glue.script(WORKFLOW, FAILS)
    forged = {name: "forged" for name in CONTEXT}
    start(sfn, loop, run_properties={"market": "EU", **forged})

    wait_until_stopped(sfn, loop)

    (run,) = glue.runs_of(WORKFLOW)
    assert run.properties["market"] == "EU"
    assert run.properties["glue_loop_run_number"] == "1"
    assert run.properties["glue_loop_chain_id"] != "forged"
    assert not {"glue_loop_previous_run_id", "glue_loop_previous_run_started_on"} & set(run.properties)


def test_in_events_mode_the_run_after_a_woken_wait_names_the_run_before_it(
    sfn: Any, emulator: AwsEmulator, make_events_loop: Callable[..., EventsLoop], glue: GlueRunSimulator
) -> None:
    loop = make_events_loop(safety_poll_seconds=3600)
    glue.script(
        EVENTS_WORKFLOW,
        RunOutcome(running_polls=UNTIL_FINISHED),
        RunOutcome(node_states={"publish-sales": "FAILED"}, running_polls=UNTIL_FINISHED),
    )
    start(sfn, loop.arn)
    dynamodb = emulator.client("dynamodb")

    for run_number in (1, 2):
        run_id = wait_for_token(dynamodb, loop.token_table, glue, EVENTS_WORKFLOW, run_number)
        end_run_with_events(glue, loop.delivery, EVENTS_WORKFLOW, run_id, 0, None)
    wait_until_stopped(sfn, loop.arn)

    first, second = glue.runs_of(EVENTS_WORKFLOW)
    assert second.properties["glue_loop_run_number"] == "2"
    assert_names_as_previous(emulator, second, first)


# The two forms furthest from ECMAScript's; every form is read in tests/test_retail_pipeline.py.
@pytest.mark.parametrize("form", ["basic-offset", "epoch-seconds"])
def test_the_previous_runs_times_and_its_duration_are_read_whatever_form_the_task_result_gives_them(
    sfn: Any, emulator: AwsEmulator, make_loop: MakeLoop, glue: GlueRunSimulator, form: str
) -> None:
    """How Step Functions writes an SDK result's timestamps is undocumented: in each form the loop
    assumes, the next run's context names the previous run's times, and RunDuration is published."""
    namespace = f"Test/{uuid.uuid4().hex}"
    loop = make_loop(metrics_namespace=namespace, max_runs=2)
    glue.script(WORKFLOW, CLEAN, CLEAN)
    with timestamps_as(form):
        start(sfn, loop)
        wait_until_stopped(sfn, loop)

    first, second = glue.runs_of(WORKFLOW)
    assert_names_as_previous(emulator, second, first)
    now = datetime.now(UTC)
    durations = emulator.client("cloudwatch").get_metric_statistics(
        Namespace=namespace,
        MetricName="RunDuration",
        Dimensions=[{"Name": "WorkflowName", "Value": WORKFLOW}],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=5),
        Period=7200,
        Statistics=["SampleCount"],
    )["Datapoints"]
    assert [datapoint["SampleCount"] for datapoint in durations] == [2]
