"""Wake on data: an idle back-off (pacing) ends as soon as new data lands, and no data is missed
whenever its event comes: during the wait, while a run goes, between a run's end and the wait,
twice, or late."""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from conftest import EVENTS_WORKFLOW
from harness.emulator import AwsEmulator
from harness.eventbridge import EventsLoop, RuleDelivery, end_run_with_events, s3_object_created, wait_for_token
from harness.glue_simulator import IDLE, UNTIL_FINISHED, GlueRunSimulator, RunOutcome
from harness.loop import entered_states, history_events, newest_execution_in, wait_for, wait_until_stopped

BUCKET, PREFIX = "landing-sales", "raw/"
IDLE_UNTIL_ENDED = replace(IDLE, running_polls=UNTIL_FINISHED)
FAILS = RunOutcome(node_states={"publish-sales": "FAILED"}, running_polls=UNTIL_FINISHED)
# A back-off no test sits through: a run that starts within it was started by data.
LONG_BACKOFF = {"pacing_initial_seconds": 600, "pacing_max_seconds": 600, "pacing_growth_steps": 0}


def start(sfn: Any, arn: str) -> None:
    sfn.start_execution(stateMachineArn=arn, input="{}")


@pytest.fixture
def wake_loop(make_events_loop: Callable[..., EventsLoop]) -> EventsLoop:
    return make_events_loop(config="wake", safety_poll_seconds=3600, **LONG_BACKOFF)


@pytest.fixture
def data(wake_loop: EventsLoop) -> RuleDelivery:
    assert wake_loop.data_delivery is not None
    return wake_loop.data_delivery


def after_its_second(at: datetime.datetime) -> None:
    """Wait until the clock has left ``at``'s whole second. An event's time has no fraction, and
    the loop counts data of the second a run started in as new to that run (a run too many,
    never a file missed): a test that wants the run its data wakes to have taken the data lets
    the run start in a later second, as any run that lasts longer than a second does."""
    while datetime.datetime.now(datetime.UTC).replace(microsecond=0) <= at.replace(microsecond=0):
        time.sleep(0.05)


def landed(delivery: RuleDelivery, at: datetime.datetime | None = None, key: str = "sales.csv") -> dict[str, Any]:
    """Deliver the event of a file landed under PREFIX ``at`` (now) once its second has passed, and
    wait for the callback it starts."""
    at = at or datetime.datetime.now(datetime.UTC)
    after_its_second(at)
    event = s3_object_created(BUCKET, PREFIX + key, at)
    callback = delivery.deliver_and_wait(event)
    assert callback is not None and callback["status"] == "SUCCEEDED", callback
    return callback


def end_run(glue: GlueRunSimulator, emulator: AwsEmulator, loop: EventsLoop, run_number: int) -> str:
    run_id = wait_for_token(emulator.client("dynamodb"), loop.token_table, glue, EVENTS_WORKFLOW, run_number)
    end_run_with_events(glue, loop.delivery, EVENTS_WORKFLOW, run_id, 0, None)
    return run_id


def waiting_for_data(sfn: Any, loop: EventsLoop) -> Callable[[], bool]:
    """Whether the newest execution of the loop is in its wait for data."""
    return newest_execution_in(sfn, loop.arn, "WaitForData")


def test_a_file_landing_during_the_idle_wait_starts_the_next_run_within_seconds(
    sfn: Any,
    emulator: AwsEmulator,
    wake_loop: EventsLoop,
    data: RuleDelivery,
    glue: GlueRunSimulator,
    loop_locals: dict[str, Any],
) -> None:
    glue.script(EVENTS_WORKFLOW, IDLE_UNTIL_ENDED, FAILS)
    start(sfn, wake_loop.arn)
    end_run(glue, emulator, wake_loop, 1)
    wait_for(waiting_for_data(sfn, wake_loop))

    callback = landed(data)
    end_run(glue, emulator, wake_loop, 2)
    _, second = wait_until_stopped(sfn, wake_loop.arn)

    assert entered_states(sfn, callback["executionArn"])[-2:] == ["WakeIdleLoop", "ArrivalRecorded"]
    assert "WaitForData" in entered_states(sfn, second.arn)
    assert second.input["idle_runs"] == 1
    assert len(glue.runs_of(EVENTS_WORKFLOW)) == 2
    waited = next(
        event["stateExitedEventDetails"]
        for event in history_events(sfn, second.arn)
        if event.get("stateExitedEventDetails", {}).get("name") == "WaitForData"
    )
    assigned = {name: json.loads(value) for name, value in waited["assignedVariables"].items()}
    assert assigned["idle_wait"] < 60, "woken, not timed out"
    assert isinstance(assigned["data_arrived_at"], int)
    # What the history budget reserves for it beyond a Wait's 2 events.
    assert len(wait_events(sfn, second.arn)) - 2 == loop_locals["history_events_of_idle_wait"]


