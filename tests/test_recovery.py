"""Recovery before stopping: a run that ends COMPLETED with failed nodes is resumed with
ResumeWorkflowRun, at most recovery.max_attempts times, then the loop stops or goes on as
recovery.when_exhausted says; the history budget reserves what the attempts cost."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from conftest import EVENTS_WORKFLOW, WORKFLOW, Notices
from harness.emulator import AwsEmulator
from harness.eventbridge import EventsLoop, end_run_with_events, wait_for_token
from harness.glue_simulator import CLEAN, UNTIL_FINISHED, GlueRunSimulator, RunOutcome
from harness.loop import Execution, history_events, wait_until_stopped

MakeLoop = Callable[..., str]
FAILS = RunOutcome(failed=1)
# A resumed run of the workflow without triggers re-runs only the failed action-0, which fails again.
FAILS_AGAIN = RunOutcome(node_states={"action-0": "FAILED"})
# Events mode runs end when the test delivers their events.
WAITS_FOR_AN_EVENT = RunOutcome(running_polls=UNTIL_FINISHED)
PUBLISH_FAILS = RunOutcome(node_states={"publish-sales": "FAILED"}, running_polls=UNTIL_FINISHED)


def start(sfn: Any, arn: str) -> None:
    sfn.start_execution(stateMachineArn=arn, input="{}")


@pytest.fixture
def make_recovering_loop(make_loop: MakeLoop) -> MakeLoop:
    """make_loop with recovery on and no backoff, unless the test says otherwise."""

    def make(**settings: int | str) -> str:
        return make_loop(**{"recovery_enabled": True, "recovery_backoff_seconds": 0, **settings})

    return make


def previous_run_id(emulator: AwsEmulator, workflow: str, run_id: str) -> str | None:
    run: dict[str, Any] = emulator.client("glue").get_workflow_run(Name=workflow, RunId=run_id)["Run"]
    return run.get("PreviousRunId")


def recovery_attempts_published(emulator: AwsEmulator, namespace: str) -> dict[str, Any]:
    """Statistics of the RecoveryAttempts metric the loop published to ``namespace`` in the last hour."""
    now = datetime.now(UTC)
    (datapoint,) = emulator.client("cloudwatch").get_metric_statistics(
        Namespace=namespace,
        MetricName="RecoveryAttempts",
        Dimensions=[{"Name": "WorkflowName", "Value": WORKFLOW}],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(minutes=5),
        Period=7200,
        Statistics=["SampleCount", "Minimum", "Maximum"],
    )["Datapoints"]
    return dict(datapoint)


def stop_of(sfn: Any, execution: Execution) -> dict[str, Any]:
    """The stop BuildStop made (a failed execution has no output to show it)."""
    (built,) = [
        json.loads(event["stateExitedEventDetails"]["output"])
        for event in history_events(sfn, execution.arn)
        if event.get("stateExitedEventDetails", {}).get("name") == "BuildStop"
    ]
    stop: dict[str, Any] = built["stop"]
    return stop


def seconds_in(sfn: Any, execution: Execution, state: str) -> list[float]:
    """How long each stay of the execution in ``state`` lasted."""
    history = history_events(sfn, execution.arn)
    entered: list[datetime] = [
        e["timestamp"] for e in history if e.get("stateEnteredEventDetails", {}).get("name") == state
    ]
    exited: list[datetime] = [
        e["timestamp"] for e in history if e.get("stateExitedEventDetails", {}).get("name") == state
    ]
    return [(out - into).total_seconds() for into, out in zip(entered, exited, strict=True)]


def end_runs_with_events(
    emulator: AwsEmulator, loop: EventsLoop, glue: GlueRunSimulator, runs: int, earlier: int = 0
) -> None:
    """End the next ``runs`` runs of EVENTS_WORKFLOW after its ``earlier`` ones, each once the loop
    waits on it, delivering their job and crawler events."""
    for run_number in range(earlier + 1, earlier + runs + 1):
        run_id = wait_for_token(emulator.client("dynamodb"), loop.token_table, glue, EVENTS_WORKFLOW, run_number)
        end_run_with_events(glue, loop.delivery, EVENTS_WORKFLOW, run_id)


def attempts_in_cause(attempts: list[tuple[str, str]]) -> str:
    """The end of a stop's cause that lists these (run, resumed as) attempts of action-0."""
    listed = ", ".join(f"run {run} (failed nodes: [action-0]) as {resumed}" for run, resumed in attempts)
    times = "once" if len(attempts) == 1 else f"{len(attempts)} times"
    return f"; resumed {times} before: {listed}"


