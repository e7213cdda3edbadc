"""Events mode in moto: the loop waits on a task token that the callback state machine returns
when a Glue job or crawler event finds the run ended; a safety poll covers lost events."""

from __future__ import annotations

import math
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from moto.stepfunctions.parser.models import stepfunctions_parser_backends

from conftest import EVENTS_WORKFLOW, WORKFLOW
from harness.emulator import ACCOUNT_ID, REGION, AwsEmulator
from harness.eventbridge import (
    EventsLoop,
    RuleDelivery,
    at_least_once,
    end_run_with_events,
    pattern_matches,
    wait_for_token,
    waiting_token,
)
from harness.glue_simulator import (
    UNTIL_FINISHED,
    GlueRunSimulator,
    RunOutcome,
    SimulatedRun,
    events_until_and_at_run_end,
    glue_event,
    state_change_events,
)
from harness.loop import (
    entered_states,
    histories_of_two_chains,
    history_events,
    judged_at,
    wait_for,
    wait_until_stopped,
)
from harness.plans import planned_resources, rendered_definition

MakeEventsLoop = Callable[..., EventsLoop]
WAITS_FOR_AN_EVENT = RunOutcome(running_polls=UNTIL_FINISHED)
PUBLISH_FAILS = RunOutcome(node_states={"publish-sales": "FAILED"}, running_polls=UNTIL_FINISHED)
# A short callback watch, for tests that let it run out.
WATCH = 10


def start(sfn: Any, arn: str) -> None:
    sfn.start_execution(stateMachineArn=arn, input="{}")


def token_run(emulator: AwsEmulator, loop: EventsLoop, glue: GlueRunSimulator, run_number: int) -> str:
    return wait_for_token(emulator.client("dynamodb"), loop.token_table, glue, EVENTS_WORKFLOW, run_number)


def stored_token(emulator: AwsEmulator, loop: EventsLoop) -> str | None:
    token = waiting_token(emulator.client("dynamodb"), loop.token_table, EVENTS_WORKFLOW)
    return None if token is None else token["token"]


def end_run(
    glue: GlueRunSimulator, loop: EventsLoop, run_id: str, status_lag: float = 0, rng: random.Random | None = None
) -> list[str]:
    return end_run_with_events(glue, loop.delivery, EVENTS_WORKFLOW, run_id, status_lag, rng)


def callback_outcomes(loop: EventsLoop, callbacks: list[str]) -> list[str]:
    return [loop.delivery.wait(arn)["status"] for arn in callbacks]


