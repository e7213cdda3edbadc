"""The state machine definition: the template file, and the graph Terraform renders from it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from conftest import WORKFLOW
from harness import asl
from harness.plans import rendered_definition
from harness.terraform import REPO_ROOT


@pytest.fixture(scope="module")
def definition(plan: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    return rendered_definition(plan("default"))


# Every state machine the module renders: the loop in each completion mode and the callback.
RENDERED = {
    "poll loop": ("default", "aws_sfn_state_machine.this[0]"),
    "events loop": ("events", "aws_sfn_state_machine.this[0]"),
    "events callback": ("events", "aws_sfn_state_machine.callback[0]"),
}


@pytest.fixture(scope="module", params=list(RENDERED.values()), ids=list(RENDERED))
def any_definition(plan: Callable[[str], dict[str, Any]], request: pytest.FixtureRequest) -> dict[str, Any]:
    config, address = request.param
    return rendered_definition(plan(config), address)


@pytest.mark.parametrize("template", ["statemachine.asl.json", "statemachine.events.json", "callback.asl.json"])
def test_templates_are_plain_json_in_jsonpath_but_the_states_that_need_jsonata(template: str) -> None:
    """JSONata only where JSONPath cannot do the job: the events mode token wait (the clock for its
    token's expiry), the pause test (lowercase and trim), the chain's end (adds stop_reason), the
    cooldown (0 s before a chain's first run), the judge and the choices after it (a Choice rule may
    Assign only in JSONata; they read the verdict variable), the resume and its record (appends to
    the attempts), the look for the run a failed start or resume made (filters runs on two
    conditions, counts what it found) and its backoff (a power of the failures),
    the failed-node lookup (joined conditions in a filter, the list cut at 100), the stop (chooses and
    joins its cause), the run's start (filters the user's run properties, numbers as strings), the
    run's reads and the next run in place (a run's CompletedOn, absent while it runs), the run's
    metrics (a clock, arithmetic on times), the handover format's check (assigns the verdict) and the
    callback's watch and rereads (a deadline)."""
    loaded = json.loads((REPO_ROOT / template).read_text())
    states = loaded.get("States", loaded)  # statemachine.events.json holds states only

    assert loaded.get("QueryLanguage", "JSONPath") == "JSONPath"
    jsonata = {
        "statemachine.asl.json": {
            "IsPaused",
            "ChainEnded",
            "Cooldown",
            "StartWorkflowRun",
            "GetWorkflowRun",
            "JudgeRun",
            "PublishRunMetrics",
            "FindFailedNodes",
            "RecoverOrStop",
            "ResumeWorkflowRun",
            "RecordRecoveryAttempt",
            "FindRunInFlight",
            "WaitBeforeLooking",
            "FindRunOfFailedCall",
            "WasRunFound",
            "AdoptStartedRun",
            "BuildStop",
            "ShouldNotify",
            "NextRunInPlace",
            "CheckHandoverFormat",
        },
        "statemachine.events.json": {"WaitForRun"},
        "callback.asl.json": {"GetWorkflowRun", "KeepWatching", "ReadAgain"},
    }
    assert {name for name, state in states.items() if state.get("QueryLanguage", "JSONPath") != "JSONPath"} == (
        jsonata.get(template, set())
    )


def test_every_state_is_reachable(any_definition: dict[str, Any]) -> None:
    assert asl.reachable(any_definition) == set(any_definition["States"])


def test_every_transition_names_a_state(any_definition: dict[str, Any]) -> None:
    assert asl.dangling_targets(any_definition) == set()


def test_no_state_is_a_dead_end_or_a_trap(any_definition: dict[str, Any]) -> None:
    assert asl.dead_ends(any_definition) == set()
    assert asl.trapped(any_definition) == set()


def test_every_choice_has_a_default(any_definition: dict[str, Any]) -> None:
    assert asl.choices_without_default(any_definition) == set()


def test_loop_has_at_most_32_states_so_that_it_reads_on_one_screen(definition: dict[str, Any]) -> None:
    """Poll mode; events mode adds the one state test_events_mode_swaps_only_the_wait... names."""
    assert len(definition["States"]) <= 32


@pytest.mark.parametrize("config", ["events", "wake"])
def test_every_state_that_rebuilds_the_callbacks_input_keeps_what_begin_set(
    plan: Callable[[str], dict[str, Any]], config: str
) -> None:
    """A field Begin sets and a later state drops is gone on the ways through that state: the
    idle mark's name, dropped by the re-read, judged a woken run busy."""
    callback = rendered_definition(plan(config), "aws_sfn_state_machine.callback[0]")
    begun = {key.removesuffix(".$") for key in callback["States"]["Begin"]["Parameters"]} - {"event"}

    rebuilding = {
        name: {key.removesuffix(".$") for key in state["Parameters"]}
        for name, state in callback["States"].items()
        if state["Type"] == "Pass" and name != "Begin" and "Parameters" in state
    }

    assert rebuilding, "the re-read rebuilds the input"
    assert {name: begun - keys for name, keys in rebuilding.items() if begun - keys} == {}


