"""Events mode in moto: the loop waits on a task token that the callback state machine returns
when a Glue job or crawler event finds the run ended; a safety poll covers lost events."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from conftest import EVENTS_WORKFLOW
from harness.emulator import AwsEmulator
from harness.eventbridge import EventsLoop, end_run_with_events, pattern_matches, wait_for_token, waiting_token
from harness.glue_simulator import UNTIL_FINISHED, GlueRunSimulator, RunOutcome, glue_event, state_change_events
from harness.loop import entered_states, histories_of_two_chains, history_events, wait_until_stopped
from harness.plans import planned_resources
from harness.terraform import REPO_ROOT
from harness.tf_config import locals_of

MakeEventsLoop = Callable[..., EventsLoop]
WAITS_FOR_AN_EVENT = RunOutcome(running_polls=UNTIL_FINISHED)
PUBLISH_FAILS = RunOutcome(node_states={"publish-sales": "FAILED"}, running_polls=UNTIL_FINISHED)


def start(sfn: Any, arn: str) -> None:
    sfn.start_execution(stateMachineArn=arn, input="{}")


def token_run(emulator: AwsEmulator, loop: EventsLoop, glue: GlueRunSimulator, run_number: int) -> str:
    return wait_for_token(emulator.client("dynamodb"), loop.token_table, glue, EVENTS_WORKFLOW, run_number)


def stored_token(emulator: AwsEmulator, loop: EventsLoop) -> str | None:
    token = waiting_token(emulator.client("dynamodb"), loop.token_table, EVENTS_WORKFLOW)
    return None if token is None else token["token"]


def end_run(glue: GlueRunSimulator, loop: EventsLoop, run_id: str) -> list[dict[str, Any] | None]:
    return end_run_with_events(glue, loop.delivery, EVENTS_WORKFLOW, run_id)


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

    assert [callback and callback["status"] for callback in first_callbacks] == ["SUCCEEDED"] * 3
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


def test_events_of_a_run_still_going_leave_the_loop_waiting(
    sfn: Any, emulator: AwsEmulator, make_events_loop: MakeEventsLoop, glue: GlueRunSimulator
) -> None:
    loop = make_events_loop(safety_poll_seconds=3600)
    glue.script(EVENTS_WORKFLOW, WAITS_FOR_AN_EVENT)
    start(sfn, loop.arn)
    run_id = token_run(emulator, loop, glue, 1)
    run = glue.runs_of(EVENTS_WORKFLOW)[0]

    token_before = stored_token(emulator, loop)

    callbacks = [loop.delivery.deliver_and_wait(event) for event in state_change_events(run)[:-1]]

    (execution,) = sfn.list_executions(stateMachineArn=loop.arn)["executions"]
    assert [callback and callback["status"] for callback in callbacks] == ["SUCCEEDED"] * 2
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
    sfn: Any, emulator: AwsEmulator, make_events_loop: MakeEventsLoop, glue: GlueRunSimulator
) -> None:
    loop = make_events_loop(safety_poll_seconds=1)
    glue.script(
        EVENTS_WORKFLOW,
        RunOutcome(node_states=PUBLISH_FAILS.node_states, running_polls=1),
        RunOutcome(node_states=PUBLISH_FAILS.node_states, running_polls=4),
    )

    short, long = histories_of_two_chains(sfn, loop.arn)

    assert (len(long) - len(short)) / 3 == locals_of(REPO_ROOT / "main.tf")["history_events_per_poll"]["events"] == 15


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
    outcomes = [loop.delivery.wait(arn)["status"] for arn in callbacks if arn]
    end_run(glue, loop, token_run(emulator, loop, glue, 2))
    chain = wait_until_stopped(sfn, loop.arn)

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
    Functions refuses the old token, and the callback reads the table again for a fresh one."""
    loop = make_events_loop(safety_poll_seconds=1)
    glue.script(EVENTS_WORKFLOW, WAITS_FOR_AN_EVENT)
    start(sfn, loop.arn)
    run_id = token_run(emulator, loop, glue, 1)
    dynamodb = emulator.client("dynamodb")
    timed_out = dynamodb.get_item(TableName=loop.token_table, Key={"workflow": {"S": EVENTS_WORKFLOW}})["Item"]
    while stored_token(emulator, loop) == timed_out["token"]["S"]:
        time.sleep(0.05)
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
