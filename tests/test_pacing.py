"""Pacing: runs that found nothing (a job set the idle property) make the loop wait longer before
the next, up to a maximum; a busy run sets the wait back; the pause flag and max_runs still hold."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from conftest import EVENTS_WORKFLOW, WORKFLOW, pause_parameter_of
from harness.emulator import AwsEmulator
from harness.eventbridge import EventsLoop, end_run_with_events, wait_for_token
from harness.glue_simulator import CLEAN, IDLE, UNTIL_FINISHED, GlueRunSimulator, RunOutcome
from harness.loop import entered_states, history_events, newest_execution_in, wait_for, wait_until_stopped

MakeLoop = Callable[..., str]
# 1 s, 2 s, then 3 s at most: waits long enough to tell apart, short enough to sit through.
PACED = {
    "pacing_enabled": True,
    "pacing_initial_seconds": 1,
    "pacing_multiplier": 2,
    "pacing_max_seconds": 3,
    "pacing_growth_steps": 2,
}


def start(sfn: Any, arn: str) -> None:
    sfn.start_execution(stateMachineArn=arn, input="{}")


def waits_before_runs(sfn: Any, execution_arns: list[str]) -> list[tuple[int, float]]:
    """For each Cooldown of the executions, in order: the idle back-off it assigned (idle_wait) and
    the seconds it lasted by the history's clock."""
    waits = []
    for arn in execution_arns:
        entered = None
        for event in history_events(sfn, arn):
            if event.get("stateEnteredEventDetails", {}).get("name") == "Cooldown":
                entered = event["timestamp"]
            details = event.get("stateExitedEventDetails", {})
            if details.get("name") == "Cooldown" and entered is not None:
                assigned = json.loads(details["assignedVariables"]["idle_wait"])
                waits.append((assigned, (event["timestamp"] - entered).total_seconds()))
    return waits


