"""A loop that never breaks: history budget, idempotent handoff, adoption, stop policy, max runs, cooldown."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conftest import WORKFLOW, Notices, pause_parameter_of
from harness.emulator import AwsEmulator
from harness.glue_simulator import CLEAN, GlueRunSimulator, RunOutcome
from harness.loop import (
    entered_states,
    histories_of_two_chains,
    history_events,
    transitions,
    wait_for,
    wait_until_stopped,
)
from harness.sfn_faults import start_execution_times_out

MakeLoop = Callable[..., str]


def start(sfn: Any, arn: str, **execution_input: Any) -> None:
    sfn.start_execution(stateMachineArn=arn, input=json.dumps(execution_input))


def test_a_poll_costs_the_events_the_history_budget_assumes_and_three_state_transitions(
    sfn: Any, loop_machine: str, glue: GlueRunSimulator, loop_locals: dict[str, Any]
) -> None:
    glue.script(WORKFLOW, RunOutcome(failed=1, running_polls=1), RunOutcome(failed=1, running_polls=4))

    short, long = histories_of_two_chains(sfn, loop_machine)

    assert (len(long) - len(short)) / 3 == loop_locals["history_events_per_poll"]["poll"] == 9
    # Standard workflows bill per state transition (AWS Step Functions pricing), one per state entered:
    # WaitForRun, GetWorkflowRun, JudgeRun.
    assert (transitions(long) - transitions(short)) / 3 == 3
    assert len(long) < loop_locals["history_event_reserve"]


def test_events_per_extra_run_in_one_execution_fit_what_the_budget_reserves(
    sfn: Any, make_loop: MakeLoop, glue: GlueRunSimulator, loop_locals: dict[str, Any]
) -> None:
    one_run, three_runs = make_loop(), make_loop(runs_per_execution=3)
    glue.script(WORKFLOW, RunOutcome(failed=1))
    start(sfn, one_run)
    (single,) = wait_until_stopped(sfn, one_run)
    glue.script(WORKFLOW, CLEAN, CLEAN, RunOutcome(failed=1))
    start(sfn, three_runs)
    (triple,) = wait_until_stopped(sfn, three_runs)

    per_run = (len(history_events(sfn, triple.arn)) - len(history_events(sfn, single.arn))) / 2

    assert per_run == loop_locals["history_events_per_run"]


def test_runs_per_execution_drives_that_many_runs_before_continuing_as_new(
    sfn: Any, make_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    loop = make_loop(runs_per_execution=3)
    glue.script(WORKFLOW, CLEAN, CLEAN, CLEAN, RunOutcome(failed=1))
    start(sfn, loop, run_properties={"market": "EU"})

    first, second = wait_until_stopped(sfn, loop)

    assert (first.status, second.status) == ("SUCCEEDED", "FAILED")
    assert (second.input["run_number"], second.input["sequence"]) == (4, 2)
    assert "(run number 4)" in second.cause
    assert [run.properties["market"] for run in glue.runs_of(WORKFLOW)] == ["EU"] * 4


def test_run_longer_than_the_budget_is_handed_over_to_fresh_executions_polling_the_same_run(
    sfn: Any, make_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    loop = make_loop(max_polls_per_execution=2)
    glue.script(WORKFLOW, RunOutcome(failed=1, running_polls=7))
    start(sfn, loop)

    chain = wait_until_stopped(sfn, loop)

    (run,) = glue.runs_of(WORKFLOW)
    assert run.polls == 8
    assert [execution.status for execution in chain] == ["SUCCEEDED"] * 3 + ["FAILED"]
    assert [execution.input.get("resume_run_id") for execution in chain[1:]] == [run.run_id] * 3
    assert {execution.input.get("run_number", 1) for execution in chain} == {1}
    chain_id = chain[1].input["chain_id"]
    assert [execution.name for execution in chain[1:]] == [f"{chain_id}-{n}" for n in (2, 3, 4)]
    polls_per_execution = [entered_states(sfn, execution.arn).count("WaitForRun") for execution in chain]
    assert polls_per_execution == [2, 2, 2, 2]


@pytest.fixture
def start_execution_times_out_once() -> Iterator[list[str]]:
    """The first named execution (a successor) is started, then its caller hears a timeout."""
    with start_execution_times_out(when=lambda name: not timed_out) as timed_out:
        yield timed_out


def test_retried_start_of_the_successor_never_forks_the_loop(
    sfn: Any, loop_machine: str, glue: GlueRunSimulator, start_execution_times_out_once: list[str]
) -> None:
    glue.script(WORKFLOW, CLEAN, RunOutcome(failed=1, running_polls=2))
    start(sfn, loop_machine)

    first, second = wait_until_stopped(sfn, loop_machine)

    assert start_execution_times_out_once == [second.name]
    assert (first.status, second.status) == ("SUCCEEDED", "FAILED")
    assert len(glue.runs_of(WORKFLOW)) == 2
    retries = [event for event in history_events(sfn, first.arn) if event["type"] == "TaskFailed"]
    assert len(retries) == 1


def test_run_started_by_hand_is_adopted_instead_of_stopping_the_loop(
    emulator: AwsEmulator, sfn: Any, loop_machine: str, glue: GlueRunSimulator
) -> None:
    glue.script(WORKFLOW, RunOutcome(failed=1, running_polls=2))
    by_hand = emulator.client("glue").start_workflow_run(Name=WORKFLOW)["RunId"]
    glue.fail_next("StartWorkflowRun", "ConcurrentRunsExceededException")
    start(sfn, loop_machine)

    (only,) = wait_until_stopped(sfn, loop_machine)

    assert [run.run_id for run in glue.runs_of(WORKFLOW)] == [by_hand]
    assert only.error == "GlueWorkflowActionsFailed"
    assert f"run {by_hand} " in only.cause


def test_run_that_disappears_stops_the_loop_saying_so(sfn: Any, loop_machine: str, glue: GlueRunSimulator) -> None:
    glue.script(WORKFLOW, RunOutcome(running_polls=5))
    glue.fail_next("GetWorkflowRun", "EntityNotFoundException")
    start(sfn, loop_machine)

    (only,) = wait_until_stopped(sfn, loop_machine)

    assert only.error == "GlueWorkflowRunNotFound"
    assert f"run {glue.runs_of(WORKFLOW)[0].run_id} can no longer be read" in only.cause


def test_max_runs_ends_the_chain_after_that_many_clean_runs(
    sfn: Any, make_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    loop = make_loop(max_runs=2)
    glue.script(WORKFLOW, CLEAN, CLEAN, CLEAN)
    start(sfn, loop)

    chain = wait_until_stopped(sfn, loop)

    assert [execution.status for execution in chain] == ["SUCCEEDED", "SUCCEEDED"]
    assert len(glue.runs_of(WORKFLOW)) == 2
    entered = [
        event["stateEnteredEventDetails"]["name"]
        for event in history_events(sfn, chain[-1].arn)
        if event["type"].endswith("StateEntered")
    ]
    assert entered[-1] == "ChainEnded"
    assert (chain[-1].output or {}).get("stop_reason") == "max_runs"


def test_cooldown_waits_before_each_next_run_but_not_the_first(
    sfn: Any, make_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    loop = make_loop(cooldown_seconds=1)
    glue.script(WORKFLOW, CLEAN, RunOutcome(failed=1))
    start(sfn, loop)

    first, second = wait_until_stopped(sfn, loop)

    def cooldown_seconds(arn: str) -> float:
        """How long the execution stayed in Cooldown: a chain's first run is not cooled down."""
        history = history_events(sfn, arn)
        (entered,) = [
            e["timestamp"] for e in history if e.get("stateEnteredEventDetails", {}).get("name") == "Cooldown"
        ]
        (exited,) = [e["timestamp"] for e in history if e.get("stateExitedEventDetails", {}).get("name") == "Cooldown"]
        return float((exited - entered).total_seconds())

    assert cooldown_seconds(first.arn) < 1
    assert cooldown_seconds(second.arn) >= 1