def summary(events: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """Each event's detail type, node and state."""
    return [
        (
            event["detail-type"],
            event["detail"].get("jobName") or event["detail"]["crawlerName"],
            event["detail"]["state"],
        )
        for event in events
    ]


def polls_by_the_loop(sfn: Any, execution_arn: str) -> int:
    return entered_states(sfn, execution_arn).count("GetWorkflowRun")


def test_loop_advances_on_the_last_nodes_event_without_polling(
    sfn: Any, emulator: AwsEmulator, make_events_loop: MakeEventsLoop, glue: GlueRunSimulator
) -> None:
    loop = make_events_loop(safety_poll_seconds=3600)
    glue.script(EVENTS_WORKFLOW, WAITS_FOR_AN_EVENT, PUBLISH_FAILS)
    start(sfn, loop.arn)

    first_callbacks = end_run(glue, loop, token_run(emulator, loop, glue, 1))
    end_run(glue, loop, token_run(emulator, loop, glue, 2))
    first, second = wait_until_stopped(sfn, loop.arn)

    assert callback_outcomes(loop, first_callbacks) == ["SUCCEEDED"] * 3  # the crawl's Started matches no rule
    assert first.status == "SUCCEEDED" and second.status == "FAILED"
    assert [polls_by_the_loop(sfn, execution.arn) for execution in (first, second)] == [0, 0]
    assert [entered_states(sfn, execution.arn).count("WaitForRun") for execution in (first, second)] == [1, 1]
    assert second.error == "GlueWorkflowActionsFailed"
    assert "failed nodes: [publish-sales]" in second.cause


def test_the_token_expires_an_hour_after_its_wait_would_time_out(
    sfn: Any, emulator: AwsEmulator, make_events_loop: MakeEventsLoop, glue: GlueRunSimulator
) -> None:
    loop = make_events_loop(safety_poll_seconds=600)
    glue.script(EVENTS_WORKFLOW, WAITS_FOR_AN_EVENT)
    written_after = int(time.time())
    start(sfn, loop.arn)
    run_id = token_run(emulator, loop, glue, 1)
    written_before = int(time.time()) + 1

    token = waiting_token(emulator.client("dynamodb"), loop.token_table, EVENTS_WORKFLOW)

    assert token is not None and token["run_id"] == run_id
    assert written_after + 600 + 3600 <= int(token["expires_at"]) <= written_before + 600 + 3600


def test_events_of_a_run_still_going_are_watched_for_the_window_then_leave_the_loop_waiting(
    sfn: Any,
    emulator: AwsEmulator,
    make_events_loop: MakeEventsLoop,
    glue: GlueRunSimulator,
    plan: Callable[[str], dict[str, Any]],
) -> None:
    callback = rendered_definition(plan("events"), "aws_sfn_state_machine.callback[0]")
    reads_every = callback["States"]["Begin"]["Parameters"]["watch"]["every"]
    loop = make_events_loop(safety_poll_seconds=3600, callback_watch_seconds=WATCH)
    glue.script(EVENTS_WORKFLOW, WAITS_FOR_AN_EVENT)
    start(sfn, loop.arn)
    run_id = token_run(emulator, loop, glue, 1)
    run = glue.runs_of(EVENTS_WORKFLOW)[0]

    token_before = stored_token(emulator, loop)

    until_end, _ = events_until_and_at_run_end(run)
    started = [arn for arn in map(loop.delivery.deliver, until_end) if arn]
    # Each callback watches for WATCH seconds; a loaded 2-core machine stretches its reads well past that.
    callbacks = [loop.delivery.wait(arn, timeout=WATCH + 60) for arn in started]

    (execution,) = sfn.list_executions(stateMachineArn=loop.arn)["executions"]
    assert [callback["status"] for callback in callbacks] == ["SUCCEEDED"] * 2
    for callback in callbacks:
        states = entered_states(sfn, callback["executionArn"])
        assert states.count("GetWorkflowRun") == 1 + WATCH // reads_every
        assert states[-1] == "RunStillRunning"
        assert (callback["stopDate"] - callback["startDate"]).total_seconds() >= WATCH
    assert execution["status"] == "RUNNING"
    assert entered_states(sfn, execution["executionArn"]).count("WaitForRun") == 1
    assert stored_token(emulator, loop) == token_before
    assert token_run(emulator, loop, glue, 1) == run_id


def test_a_lost_event_is_made_up_for_by_the_safety_poll(
    sfn: Any, emulator: AwsEmulator, make_events_loop: MakeEventsLoop, glue: GlueRunSimulator
) -> None:
    loop = make_events_loop(safety_poll_seconds=2)
    glue.script(EVENTS_WORKFLOW, PUBLISH_FAILS)
    start(sfn, loop.arn)
    glue.finish(token_run(emulator, loop, glue, 1))  # and EventBridge drops every event

    (execution,) = wait_until_stopped(sfn, loop.arn)

    history = history_events(sfn, execution.arn)
    assert any(event["type"] == "TaskTimedOut" for event in history)
    assert polls_by_the_loop(sfn, execution.arn) == 1
    assert execution.error == "GlueWorkflowActionsFailed"
    assert "failed nodes: [publish-sales]" in execution.cause


def test_events_per_safety_poll_are_what_the_history_budget_assumes(
    sfn: Any,
    emulator: AwsEmulator,
    make_events_loop: MakeEventsLoop,
    glue: GlueRunSimulator,
    loop_locals: dict[str, Any],
) -> None:
    loop = make_events_loop(safety_poll_seconds=1)
    glue.script(
        EVENTS_WORKFLOW,
        RunOutcome(node_states=PUBLISH_FAILS.node_states, running_polls=1),
        RunOutcome(node_states=PUBLISH_FAILS.node_states, running_polls=4),
    )

    short, long = histories_of_two_chains(sfn, loop.arn)

    assert (len(long) - len(short)) / 3 == loop_locals["history_events_per_poll"]["events"] == 13


def test_duplicated_last_event_continues_the_loop_exactly_once(
    sfn: Any, emulator: AwsEmulator, make_events_loop: MakeEventsLoop, glue: GlueRunSimulator
) -> None:
    loop = make_events_loop(safety_poll_seconds=3600)
    glue.script(EVENTS_WORKFLOW, WAITS_FOR_AN_EVENT, PUBLISH_FAILS)
    start(sfn, loop.arn)
    run = glue.finish(token_run(emulator, loop, glue, 1))
    last = state_change_events(run)[-1]

    callbacks: list[str | None] = [None] * 4
    threads = [
        threading.Thread(target=lambda i=i: callbacks.__setitem__(i, loop.delivery.deliver(last))) for i in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    end_run(glue, loop, token_run(emulator, loop, glue, 2))
    chain = wait_until_stopped(sfn, loop.arn)
    # Those that lost the claim may watch the next run, and end with it.
    outcomes = callback_outcomes(loop, [arn for arn in callbacks if arn])

    assert outcomes == ["SUCCEEDED"] * 4
    assert [execution.status for execution in chain] == ["SUCCEEDED", "FAILED"]
    assert len(glue.runs_of(EVENTS_WORKFLOW)) == 2
    assert glue.overlapping_starts == []


def test_a_stale_token_is_consumed_harmlessly(
    sfn: Any, emulator: AwsEmulator, make_events_loop: MakeEventsLoop, glue: GlueRunSimulator
) -> None:
    """A token left by a wait whose safety poll took over, with no loop waiting any more: the
    callback removes it, reads the table a bounded number of times for a fresh one and ends."""
    loop = make_events_loop()
    glue.script(EVENTS_WORKFLOW, RunOutcome())
    run_id = emulator.client("glue").start_workflow_run(Name=EVENTS_WORKFLOW)["RunId"]
    run = glue.finish(run_id)
    dynamodb = emulator.client("dynamodb")
    key = {"workflow": {"S": EVENTS_WORKFLOW}}
    dynamodb.put_item(TableName=loop.token_table, Item={**key, "run_id": {"S": run_id}, "token": {"S": "expired"}})

    callback = loop.delivery.deliver_and_wait(state_change_events(run)[-1])

    assert callback is not None and callback["status"] == "SUCCEEDED"
    assert "Item" not in dynamodb.get_item(TableName=loop.token_table, Key=key)
    states = entered_states(sfn, callback["executionArn"])
    assert states.count("ReadToken") == 4  # the first read and three more, as no fresh token came
    assert states[-1] == "NoLoopWaiting"


def test_a_late_callback_holding_the_token_of_a_timed_out_wait_is_harmless(
    sfn: Any, emulator: AwsEmulator, make_events_loop: MakeEventsLoop, glue: GlueRunSimulator
) -> None:
    """A callback that read the token just before the loop's safety poll replaced it: Step
    Functions refuses the old token, and the callback reads the table again for a fresh one
    (that of the loop's next run, if the loop leaves one while the callback still reads)."""
    # The callback must read and claim the restored token before the loop's next safety poll
    # reads the run ended and moves on: a poll long enough for a loaded machine to start it (5 s
    # was not, once in a full make test: the loop moved on first and the callback found a valid token).
    loop = make_events_loop(safety_poll_seconds=10, callback_watch_seconds=WATCH)
    glue.script(EVENTS_WORKFLOW, WAITS_FOR_AN_EVENT)
    start(sfn, loop.arn)
    run_id = token_run(emulator, loop, glue, 1)
    dynamodb = emulator.client("dynamodb")
    timed_out = dynamodb.get_item(TableName=loop.token_table, Key={"workflow": {"S": EVENTS_WORKFLOW}})["Item"]
    wait_for(lambda: stored_token(emulator, loop) != timed_out["token"]["S"])
    dynamodb.put_item(TableName=loop.token_table, Item=timed_out)
    run = glue.finish(run_id)

    callback = loop.delivery.deliver_and_wait(state_change_events(run)[-1])

    assert callback is not None
    assert callback["status"] == "SUCCEEDED", callback.get("cause")
    history = history_events(sfn, callback["executionArn"])
    refusals = [event["taskFailedEventDetails"]["error"] for event in history if "taskFailedEventDetails" in event]
    assert refusals == ["Sfn.TaskDoesNotExistException"]  # moto's name for AWS's TaskTimedOut here
    states = entered_states(sfn, callback["executionArn"])
    assert states[states.index("WakeLoop") :][:5] == [
        "WakeLoop",
        "WaitForFreshToken",
        "CountRead",
        "ReadAgain",
        "ReadToken",
    ]


@pytest.fixture(scope="module")
def rule_pattern(plan: Callable[[str], dict[str, Any]]) -> str:
    return str(planned_resources(plan("events"))["aws_cloudwatch_event_rule.glue_events[0]"]["event_pattern"])


JOB_RUN = {"severity": "INFO", "jobRunId": "jr_0123456789abcdef", "message": "Job run succeeded"}
CRAWL = {"message": "Crawler Succeeded", "tablesCreated": "0", "tablesUpdated": "1", "accountId": "123456789012"}


@pytest.mark.parametrize(
    ("detail_type", "detail", "matches"),
    [
        ("Glue Job State Change", {**JOB_RUN, "jobName": "publish-sales", "state": "SUCCEEDED"}, True),
        ("Glue Job State Change", {**JOB_RUN, "jobName": "transform-sales", "state": "FAILED"}, True),
        ("Glue Job State Change", {**JOB_RUN, "jobName": "transform-sales", "state": "TIMEOUT"}, True),
        ("Glue Job State Change", {**JOB_RUN, "jobName": "transform-sales", "state": "STOPPED"}, True),
        ("Glue Crawler State Change", {**CRAWL, "crawlerName": "crawl-sales", "state": "Succeeded"}, True),
        ("Glue Crawler State Change", {**CRAWL, "crawlerName": "crawl-sales", "state": "Failed"}, True),
        ("Glue Job State Change", {**JOB_RUN, "jobName": "transform-sales", "state": "RUNNING"}, False),
        ("Glue Crawler State Change", {**CRAWL, "crawlerName": "crawl-sales", "state": "Started"}, False),
        ("Glue Job State Change", {**JOB_RUN, "jobName": "someone-elses-job", "state": "SUCCEEDED"}, False),
        ("Glue Crawler State Change", {**CRAWL, "crawlerName": "publish-sales", "state": "Succeeded"}, False),
        ("Glue Job State Change", {**CRAWL, "crawlerName": "crawl-sales", "state": "Succeeded"}, False),
        ("Glue Data Catalog Table State Change", {**JOB_RUN, "jobName": "publish-sales", "state": "SUCCEEDED"}, False),
    ],
)
def test_rule_pattern_matches_only_terminal_states_of_the_workflows_jobs_and_crawlers(
    emulator: AwsEmulator, rule_pattern: str, detail_type: str, detail: dict[str, str], matches: bool
) -> None:
    event = glue_event(detail_type, detail)
    events = emulator.client("events")

    assert pattern_matches(events, rule_pattern, event) is matches
    assert pattern_matches(events, rule_pattern, {**event, "source": "aws.batch"}) is False


# --- The run simulator's timing and events, and EventBridge's delivery, as AWS documents them ---


@pytest.mark.parametrize("status_lag", [0, 1.5])
@pytest.mark.parametrize("lag_of", ["the run", "the simulator"])
def test_a_run_reads_running_for_its_status_lag_after_its_last_node_ends(
    emulator: AwsEmulator, glue: GlueRunSimulator, status_lag: float, lag_of: str
) -> None:
    client = emulator.client("glue")
    glue.script(WORKFLOW, WAITS_FOR_AN_EVENT)
    run_id = client.start_workflow_run(Name=WORKFLOW)["RunId"]
    if lag_of == "the run":
        glue.finish(run_id, status_lag)
    else:
        glue.status_lag_seconds = status_lag
        glue.finish(run_id)
    lag_ends = time.monotonic() + status_lag

    at_once = client.get_workflow_run(Name=WORKFLOW, RunId=run_id)["Run"]["Status"]
    time.sleep(max(0.0, lag_ends - time.monotonic()) + 0.1)
    after_the_lag = client.get_workflow_run(Name=WORKFLOW, RunId=run_id)["Run"]["Status"]

    assert at_once == ("RUNNING" if status_lag else "COMPLETED")
    assert after_the_lag == "COMPLETED"


@pytest.fixture
def events_run(emulator: AwsEmulator, glue: GlueRunSimulator, make_events_loop: MakeEventsLoop) -> Callable[..., Any]:
    """Ends a run of EVENTS_WORKFLOW (whose trigger graph make_events_loop creates) as scripted."""

    def run(outcome: RunOutcome) -> SimulatedRun:
        glue.script(EVENTS_WORKFLOW, outcome)
        return glue.finish(emulator.client("glue").start_workflow_run(Name=EVENTS_WORKFLOW)["RunId"])

    return run


CRAWL_STARTED = ("Glue Crawler State Change", "crawl-sales", "Started")
CRAWL_SUCCEEDED = ("Glue Crawler State Change", "crawl-sales", "Succeeded")
TRANSFORM_SUCCEEDED = ("Glue Job State Change", "transform-sales", "SUCCEEDED")


def test_a_crawler_sends_started_as_it_starts_and_the_rule_ignores_it(
    emulator: AwsEmulator, events_run: Callable[[RunOutcome], SimulatedRun], rule_pattern: str
) -> None:
    events = state_change_events(events_run(RunOutcome()))

    assert summary(events) == [
        CRAWL_STARTED,
        CRAWL_SUCCEEDED,
        TRANSFORM_SUCCEEDED,
        ("Glue Job State Change", "publish-sales", "SUCCEEDED"),
    ]
    events_client = emulator.client("events")
    assert [pattern_matches(events_client, rule_pattern, event) for event in events] == [False, True, True, True]


def test_a_job_that_ends_in_error_sends_no_event(events_run: Callable[[RunOutcome], SimulatedRun]) -> None:
    run = events_run(RunOutcome(node_states={"publish-sales": "ERROR"}))

    until_end, at_end = events_until_and_at_run_end(run)

    assert ("publish-sales", "ERROR") in [(node.name, node.state) for node in run.executed]
    assert summary(until_end) == [CRAWL_STARTED, CRAWL_SUCCEEDED, TRANSFORM_SUCCEEDED]
    assert at_end == []


def test_a_cancelled_crawl_sends_only_its_started_event(events_run: Callable[[RunOutcome], SimulatedRun]) -> None:
    run = events_run(RunOutcome(node_states={"crawl-sales": "CANCELLED"}))

    until_end, at_end = events_until_and_at_run_end(run)

    assert summary(until_end) == [CRAWL_STARTED]
    assert at_end == []


def test_a_run_stopped_between_nodes_sends_no_event_as_it_ends(
    emulator: AwsEmulator, events_run: Callable[[RunOutcome], SimulatedRun]
) -> None:
    run = events_run(RunOutcome(stopped_after_nodes=2))

    until_end, at_end = events_until_and_at_run_end(run)

    assert summary(until_end) == [CRAWL_STARTED, CRAWL_SUCCEEDED, TRANSFORM_SUCCEEDED]
    assert at_end == []
    assert emulator.client("glue").get_workflow_run(Name=EVENTS_WORKFLOW, RunId=run.run_id)["Run"]["Status"] == (
        "STOPPED"
    )


def test_eventbridge_delivers_each_event_at_least_once_and_in_no_fixed_order() -> None:
    events = list(range(6))

    deliveries = [at_least_once(events, random.Random(seed)) for seed in range(20)]

    assert all(sorted(set(delivered)) == events for delivered in deliveries)
    assert all(delivered.count(event) <= 2 for delivered in deliveries for event in events)
    assert any(len(delivered) > len(events) for delivered in deliveries)
    assert any(list(dict.fromkeys(delivered)) != events for delivered in deliveries)


class RecordingDelivery(RuleDelivery):
    """Records the node of each event delivered and whether the run had ended then; starts nothing."""

    def __init__(self, run: SimulatedRun) -> None:
        self.run = run
        self.delivered: list[tuple[str, bool]] = []

    def deliver(self, event: dict[str, Any]) -> str | None:
        self.delivered.append((event["detail"]["jobName"], self.run.reads_ended_at is not None))
        return None


def test_shuffled_events_may_come_after_the_runs_end_but_the_last_nodes_never_before_it(
    emulator: AwsEmulator, glue: GlueRunSimulator
) -> None:
    deliveries = []
    for seed in range(10):
        glue.script(WORKFLOW, WAITS_FOR_AN_EVENT)
        run_id = emulator.client("glue").start_workflow_run(Name=WORKFLOW)["RunId"]
        (run,) = [run for run in glue.runs_of(WORKFLOW) if run.run_id == run_id]
        delivery = RecordingDelivery(run)
        end_run_with_events(glue, delivery, WORKFLOW, run_id, rng=random.Random(seed))
        deliveries.append(delivery.delivered)

    nodes = ["action-0", "action-1", "action-2"]  # the simulator's actions of a workflow without triggers
    assert all(sorted({node for node, _ in delivered}) == nodes for delivered in deliveries)
    assert all(ended for delivered in deliveries for node, ended in delivered if node == "action-2")
    assert any(ended for delivered in deliveries for node, ended in delivered if node != "action-2")
    assert any(len(delivered) > len(nodes) for delivered in deliveries)


# --- The loop under AWS's timing: a run reading ended late, duplicated and shuffled events ---


@pytest.mark.parametrize("status_lag", [0, 2, 5])
def test_the_callback_wakes_the_loop_within_seconds_of_a_run_that_reads_ended_late(
    sfn: Any, emulator: AwsEmulator, make_events_loop: MakeEventsLoop, glue: GlueRunSimulator, status_lag: int
) -> None:
    """With a lag, the run still reads RUNNING when the last node's callback reads it (held so
    until then, however slowly the emulator starts that callback) and ends status_lag seconds later."""
    loop = make_events_loop(safety_poll_seconds=3600)
    glue.script(EVENTS_WORKFLOW, PUBLISH_FAILS)
    start(sfn, loop.arn)
    run_id = token_run(emulator, loop, glue, 1)

    callbacks = end_run(glue, loop, run_id, math.inf if status_lag else 0)
    if status_lag:
        wait_for(lambda: "WaitForRunEnd" in entered_states(sfn, callbacks[-1]))
        glue.finish(run_id, status_lag)
    reads_ended = datetime.now(UTC) + timedelta(seconds=status_lag)
    (execution,) = wait_until_stopped(sfn, loop.arn)

    delay = (judged_at(sfn, execution.arn) - reads_ended).total_seconds()
    assert delay <= 10, delay  # a watch's 5 s wait and the emulator's own latency
    assert polls_by_the_loop(sfn, execution.arn) == 0
    assert execution.error == "GlueWorkflowActionsFailed"
    assert callback_outcomes(loop, callbacks) == ["SUCCEEDED"] * 3
    assert ("WaitForRunEnd" in entered_states(sfn, callbacks[-1])) is (status_lag > 0)


@pytest.mark.parametrize("seed", [1, 2])
def test_duplicated_and_reordered_events_continue_the_loop_exactly_once(
    sfn: Any, emulator: AwsEmulator, make_events_loop: MakeEventsLoop, glue: GlueRunSimulator, seed: int
) -> None:
    loop = make_events_loop(safety_poll_seconds=3600)
    glue.script(EVENTS_WORKFLOW, WAITS_FOR_AN_EVENT, PUBLISH_FAILS)
    start(sfn, loop.arn)
    rng = random.Random(seed)

    callbacks = end_run(glue, loop, token_run(emulator, loop, glue, 1), 2, rng)
    callbacks += end_run(glue, loop, token_run(emulator, loop, glue, 2), 2, rng)
    chain = wait_until_stopped(sfn, loop.arn)

    assert len(callbacks) > 6  # 3 matching events a run, some delivered twice
    assert [execution.status for execution in chain] == ["SUCCEEDED", "FAILED"]
    assert [polls_by_the_loop(sfn, execution.arn) for execution in chain] == [0, 0]
    assert len(glue.runs_of(EVENTS_WORKFLOW)) == 2
    assert glue.overlapping_starts == []
    assert set(callback_outcomes(loop, callbacks)) == {"SUCCEEDED"}
    assert [entered_states(sfn, arn)[-1] for arn in callbacks].count("LoopWoken") == 2


@pytest.mark.parametrize(
    ("outcome", "error"),
    [
        (RunOutcome(node_states={"publish-sales": "ERROR"}), "GlueWorkflowActionsErrored"),
        (RunOutcome(node_states={"crawl-sales": "CANCELLED"}), "GlueWorkflowActionsStopped"),
        (RunOutcome(stopped_after_nodes=2), "GlueWorkflowRunStopped"),
    ],
    ids=["last job ends in ERROR", "crawl cancelled", "run stopped between nodes"],
)
def test_a_run_whose_end_sends_no_event_is_noticed_by_the_safety_poll(
    sfn: Any,
    emulator: AwsEmulator,
    make_events_loop: MakeEventsLoop,
    glue: GlueRunSimulator,
    outcome: RunOutcome,
    error: str,
) -> None:
    """Its nodes' events came while it ran (no watch left: the run went on longer than the
    callback watches); its end sends none."""
    loop = make_events_loop(safety_poll_seconds=3, callback_watch_seconds=0)
    glue.script(EVENTS_WORKFLOW, replace(outcome, running_polls=UNTIL_FINISHED))
    start(sfn, loop.arn)
    run_id = token_run(emulator, loop, glue, 1)
    until_end, at_end = events_until_and_at_run_end(glue.runs_of(EVENTS_WORKFLOW)[0])
    callbacks = [arn for arn in map(loop.delivery.deliver, until_end) if arn]
    outcomes = callback_outcomes(loop, callbacks)
    glue.finish(run_id)

    (execution,) = wait_until_stopped(sfn, loop.arn)

    assert at_end == []
    assert outcomes == ["SUCCEEDED"] * len(callbacks)
    assert any(event["type"] == "TaskTimedOut" for event in history_events(sfn, execution.arn))
    assert polls_by_the_loop(sfn, execution.arn) >= 1
    assert execution.error == error


def test_the_callback_watch_is_rendered_as_a_number(plan: Callable[[str], dict[str, Any]]) -> None:
    """Its default and its longest (180 s, so that the callback ends inside an EXPRESS execution's
    5 minutes; 181 is refused by tests/validation.tftest.hcl)."""

    def watch_limit(planned: dict[str, Any]) -> Any:
        callback = rendered_definition(planned, "aws_sfn_state_machine.callback[0]")
        return callback["States"]["Begin"]["Parameters"]["watch"]["limit"]

    assert watch_limit(plan("events")) == 120
    assert watch_limit(plan("longest_callback_watch")) == 180


def test_the_token_wakes_its_loop_while_another_execution_is_still_starting(
    sfn: Any,
    emulator: AwsEmulator,
    make_events_loop: MakeEventsLoop,
    glue: GlueRunSimulator,
    create_machine: Callable[..., str],
) -> None:
    """An execution listed RUNNING before its worker has built its environment (as a loop's
    successor is, just after StartExecution) stands in no other task's way (moto shim)."""
    hold = {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 60, "End": True}}}
    # Created first, so SendTaskSuccess comes to its execution before the loop's.
    starting = sfn.start_execution(stateMachineArn=create_machine(f"starting-{uuid.uuid4().hex[:8]}", hold))
    loop = make_events_loop(safety_poll_seconds=3600)
    glue.script(EVENTS_WORKFLOW, WAITS_FOR_AN_EVENT, WAITS_FOR_AN_EVENT)
    backend = stepfunctions_parser_backends[ACCOUNT_ID][REGION]
    worker = next(e for e in backend._get_executions() if e.exec_worker and e.exec_arn == starting["executionArn"])
    environment, worker.exec_worker.env = worker.exec_worker.env, None
    try:
        start(sfn, loop.arn)
        first_run = token_run(emulator, loop, glue, 1)
        end_run(glue, loop, first_run)
        second_run = token_run(emulator, loop, glue, 2)  # woken, the loop went on to its next run
    finally:
        worker.exec_worker.env = environment

    assert [run.run_id for run in glue.runs_of(EVENTS_WORKFLOW)] == [first_run, second_run]