def wait_events(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    """The history events of the execution's WaitForData, from its entry to its exit."""
    history = history_events(sfn, execution_arn)
    names = [
        event.get("stateEnteredEventDetails", event.get("stateExitedEventDetails", {})).get("name") for event in history
    ]
    first = names.index("WaitForData")
    return history[first : first + names[first + 1 :].index("WaitForData") + 2]


def runs_started(glue: GlueRunSimulator) -> int:
    return len(glue.runs_of(EVENTS_WORKFLOW))


def refused_waits(sfn: Any, loop: EventsLoop) -> int:
    """Idle waits the loop did not leave because data had arrived since the previous run started."""
    return sum(
        1
        for execution in sfn.list_executions(stateMachineArn=loop.arn)["executions"]
        for event in history_events(sfn, execution["executionArn"])
        if event["type"] == "TaskFailed"
        and event["taskFailedEventDetails"]["error"].endswith("ConditionalCheckFailedException")
    )


@pytest.mark.parametrize("lands", ["while-the-run-goes", "after-the-run-ends-before-the-wait"])
def test_a_file_whose_event_comes_while_the_loop_is_not_waiting_leads_to_exactly_one_prompt_run(
    sfn: Any, emulator: AwsEmulator, wake_loop: EventsLoop, data: RuleDelivery, glue: GlueRunSimulator, lands: str
) -> None:
    glue.script(EVENTS_WORKFLOW, IDLE_UNTIL_ENDED, IDLE_UNTIL_ENDED, IDLE_UNTIL_ENDED)
    start(sfn, wake_loop.arn)
    end_run(glue, emulator, wake_loop, 1)
    wait_for(waiting_for_data(sfn, wake_loop))
    landed(data, key="first.csv")  # wakes the wait: run 2 starts
    run_2 = wait_for_token(emulator.client("dynamodb"), wake_loop.token_table, glue, EVENTS_WORKFLOW, 2)

    if lands == "while-the-run-goes":
        callback = landed(data, key="during-run-2.csv")
        end_run_with_events(glue, wake_loop.delivery, EVENTS_WORKFLOW, run_2, 0, None)
    else:
        # The run reads ended 3 s after its last event: the loop has not judged it yet.
        end_run_with_events(glue, wake_loop.delivery, EVENTS_WORKFLOW, run_2, 3, None)
        callback = landed(data, key="after-run-2.csv")
    end_run(glue, emulator, wake_loop, 3)  # run 3 starts at once: no wait between
    wait_for(waiting_for_data(sfn, wake_loop))

    assert entered_states(sfn, callback["executionArn"])[-2:] == ["IsLoopWaitingForData", "ArrivalRecorded"]
    assert runs_started(glue) == 3
    assert refused_waits(sfn, wake_loop) == 1, "the wait after run 2 was refused, the one after run 3 was not"


def test_duplicate_and_simultaneous_events_of_one_landing_wake_the_loop_once(
    sfn: Any, emulator: AwsEmulator, wake_loop: EventsLoop, data: RuleDelivery, glue: GlueRunSimulator
) -> None:
    glue.script(EVENTS_WORKFLOW, IDLE_UNTIL_ENDED, IDLE_UNTIL_ENDED)
    start(sfn, wake_loop.arn)
    end_run(glue, emulator, wake_loop, 1)
    wait_for(waiting_for_data(sfn, wake_loop))
    now = datetime.datetime.now(datetime.UTC)
    event = s3_object_created(BUCKET, PREFIX + "sales.csv", now)
    burst = [event, event, s3_object_created(BUCKET, PREFIX + "other.csv", now), event]
    after_its_second(now)

    callbacks = [data.wait(arn) for arn in [data.deliver(each) for each in burst] if arn]
    end_run(glue, emulator, wake_loop, 2)
    wait_for(waiting_for_data(sfn, wake_loop))

    outcomes = [entered_states(sfn, callback["executionArn"])[-2] for callback in callbacks]
    assert outcomes.count("WakeIdleLoop") == 1, outcomes
    assert runs_started(glue) == 2


def test_a_late_event_of_data_an_earlier_run_took_wakes_nothing(
    sfn: Any, emulator: AwsEmulator, wake_loop: EventsLoop, data: RuleDelivery, glue: GlueRunSimulator
) -> None:
    glue.script(EVENTS_WORKFLOW, IDLE_UNTIL_ENDED, IDLE_UNTIL_ENDED)
    before_the_chain = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=5)
    start(sfn, wake_loop.arn)
    end_run(glue, emulator, wake_loop, 1)
    wait_for(waiting_for_data(sfn, wake_loop))

    callback = landed(data, at=before_the_chain)

    assert entered_states(sfn, callback["executionArn"])[-2:] == ["IsLoopWaitingForData", "ArrivalRecorded"]
    assert waiting_for_data(sfn, wake_loop)()
    assert runs_started(glue) == 1