def test_events_mode_swaps_only_the_wait_for_a_token_wait_and_its_polling_fallback(
    plan: Callable[[str], dict[str, Any]], definition: dict[str, Any]
) -> None:
    events = rendered_definition(plan("events"))
    wait = events["States"]["WaitForRun"]

    assert set(events["States"]) - set(definition["States"]) == {"PollInstead"}
    assert wait["Resource"] == "arn:aws:states:::aws-sdk:dynamodb:putItem.waitForTaskToken"
    assert wait["TimeoutSeconds"] == "{% $states.input.config.safety_poll_seconds %}"
    assert wait["Arguments"]["Item"]["expires_at"]["N"].startswith("{% $string($floor($millis() / 1000)")
    assert asl.transitions(events)["WaitForRun"] == {"JudgeRun", "GetWorkflowRun", "PollInstead"}
    assert asl.transitions(events)["PollInstead"] == {"GetWorkflowRun"}


def test_callback_wakes_the_loop_only_after_claiming_the_token_of_an_ended_run(
    plan: Callable[[str], dict[str, Any]],
) -> None:
    callback = rendered_definition(plan("events"), "aws_sfn_state_machine.callback[0]")
    edges = asl.transitions(callback)

    assert edges["HasRunEnded"] == {"KeepWatching", "ClaimToken"}
    assert edges["WaitForRunEnd"] == {"GetWorkflowRun"}
    assert edges["ClaimToken"] == {"WakeLoop", "CountRead"}
    assert {name for name, targets in edges.items() if "WakeLoop" in targets} == {"ClaimToken"}
    assert callback["States"]["ClaimToken"]["Parameters"]["ConditionExpression"] == "#token = :token"


def test_successor_is_a_deterministically_named_execution_of_the_same_state_machine(
    definition: dict[str, Any],
) -> None:
    task = definition["States"]["StartNextExecution"]

    assert task["Resource"] == "arn:aws:states:::states:startExecution"
    assert task["Parameters"] == {
        "StateMachineArn.$": "$$.StateMachine.Id",
        "Name.$": "States.Format('{}-{}', $next.chain_id, $next.sequence)",
        "Input.$": "$next",
    }
    (already_exists, *_) = task["Retry"]
    assert already_exists == {"ErrorEquals": ["StepFunctions.ExecutionAlreadyExistsException"], "MaxAttempts": 0}
    assert task["Catch"][0]["ErrorEquals"] == ["StepFunctions.ExecutionAlreadyExistsException"]
    assert task["Catch"][0]["Next"] == "NextExecutionStarted"


def test_rendered_definition_carries_workflow_name_and_settings(definition: dict[str, Any]) -> None:
    states = definition["States"]
    config = states["ApplyDefaults"]["Parameters"]["config"]

    assert states["StartWorkflowRun"]["Arguments"]["Name"] == WORKFLOW
    assert states["GetWorkflowRun"]["Arguments"]["Name"] == WORKFLOW
    assert config == {
        "workflow": WORKFLOW,
        "poll_interval_seconds": 60,
        "safety_poll_seconds": 300,
        "max_polls_per_execution": 2196,
        "cooldown_seconds": 0,
        "max_runs": 0,
        "runs_per_execution": 1,
        "tolerated": {"failed": 0, "timed_out": 0, "stopped": 0, "errored": 0},
        "adopt_run_in_flight": True,
        "look_backoff_seconds": 1,
        "recovery": {
            "enabled": False,
            "max_attempts": 2,
            "backoff_seconds": 60,
            "on_actions": ["failed", "timed_out"],
            "when_exhausted": "stop",
        },
        # growth_steps: 60 s doubled 6 times passes 3600 s.
        "pacing": {
            "enabled": False,
            "idle_property": "glue_loop_idle",
            "initial_seconds": 60,
            "multiplier": 2,
            "max_seconds": 3600,
            "growth_steps": 6,
        },
        "pause_parameter": "/glue-workflow-loop/nightly-sales-loop/paused",
        "sns_topic_arn": "",
        "metrics": {
            "enabled": True,
            "namespace": "GlueWorkflowLoop",
            "dimensions": [{"Name": "WorkflowName", "Value": WORKFLOW}],
        },
    }


