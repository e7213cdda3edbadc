"""The rendered state machine running in moto against scripted Glue runs."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from conftest import WORKFLOW
from harness.glue_simulator import CLEAN, GlueRunSimulator, RunOutcome
from harness.loop import history_events, wait_until_stopped


def start(sfn: Any, arn: str, **execution_input: Any) -> None:
    sfn.start_execution(stateMachineArn=arn, input=json.dumps(execution_input))


def test_clean_run_starts_exactly_one_successor_with_the_next_run_number(
    sfn: Any, loop_machine: str, glue: GlueRunSimulator
) -> None:
    glue.script(WORKFLOW, CLEAN, RunOutcome(failed=1))
    start(sfn, loop_machine, run_properties={"market": "EU"})

    first, second = wait_until_stopped(sfn, loop_machine)

    assert first.status == "SUCCEEDED"
    assert second.status == "FAILED"
    assert second.input["run_properties"] == {"market": "EU"}
    assert second.input["run_number"] == 2
    assert [run.properties["market"] for run in glue.runs_of(WORKFLOW)] == ["EU"] * 2


def test_empty_input_starts_run_number_one_with_no_run_properties(
    sfn: Any, loop_machine: str, glue: GlueRunSimulator
) -> None:
    glue.script(WORKFLOW, RunOutcome(failed=1))
    start(sfn, loop_machine)

    (only,) = wait_until_stopped(sfn, loop_machine)

    assert "(run number 1)" in only.cause
    (run,) = glue.runs_of(WORKFLOW)
    assert not [name for name in run.properties if not name.startswith("glue_loop_")]


@pytest.mark.parametrize(
    ("outcome", "error", "counts"),
    [
        (
            RunOutcome(failed=1),
            "GlueWorkflowActionsFailed",
            "2 of 3 actions succeeded, 1 failed, 0 timed out, 0 stopped, 0 errored; failed nodes: [action-0]",
        ),
        (
            RunOutcome(timed_out=2),
            "GlueWorkflowActionsTimedOut",
            "1 of 3 actions succeeded, 0 failed, 2 timed out, 0 stopped, 0 errored; failed nodes: [action-0, action-1]",
        ),
        (
            RunOutcome(stopped=1),
            "GlueWorkflowActionsStopped",
            "0 timed out, 1 stopped, 0 errored; failed nodes: [action-0]",
        ),
        (
            RunOutcome(errored=3),
            "GlueWorkflowActionsErrored",
            "0 failed, 0 timed out, 0 stopped, 3 errored; failed nodes: [action-0, action-1, action-2]",
        ),
        (RunOutcome(status="STOPPED"), "GlueWorkflowRunStopped", "ended STOPPED: 3 of 3 actions"),
        (RunOutcome(status="ERROR"), "GlueWorkflowRunErrored", "ended ERROR: 3 of 3 actions"),
        # A status Glue does not document (RUNNING, COMPLETED, STOPPING, STOPPED, ERROR) stops the loop.
        (RunOutcome(status="EXPIRED"), "GlueWorkflowRunStatusUnknown", "ended EXPIRED: 3 of 3 actions"),
    ],
    ids=["failed", "timed-out", "stopped-actions", "errored", "run-stopped", "run-error", "run-status-unknown"],
)
def test_bad_run_stops_the_loop_naming_workflow_run_and_counts(
    sfn: Any, loop_machine: str, glue: GlueRunSimulator, outcome: RunOutcome, error: str, counts: str
) -> None:
    glue.script(WORKFLOW, CLEAN, outcome)
    start(sfn, loop_machine)

    first, second = wait_until_stopped(sfn, loop_machine)

    bad_run = glue.runs_of(WORKFLOW)[1]
    assert first.status == "SUCCEEDED"
    assert (second.status, second.error) == ("FAILED", error)
    assert second.cause.startswith(f"Glue workflow {WORKFLOW} run {bad_run.run_id} (run number 2) ended")
    assert counts in second.cause
    assert len(glue.runs_of(WORKFLOW)) == 2, "a stopped loop must not start another run"


@pytest.mark.parametrize("running_polls", [0, 3])
def test_run_still_running_after_k_polls_is_polled_k_plus_one_times(
    sfn: Any, loop_machine: str, glue: GlueRunSimulator, running_polls: int
) -> None:
    glue.script(WORKFLOW, RunOutcome(failed=1, running_polls=running_polls))
    start(sfn, loop_machine)

    (only,) = wait_until_stopped(sfn, loop_machine)

    assert only.error == "GlueWorkflowActionsFailed"
    assert glue.runs_of(WORKFLOW)[0].polls == running_polls + 1


@pytest.mark.parametrize(
    ("operation", "faults"),
    [
        ("GetWorkflowRun", ["ThrottlingException", "ThrottlingException"]),
        ("GetWorkflowRun", ["InternalServiceException"]),
        ("StartWorkflowRun", ["ThrottlingException", "OperationTimeoutException"]),
    ],
    ids=["get-throttled-twice", "get-internal-error", "start-throttled-then-timeout"],
)
def test_transient_glue_errors_are_retried_and_the_loop_goes_on(
    sfn: Any, loop_machine: str, glue: GlueRunSimulator, operation: str, faults: list[str]
) -> None:
    glue.script(WORKFLOW, CLEAN, RunOutcome(failed=1))
    glue.fail_next(operation, *faults)
    start(sfn, loop_machine)

    first, second = wait_until_stopped(sfn, loop_machine)

    assert first.status == "SUCCEEDED"
    assert second.error == "GlueWorkflowActionsFailed"
    assert glue.calls.count(operation) >= len(faults) + 2
    retried = [event for event in history_events(sfn, first.arn) if event["type"] == "TaskFailed"]
    assert len(retried) == len(faults)


def test_missing_workflow_stops_the_loop_saying_so(sfn: Any, loop_machine: str, glue: GlueRunSimulator) -> None:
    glue.fail_next("StartWorkflowRun", "EntityNotFoundException")
    start(sfn, loop_machine)

    (only,) = wait_until_stopped(sfn, loop_machine)

    assert (only.status, only.error) == ("FAILED", "GlueWorkflowNotFound")
    assert only.cause.startswith(f"Glue workflow {WORKFLOW} does not exist")
    assert glue.runs_of(WORKFLOW) == []


def test_concurrency_limit_without_adoption_stops_the_loop_with_the_glue_error(
    sfn: Any, make_loop: Callable[..., str], glue: GlueRunSimulator
) -> None:
    loop = make_loop(adopt_run_in_flight=False)
    glue.fail_next("StartWorkflowRun", "ConcurrentRunsExceededException")
    start(sfn, loop)

    (only,) = wait_until_stopped(sfn, loop)

    assert (only.status, only.error) == ("FAILED", "GlueWorkflowRunNotStarted")
    assert only.cause.startswith(
        f"Glue workflow {WORKFLOW}: StartWorkflowRun failed with Glue.ConcurrentRunsExceededException"
    )