def test_node_that_fails_once_and_succeeds_on_resume_keeps_the_loop_going(
    sfn: Any, emulator: AwsEmulator, make_recovering_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    loop = make_recovering_loop(max_runs=2)
    glue.script(WORKFLOW, FAILS, CLEAN, CLEAN)
    start(sfn, loop)

    first, second = wait_until_stopped(sfn, loop)

    failed, resumed, next_run = glue.runs_of(WORKFLOW)
    assert glue.calls.count("ResumeWorkflowRun") == 1
    assert previous_run_id(emulator, WORKFLOW, resumed.run_id) == failed.run_id
    assert glue.overlapping_starts == []
    assert (first.status, second.status) == ("SUCCEEDED", "SUCCEEDED")
    assert "stop" not in (first.output or {}) and "stop" not in (second.output or {})
    assert second.input["previous_run"]["id"] == resumed.run_id
    assert second.input["run_number"] == 2 and second.input.get("recovery_attempts", []) == []
    assert (second.output or {})["run"]["id"] == next_run.run_id
    assert (second.output or {})["stop_reason"] == "max_runs"


def test_node_that_fails_once_and_succeeds_on_resume_keeps_the_loop_going_in_events_mode(
    sfn: Any, emulator: AwsEmulator, make_events_loop: Callable[..., EventsLoop], glue: GlueRunSimulator
) -> None:
    loop = make_events_loop(safety_poll_seconds=3600, recovery_enabled=True, recovery_backoff_seconds=0, max_runs=2)
    glue.script(EVENTS_WORKFLOW, PUBLISH_FAILS, WAITS_FOR_AN_EVENT, WAITS_FOR_AN_EVENT)
    start(sfn, loop.arn)

    end_runs_with_events(emulator, loop, glue, 3)  # the failed run, its resumed run, the next run
    first, second = wait_until_stopped(sfn, loop.arn)

    failed, resumed, next_run = glue.runs_of(EVENTS_WORKFLOW)
    assert glue.calls.count("ResumeWorkflowRun") == 1
    assert previous_run_id(emulator, EVENTS_WORKFLOW, resumed.run_id) == failed.run_id
    assert resumed.restarted == ("publish-sales",)
    assert glue.overlapping_starts == []
    assert (first.status, second.status) == ("SUCCEEDED", "SUCCEEDED")
    assert "stop" not in (first.output or {}) and "stop" not in (second.output or {})
    assert second.input["previous_run"]["id"] == resumed.run_id
    assert (second.output or {})["run"]["id"] == next_run.run_id


def test_node_that_keeps_failing_stops_the_loop_after_exactly_max_attempts_resumes_each_after_the_backoff(
    sfn: Any, make_recovering_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    loop = make_recovering_loop(recovery_max_attempts=2, recovery_backoff_seconds=1)
    glue.script(WORKFLOW, FAILS, FAILS_AGAIN, FAILS_AGAIN, CLEAN)
    start(sfn, loop)

    (only,) = wait_until_stopped(sfn, loop)

    first, second, third = glue.runs_of(WORKFLOW)
    stop = stop_of(sfn, only)
    assert glue.calls.count("ResumeWorkflowRun") == 2
    assert only.error == "GlueWorkflowActionsFailed"
    assert only.cause.startswith(f"Glue workflow {WORKFLOW} run {third.run_id} (run number 1) ended COMPLETED")
    assert only.cause.endswith(attempts_in_cause([(first.run_id, second.run_id), (second.run_id, third.run_id)]))
    assert [(a["run_id"], a["resumed_run_id"], a["failed_nodes"]) for a in stop["recovery_attempts"]] == [
        (first.run_id, second.run_id, ["action-0"]),
        (second.run_id, third.run_id, ["action-0"]),
    ]
    assert stop["loop_continues"] is False
    assert [seconds >= 1 for seconds in seconds_in(sfn, only, "RecoveryBackoff")] == [True, True]
    assert glue.overlapping_starts == []


def test_spent_recovery_under_continue_publishes_the_notice_and_starts_the_next_run(
    sfn: Any,
    make_recovering_loop: MakeLoop,
    glue: GlueRunSimulator,
    notices: Notices,
) -> None:
    loop = make_recovering_loop(
        recovery_max_attempts=1, recovery_when_exhausted="continue", sns_topic_arn=notices.topic_arn, max_runs=2
    )
    glue.script(WORKFLOW, FAILS, FAILS_AGAIN, CLEAN)
    start(sfn, loop)

    first, second = wait_until_stopped(sfn, loop)

    failed, resumed, next_run = glue.runs_of(WORKFLOW)
    (notice,) = notices.received()
    assert notice["error"] == "GlueWorkflowActionsFailed"
    assert notice["loop_continues"] is True
    assert notice["run_id"] == resumed.run_id
    assert [(a["run_id"], a["resumed_run_id"]) for a in notice["recovery_attempts"]] == [
        (failed.run_id, resumed.run_id)
    ]
    assert notice["cause"].endswith(
        "recovery is spent and when_exhausted is continue: the loop goes on with the next run"
    )
    assert (first.status, second.status) == ("SUCCEEDED", "SUCCEEDED")
    assert second.input["previous_run"]["id"] == resumed.run_id
    assert (second.output or {})["run"]["id"] == next_run.run_id
    assert glue.overlapping_starts == []


@pytest.mark.parametrize("code", ["IllegalWorkflowStateException", "ConcurrentRunsExceededException"])
def test_resume_refused_by_glue_stops_naming_the_error_and_the_unresumed_nodes(
    sfn: Any, make_recovering_loop: MakeLoop, glue: GlueRunSimulator, code: str
) -> None:
    loop = make_recovering_loop()
    glue.script(WORKFLOW, FAILS, CLEAN)
    glue.fail_next("ResumeWorkflowRun", code)
    start(sfn, loop)

    (only,) = wait_until_stopped(sfn, loop)

    (failed,) = glue.runs_of(WORKFLOW)
    assert glue.calls.count("ResumeWorkflowRun") == 1
    assert only.error == "GlueWorkflowRunNotResumed"
    # An AWS SDK integration's error is named ServiceName.ErrorName (AWS Step Functions Developer
    # Guide, "Learning to use AWS service SDK integrations in Step Functions").
    assert f"run {failed.run_id} (run number 1) ended with nodes that did not succeed ([action-0])" in only.cause
    assert f"ResumeWorkflowRun failed with Glue.{code}: " in only.cause
    assert stop_of(sfn, only)["run_id"] == failed.run_id


def test_recovery_off_stops_at_the_first_failed_run_without_resuming(
    sfn: Any, make_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    loop = make_loop()
    glue.script(WORKFLOW, FAILS, CLEAN)
    start(sfn, loop)

    (only,) = wait_until_stopped(sfn, loop)

    assert only.error == "GlueWorkflowActionsFailed"
    assert "ResumeWorkflowRun" not in glue.calls
    assert len(glue.runs_of(WORKFLOW)) == 1
    assert "resumed" not in only.cause and "recovery_attempts" not in stop_of(sfn, only)


def test_resumed_run_handed_over_with_the_budget_spent_keeps_its_attempts_until_the_exhausted_stop(
    sfn: Any, make_recovering_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    loop = make_recovering_loop(recovery_max_attempts=2, max_polls_per_execution=2)
    glue.script(WORKFLOW, FAILS, RunOutcome(node_states={"action-0": "FAILED"}, running_polls=2), FAILS_AGAIN)
    start(sfn, loop)

    first, second = wait_until_stopped(sfn, loop)

    failed, resumed, resumed_again = glue.runs_of(WORKFLOW)
    assert first.status == "SUCCEEDED"
    assert second.input["resume_run_id"] == resumed.run_id
    assert [(a["run_id"], a["resumed_run_id"]) for a in second.input["recovery_attempts"]] == [
        (failed.run_id, resumed.run_id)
    ]
    assert second.error == "GlueWorkflowActionsFailed"
    assert second.cause.endswith(
        attempts_in_cause([(failed.run_id, resumed.run_id), (resumed.run_id, resumed_again.run_id)])
    )
    assert glue.calls.count("ResumeWorkflowRun") == 2


def test_resumed_run_reports_one_recovery_attempt_in_its_metrics(
    sfn: Any, emulator: AwsEmulator, make_recovering_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    namespace = f"Test/{uuid.uuid4().hex}"
    loop = make_recovering_loop(metrics_namespace=namespace, max_runs=1)
    glue.script(WORKFLOW, FAILS, CLEAN)
    start(sfn, loop)

    (only,) = wait_until_stopped(sfn, loop)

    attempts = recovery_attempts_published(emulator, namespace)
    assert only.status == "SUCCEEDED"
    assert (attempts["SampleCount"], attempts["Minimum"], attempts["Maximum"]) == (2, 0, 1)


def events_of_one_execution(sfn: Any, loop: str) -> int:
    start(sfn, loop)
    (only,) = wait_until_stopped(sfn, loop)
    return len(history_events(sfn, only.arn))


def test_events_of_a_recovery_attempt_and_of_an_accepted_run_are_what_the_budget_reserves(
    sfn: Any,
    make_loop: MakeLoop,
    make_recovering_loop: MakeLoop,
    glue: GlueRunSimulator,
    notices: Notices,
    loop_locals: dict[str, Any],
) -> None:
    glue.script(WORKFLOW, CLEAN)
    clean = events_of_one_execution(sfn, make_loop(max_runs=1))
    glue.script(WORKFLOW, FAILS, CLEAN)
    recovered = events_of_one_execution(sfn, make_recovering_loop(max_runs=1))
    glue.script(WORKFLOW, FAILS, FAILS_AGAIN)
    accepting = make_recovering_loop(
        recovery_max_attempts=1, recovery_when_exhausted="continue", sns_topic_arn=notices.topic_arn, max_runs=1
    )
    accepted = events_of_one_execution(sfn, accepting)

    reserved = loop_locals
    per_attempt = reserved["history_events_per_recovery_attempt"]
    assert recovered - clean == per_attempt
    assert accepted - clean == per_attempt + reserved["history_events_per_accepted_run"]


def test_a_recovery_attempt_costs_one_event_less_in_events_mode(
    sfn: Any,
    emulator: AwsEmulator,
    make_events_loop: Callable[..., EventsLoop],
    glue: GlueRunSimulator,
    loop_locals: dict[str, Any],
) -> None:
    def events_of_one_execution_driven_by_events(loop: EventsLoop, runs: int) -> int:
        earlier = len(glue.runs_of(EVENTS_WORKFLOW))
        start(sfn, loop.arn)
        end_runs_with_events(emulator, loop, glue, runs, earlier)
        (only,) = wait_until_stopped(sfn, loop.arn)
        return len(history_events(sfn, only.arn))

    settings: dict[str, Any] = {"safety_poll_seconds": 3600, "max_runs": 1}
    glue.script(EVENTS_WORKFLOW, WAITS_FOR_AN_EVENT)
    clean = events_of_one_execution_driven_by_events(make_events_loop(**settings), 1)
    glue.script(EVENTS_WORKFLOW, PUBLISH_FAILS, WAITS_FOR_AN_EVENT)
    recovering = make_events_loop(recovery_enabled=True, recovery_backoff_seconds=0, **settings)
    recovered = events_of_one_execution_driven_by_events(recovering, 2)

    # The resumed run's one token wait (6 events) stands for poll mode's Wait and GetWorkflowRun (2 + 5).
    assert recovered - clean == loop_locals["history_events_per_recovery_attempt"] - 1