@pytest.mark.parametrize("task", ["GetWorkflowRun", "FindFailedNodes", "FindRunInFlight", "FindRunOfFailedCall"])
def test_glue_reads_retry_throttling_and_internal_errors_with_backoff(definition: dict[str, Any], task: str) -> None:
    (retrier,) = definition["States"][task]["Retry"]

    assert set(retrier["ErrorEquals"]) == {
        "Glue.ThrottlingException",
        "Glue.InternalServiceException",
        "Glue.OperationTimeoutException",
    }
    assert retrier["BackoffRate"] > 1
    assert retrier["MaxAttempts"] >= 3
    assert retrier["JitterStrategy"] == "FULL"


@pytest.mark.parametrize("task", ["StartWorkflowRun", "ResumeWorkflowRun"])
def test_calls_that_make_a_run_retry_only_throttling_and_look_for_the_run_after_any_other_error(
    definition: dict[str, Any], task: str
) -> None:
    """A server error or a timeout may follow a call that acted, and neither call takes an
    idempotency token: a retry could make a second run, so only a refusal by throttling is
    retried in place, and every error that is not a refusal leads to the look for the run."""
    state = definition["States"][task]
    (retrier,) = state["Retry"]
    *refusals, anything_else = state["Catch"]

    assert retrier["ErrorEquals"] == ["Glue.ThrottlingException"]
    assert anything_else["ErrorEquals"] == ["States.ALL"]
    assert anything_else["Next"] == "WaitBeforeLooking"
    refused = {error for catcher in refusals for error in catcher["ErrorEquals"]}
    assert not refused & {"Glue.InternalServiceException", "Glue.OperationTimeoutException", "States.Timeout"}


EXPRESS_LIMIT_SECONDS = 300  # "Choosing workflow type in Step Functions": an EXPRESS execution's duration


def test_the_callbacks_longest_execution_every_read_timing_out_and_retried_ends_inside_express_limit(
    plan: Callable[[str], dict[str, Any]],
) -> None:
    """With the longest watch variables.tf allows, each call taking its full timeout on every
    attempt and every backoff, the watch and the rereads looping as long as their deadline lets."""
    callback = rendered_definition(plan("longest_callback_watch"), "aws_sfn_state_machine.callback[0]")
    watch = callback["States"]["Begin"]["Parameters"]["watch"]
    deadline = asl.Gate(until=watch["limit"])

    seconds = asl.longest_execution_seconds(
        callback,
        waits={"WaitForRunEnd": watch["every"]},
        gates={"KeepWatching": deadline, "ReadAgain": asl.Gate(times=3, until=watch["limit"])},
    )

    assert watch["limit"] == 180
    assert seconds == 250
    assert seconds < EXPRESS_LIMIT_SECONDS


def test_the_callbacks_way_for_new_data_every_call_timing_out_and_retried_ends_inside_express_limit(
    plan: Callable[[str], dict[str, Any]],
) -> None:
    """wake_on_data's branch of the callback, from its first state: four calls, no loop."""
    callback = rendered_definition(plan("wake"), "aws_sfn_state_machine.callback[0]")
    (data_rule,) = callback["States"]["IsDataArrival"]["Choices"]

    seconds = asl.longest_execution_seconds({**callback, "StartAt": data_rule["Next"]}, waits={}, gates={})

    # Each call: three 5 s attempts, waiting 1 s and then 2 s between them.
    assert seconds == 4 * (3 * 5 + 1 + 2)
    assert seconds < EXPRESS_LIMIT_SECONDS


def test_the_longest_execution_counts_timeouts_retries_waits_and_gated_loops() -> None:
    task: dict[str, Any] = {
        "Type": "Task",
        "TimeoutSeconds": 5,
        "Retry": [{"ErrorEquals": ["A"], "MaxAttempts": 2, "MaxDelaySeconds": 2}, {"ErrorEquals": ["B"]}],
    }
    definition: dict[str, Any] = {
        "StartAt": "Call",
        "States": {
            "Call": {**task, "Next": "Again", "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}]},
            "Again": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.x", "IsPresent": True, "Next": "Pause"}],
                "Default": "Done",
            },
            "Pause": {"Type": "Wait", "Seconds": 10, "Next": "Call"},
            "Done": {"Type": "Succeed"},
        },
    }
    # 1 + 2 + 3 attempts of 5 s, backoffs 1 + 2 and 1 + 2 + 4: 40 s a call.
    assert asl.task_worst_seconds(definition["States"]["Call"]) == 40
    assert asl.longest_execution_seconds(definition, {}, {"Again": asl.Gate(times=2)}) == 3 * 40 + 2 * 10
    assert asl.longest_execution_seconds(definition, {}, {"Again": asl.Gate(until=50)}) == 2 * 40 + 10