def test_an_event_after_the_wait_timed_out_is_kept_for_the_next_wait_and_wakes_no_finished_wait(
    sfn: Any, emulator: AwsEmulator, make_events_loop: Callable[..., EventsLoop], glue: GlueRunSimulator
) -> None:
    loop = make_events_loop(config="wake", safety_poll_seconds=3600, pacing_initial_seconds=1, pacing_max_seconds=1)
    assert loop.data_delivery is not None
    glue.script(EVENTS_WORKFLOW, IDLE_UNTIL_ENDED, IDLE_UNTIL_ENDED, IDLE_UNTIL_ENDED)
    start(sfn, loop.arn)
    end_run(glue, emulator, loop, 1)
    run_2 = wait_for_token(emulator.client("dynamodb"), loop.token_table, glue, EVENTS_WORKFLOW, 2)

    callback = landed(loop.data_delivery, key="during-run-2.csv")  # the 1 s wait's token is stale
    end_run_with_events(glue, loop.delivery, EVENTS_WORKFLOW, run_2, 0, None)
    end_run(glue, emulator, loop, 3)

    refused = [
        event["taskFailedEventDetails"]["error"]
        for event in history_events(sfn, callback["executionArn"])
        if event["type"] == "TaskFailed"
    ]
    assert entered_states(sfn, callback["executionArn"])[-2:] == ["WakeIdleLoop", "ArrivalRecorded"]
    (error,) = refused
    assert error in {"Sfn.TaskTimedOutException", "Sfn.InvalidTokenException", "Sfn.TaskDoesNotExistException"}
    assert refused_waits(sfn, loop) == 1, "the arrival during run 2 started run 3 at once"


@pytest.mark.parametrize("cooldown", [0, 2], ids=["no-cooldown", "cooldown"])
def test_after_a_busy_run_the_loop_waits_for_data_unless_a_cooldown_is_set(
    sfn: Any, emulator: AwsEmulator, make_events_loop: Callable[..., EventsLoop], glue: GlueRunSimulator, cooldown: int
) -> None:
    """Waking on data, a run that found data is followed by a wait for more rather than by a run
    that would find nothing; cooldown_seconds, where set, keeps its fixed wait instead."""
    loop = make_events_loop(config="wake", safety_poll_seconds=3600, cooldown_seconds=cooldown, **LONG_BACKOFF)
    glue.script(EVENTS_WORKFLOW, RunOutcome(running_polls=UNTIL_FINISHED), IDLE_UNTIL_ENDED)
    start(sfn, loop.arn)
    end_run(glue, emulator, loop, 1)

    if cooldown:
        end_run(glue, emulator, loop, 2)  # started after the cooldown, data or not
    wait_for(waiting_for_data(sfn, loop))

    assert runs_started(glue) == (2 if cooldown else 1)