def test_tolerated_failures_count_as_clean_until_there_are_more(
    sfn: Any, make_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    loop = make_loop(tolerated_failed=1)
    glue.script(WORKFLOW, RunOutcome(failed=1), RunOutcome(failed=2))
    start(sfn, loop)

    first, second = wait_until_stopped(sfn, loop)

    assert first.status == "SUCCEEDED"
    assert second.error == "GlueWorkflowActionsFailed"


def test_outcome_the_policy_ignores_does_not_stop_the_loop(
    sfn: Any, make_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    loop = make_loop(tolerated_stopped=2147483647)
    glue.script(WORKFLOW, RunOutcome(stopped=3), RunOutcome(timed_out=1))
    start(sfn, loop)

    first, second = wait_until_stopped(sfn, loop)

    assert first.status == "SUCCEEDED"
    assert second.error == "GlueWorkflowActionsTimedOut"


def test_pause_lets_the_run_in_flight_finish_then_ends_the_loop_and_resume_starts_a_new_chain(
    emulator: AwsEmulator, sfn: Any, loop_machine: str, glue: GlueRunSimulator
) -> None:
    ssm = emulator.client("ssm")
    glue.script(WORKFLOW, RunOutcome(running_polls=3), RunOutcome(failed=1))
    start(sfn, loop_machine)
    wait_for(lambda: bool(glue.runs_of(WORKFLOW)) and glue.runs_of(WORKFLOW)[0].polls >= 1)
    ssm.put_parameter(Name=pause_parameter_of(loop_machine), Value="true", Overwrite=True)

    paused = wait_until_stopped(sfn, loop_machine)

    assert [execution.status for execution in paused] == ["SUCCEEDED", "SUCCEEDED"]
    assert paused[-1].output is not None and paused[-1].output["stop_reason"] == "paused"
    assert len(glue.runs_of(WORKFLOW)) == 1
    assert glue.runs_of(WORKFLOW)[0].polls == 4, "the run in flight was polled to its end"

    ssm.put_parameter(Name=pause_parameter_of(loop_machine), Value="false", Overwrite=True)
    start(sfn, loop_machine)
    (resumed,) = wait_until_stopped(sfn, loop_machine, ignore={execution.arn for execution in paused})

    assert resumed.error == "GlueWorkflowActionsFailed"
    assert len(glue.runs_of(WORKFLOW)) == 2


def test_stop_is_announced_on_the_topic_with_run_counts_nodes_and_link(
    sfn: Any, make_loop: MakeLoop, glue: GlueRunSimulator, notices: Notices
) -> None:
    loop = make_loop(sns_topic_arn=notices.topic_arn)
    glue.script(WORKFLOW, RunOutcome(failed=1))
    start(sfn, loop)

    (only,) = wait_until_stopped(sfn, loop)

    (notice,) = notices.received()
    run = glue.runs_of(WORKFLOW)[0]
    assert notice["error"] == only.error == "GlueWorkflowActionsFailed"
    assert notice["cause"] == only.cause
    assert (notice["workflow"], notice["run_id"], notice["failed_nodes"]) == (WORKFLOW, run.run_id, ["action-0"])
    assert notice["statistics"]["FailedActions"] == 1
    assert notice["execution"] == only.arn
    assert (
        notice["console_url"]
        == f"https://console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/{only.arn}"
    )


def test_stop_stands_when_the_notice_cannot_be_sent(sfn: Any, make_loop: MakeLoop, glue: GlueRunSimulator) -> None:
    loop = make_loop(sns_topic_arn="arn:aws:sns:us-east-1:123456789012:no-such-topic")
    glue.script(WORKFLOW, RunOutcome(timed_out=1))
    start(sfn, loop)

    (only,) = wait_until_stopped(sfn, loop)

    assert only.error == "GlueWorkflowActionsTimedOut"


def test_throttled_adoption_lookup_is_retried(
    emulator: AwsEmulator, sfn: Any, loop_machine: str, glue: GlueRunSimulator
) -> None:
    glue.script(WORKFLOW, RunOutcome(failed=1))
    by_hand = emulator.client("glue").start_workflow_run(Name=WORKFLOW)["RunId"]
    glue.fail_next("StartWorkflowRun", "ConcurrentRunsExceededException")
    glue.fail_next("GetWorkflow", "ThrottlingException", "InternalServiceException")
    start(sfn, loop_machine)

    (only,) = wait_until_stopped(sfn, loop_machine)

    assert f"run {by_hand} " in only.cause
    assert glue.calls.count("GetWorkflow") == 3


@pytest.mark.parametrize(
    ("faults", "named"),
    [
        (["ThrottlingException"], "[action-0]"),
        (["EntityNotFoundException"], "[unknown: GetWorkflowRun with IncludeGraph failed]"),
    ],
    ids=["throttled-then-read", "unreadable"],
)
def test_graph_read_is_retried_and_its_failure_never_hides_the_verdict(
    sfn: Any, loop_machine: str, glue: GlueRunSimulator, faults: list[str], named: str
) -> None:
    glue.script(WORKFLOW, RunOutcome(failed=1))
    glue.fail_next("GetWorkflowRun+IncludeGraph", *faults)
    start(sfn, loop_machine)

    (only,) = wait_until_stopped(sfn, loop_machine)

    assert only.error == "GlueWorkflowActionsFailed"
    assert only.cause.endswith(f"failed nodes: {named}")