def test_idle_runs_in_a_row_lengthen_the_wait_up_to_its_maximum_and_a_busy_run_resets_it(
    sfn: Any, make_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    # Two runs an execution, so the count of idle runs goes both in place and across a handover.
    loop = make_loop(runs_per_execution=2, **PACED)
    glue.script(WORKFLOW, IDLE, IDLE, IDLE, IDLE, CLEAN, IDLE, RunOutcome(failed=1))
    start(sfn, loop)

    chain = wait_until_stopped(sfn, loop)

    waits = waits_before_runs(sfn, [execution.arn for execution in chain])
    # Before runs 1..7: none before a chain's first; after 1, 2, 3 and 4 idle runs; after a busy one; after 1 idle.
    assert [assigned for assigned, _ in waits] == [0, 1, 2, 3, 3, 0, 1]
    assert all(lasted >= assigned for assigned, lasted in waits), waits
    assert [execution.input.get("idle_runs", 0) for execution in chain] == [0, 2, 4, 1]
    assert len(glue.runs_of(WORKFLOW)) == 7
    assert glue.overlapping_starts == []


def test_without_pacing_idle_runs_are_counted_but_never_lengthen_the_wait(
    sfn: Any, make_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    loop = make_loop()
    glue.script(WORKFLOW, IDLE, IDLE, RunOutcome(failed=1))
    start(sfn, loop)

    chain = wait_until_stopped(sfn, loop)

    assert [assigned for assigned, _ in waits_before_runs(sfn, [e.arn for e in chain])] == [0, 0, 0]
    assert [execution.input.get("idle_runs", 0) for execution in chain] == [0, 1, 2]


def test_a_property_that_does_not_say_true_is_not_an_idle_mark(
    sfn: Any, make_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    loop = make_loop(pacing_idle_property="nothing_new", **PACED)
    glue.script(
        WORKFLOW,
        RunOutcome(put_properties={"nothing_new": " TRUE "}),
        RunOutcome(put_properties={"nothing_new": "false"}),
        RunOutcome(put_properties={"glue_loop_idle": "true"}),
        RunOutcome(failed=1),
    )
    start(sfn, loop)

    chain = wait_until_stopped(sfn, loop)

    assert [execution.input.get("idle_runs", 0) for execution in chain] == [0, 1, 0, 0]


def test_a_pause_set_during_an_idle_wait_ends_the_chain_without_starting_a_run(
    sfn: Any, emulator: AwsEmulator, make_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    loop = make_loop(**{**PACED, "pacing_initial_seconds": 4, "pacing_max_seconds": 4, "pacing_growth_steps": 0})
    glue.script(WORKFLOW, IDLE, CLEAN)
    start(sfn, loop)

    wait_for(newest_execution_in(sfn, loop, "Cooldown"), timeout=30)
    emulator.client("ssm").put_parameter(Name=pause_parameter_of(loop), Value="true", Overwrite=True)
    _, second = wait_until_stopped(sfn, loop)

    assert second.status == "SUCCEEDED"
    assert second.output is not None and second.output["stop_reason"] == "paused"
    assert entered_states(sfn, second.arn)[-3:] == ["ReadPauseFlag", "IsPaused", "ChainEnded"]
    assert len(glue.runs_of(WORKFLOW)) == 1


def test_max_runs_ends_the_chain_after_an_idle_run_without_waiting(
    sfn: Any, make_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    loop = make_loop(max_runs=2, **{**PACED, "pacing_initial_seconds": 60, "pacing_max_seconds": 60})
    glue.script(WORKFLOW, CLEAN, IDLE, IDLE)
    start(sfn, loop)

    _, second = wait_until_stopped(sfn, loop, timeout=30)

    assert second.output is not None and second.output["stop_reason"] == "max_runs"
    assert second.input["idle_runs"] == 0
    assert len(glue.runs_of(WORKFLOW)) == 2


def test_an_events_mode_wake_carries_the_idle_mark(
    sfn: Any, emulator: AwsEmulator, make_events_loop: Callable[..., EventsLoop], glue: GlueRunSimulator
) -> None:
    loop = make_events_loop(safety_poll_seconds=3600, **PACED)
    idle = replace(IDLE, running_polls=UNTIL_FINISHED)
    glue.script(
        EVENTS_WORKFLOW, idle, idle, RunOutcome(node_states={"publish-sales": "FAILED"}, running_polls=UNTIL_FINISHED)
    )
    start(sfn, loop.arn)

    for run_number in (1, 2, 3):
        run_id = wait_for_token(emulator.client("dynamodb"), loop.token_table, glue, EVENTS_WORKFLOW, run_number)
        end_run_with_events(glue, loop.delivery, EVENTS_WORKFLOW, run_id, 0, None)
    chain = wait_until_stopped(sfn, loop.arn)

    assert [execution.input.get("idle_runs", 0) for execution in chain] == [0, 1, 2]
    woken = [entered_states(sfn, execution.arn).count("GetWorkflowRun") for execution in chain]
    assert woken == [0, 0, 0], "each run was judged on the callback's wake, not on a safety poll"


@pytest.mark.parametrize(
    ("multiplier", "max_seconds", "growth_steps", "expected"),
    [
        (2, 3600, 6, [60, 120, 240, 480, 960, 1920, 3600, 3600]),
        (1.5, 200, 3, [60, 90, 135, 200, 200, 200, 200, 200]),
        (1, 3600, 0, [60] * 8),
    ],
)
def test_the_wait_after_k_idle_runs_is_capped_and_stays_a_whole_number_however_long_the_idle_spell(
    loops_wait_before_run: Callable[..., dict[str, Any]],
    multiplier: float,
    max_seconds: int,
    growth_steps: int,
    expected: list[int],
) -> None:
    pacing = {"enabled": True, "initial_seconds": 60, "multiplier": multiplier, "max_seconds": max_seconds}
    config = {"cooldown_seconds": 5, "pacing": {**pacing, "growth_steps": growth_steps}}

    waits = [loops_wait_before_run({"run_number": 9, "idle_runs": k}, config) for k in range(1, 9)]
    a_years_idle = loops_wait_before_run({"run_number": 99999, "idle_runs": 99999}, config)

    assert [wait["seconds"] for wait in waits] == expected
    assert all(wait["idle"] for wait in waits)
    assert a_years_idle == {"idle": True, "seconds": max_seconds if multiplier > 1 else 60}
    assert loops_wait_before_run({"run_number": 9, "idle_runs": 0}, config) == {"idle": False, "seconds": 5}
    assert loops_wait_before_run({"run_number": 1, "idle_runs": 3}, config) == {"idle": False, "seconds": 0}
