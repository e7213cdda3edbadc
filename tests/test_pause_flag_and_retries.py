"""The pause flag fails closed, and the loop's SSM and DynamoDB calls outlast throttling: tested
with IAM denials and throttling injected into the loop's service calls (harness.service_faults)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from conftest import EVENTS_WORKFLOW, WORKFLOW, Notices, pause_parameter_of
from harness.emulator import ACCOUNT_ID, AwsEmulator
from harness.eventbridge import EventsLoop, end_run_with_events, wait_for_token
from harness.glue_simulator import UNTIL_FINISHED, GlueRunSimulator, RunOutcome
from harness.loop import entered_states, failed_tasks, wait_until_stopped
from harness.service_faults import InjectedFault, ServiceFaults
from harness.terraform import REPO_ROOT

MakeLoop = Callable[..., str]
# The role create_machine gives every state machine, the loop's and the callback's.
LOOP_ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/loop"
FAILS = RunOutcome(failed=1)


def start(sfn: Any, arn: str) -> None:
    sfn.start_execution(stateMachineArn=arn, input="{}")


# --- The pause flag ----------------------------------------------------------------------------


def test_a_missing_pause_parameter_reads_as_not_paused(
    emulator: AwsEmulator, sfn: Any, make_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    loop = make_loop()
    emulator.client("ssm").delete_parameter(Name=pause_parameter_of(loop))
    glue.script(WORKFLOW, FAILS)
    start(sfn, loop)

    (only,) = wait_until_stopped(sfn, loop)

    assert only.error == "GlueWorkflowActionsFailed"
    assert failed_tasks(sfn, only.arn) == ["Ssm.ParameterNotFoundException"]


def test_a_denied_pause_flag_stops_the_loop_naming_the_parameter_and_the_error_and_says_so_on_the_topic(
    sfn: Any, make_loop: MakeLoop, glue: GlueRunSimulator, faults: ServiceFaults, notices: Notices
) -> None:
    loop = make_loop(sns_topic_arn=notices.topic_arn)
    faults.deny(LOOP_ROLE, "ssm:GetParameter")
    start(sfn, loop)

    (only,) = wait_until_stopped(sfn, loop)

    assert (only.status, only.error) == ("FAILED", "PauseFlagUnreadable")
    assert only.cause.startswith(
        f"Pause flag {pause_parameter_of(loop)} could not be read, so the loop stops rather than run while it may "
        "be paused: GetParameter failed with Ssm.AccessDeniedException: User: "
    )
    assert "is not authorized to perform: ssm:GetParameter" in only.cause
    assert glue.runs_of(WORKFLOW) == []
    (notice,) = notices.received()
    assert (notice["error"], notice["cause"], notice["workflow"]) == ("PauseFlagUnreadable", only.cause, WORKFLOW)
    assert notice["execution"] == only.arn
    assert (
        notice["console_url"]
        == f"https://console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/{only.arn}"
    )


@pytest.mark.parametrize("value", ["true", "TRUE", " True ", "\ttrue\n"])
def test_true_in_any_case_and_with_surrounding_spaces_pauses(
    emulator: AwsEmulator, sfn: Any, make_loop: MakeLoop, glue: GlueRunSimulator, value: str
) -> None:
    loop = make_loop()
    emulator.client("ssm").put_parameter(Name=pause_parameter_of(loop), Value=value, Overwrite=True)
    start(sfn, loop)

    (only,) = wait_until_stopped(sfn, loop)

    assert only.status == "SUCCEEDED"
    assert only.output is not None and only.output["stop_reason"] == "paused"
    assert glue.runs_of(WORKFLOW) == []


@pytest.mark.parametrize("value", ["false", "no", "truee", "t rue"])
def test_anything_but_true_does_not_pause(
    emulator: AwsEmulator, sfn: Any, make_loop: MakeLoop, glue: GlueRunSimulator, value: str
) -> None:
    loop = make_loop()
    emulator.client("ssm").put_parameter(Name=pause_parameter_of(loop), Value=value, Overwrite=True)
    glue.script(WORKFLOW, FAILS)
    start(sfn, loop)

    (only,) = wait_until_stopped(sfn, loop)

    assert only.error == "GlueWorkflowActionsFailed"


# --- Throttling --------------------------------------------------------------------------------


def test_ssm_throttling_that_clears_within_the_retries_does_not_stop_the_loop(
    sfn: Any, make_loop: MakeLoop, glue: GlueRunSimulator, faults: ServiceFaults
) -> None:
    loop = make_loop()
    faults.throttle("ssm:GetParameter", times=2)
    glue.script(WORKFLOW, FAILS)
    start(sfn, loop)

    (only,) = wait_until_stopped(sfn, loop)

    assert only.error == "GlueWorkflowActionsFailed"
    assert failed_tasks(sfn, only.arn) == ["Ssm.ThrottlingException"] * 2
    assert faults.injected == [InjectedFault("ssm:GetParameter", LOOP_ROLE, "ThrottlingException")] * 2


def test_a_throttled_token_write_is_retried_and_the_loop_waits_for_its_event(
    emulator: AwsEmulator,
    sfn: Any,
    make_events_loop: Callable[..., EventsLoop],
    glue: GlueRunSimulator,
    faults: ServiceFaults,
) -> None:
    loop = make_events_loop(safety_poll_seconds=3600)
    glue.script(EVENTS_WORKFLOW, RunOutcome(node_states={"publish-sales": "FAILED"}, running_polls=UNTIL_FINISHED))
    faults.throttle("dynamodb:PutItem", times=1, code="ProvisionedThroughputExceededException")
    start(sfn, loop.arn)

    run_id = wait_for_token(emulator.client("dynamodb"), loop.token_table, glue, EVENTS_WORKFLOW, 1)
    end_run_with_events(glue, loop.delivery, EVENTS_WORKFLOW, run_id)
    (only,) = wait_until_stopped(sfn, loop.arn)

    assert only.error == "GlueWorkflowActionsFailed"
    assert failed_tasks(sfn, only.arn) == ["DynamoDb.ProvisionedThroughputExceededException"]
    assert "PollInstead" not in entered_states(sfn, only.arn), "woken by the event, not polled"


def test_throttled_token_reads_and_claims_are_retried_and_the_callback_wakes_the_loop(
    emulator: AwsEmulator,
    sfn: Any,
    make_events_loop: Callable[..., EventsLoop],
    glue: GlueRunSimulator,
    faults: ServiceFaults,
) -> None:
    loop = make_events_loop(safety_poll_seconds=3600)
    glue.script(EVENTS_WORKFLOW, RunOutcome(node_states={"publish-sales": "FAILED"}, running_polls=UNTIL_FINISHED))
    start(sfn, loop.arn)
    run_id = wait_for_token(emulator.client("dynamodb"), loop.token_table, glue, EVENTS_WORKFLOW, 1)
    faults.throttle("dynamodb:GetItem", times=1)
    faults.throttle("dynamodb:DeleteItem", times=1, code="ProvisionedThroughputExceededException")

    callbacks = end_run_with_events(glue, loop.delivery, EVENTS_WORKFLOW, run_id)
    (only,) = wait_until_stopped(sfn, loop.arn)

    assert [loop.delivery.wait(callback)["status"] for callback in callbacks] == ["SUCCEEDED"] * len(callbacks)
    assert only.error == "GlueWorkflowActionsFailed"
    assert entered_states(sfn, only.arn).count("GetWorkflowRun") == 0, "woken by the callback, not polled"
    assert sorted(fault.action for fault in faults.injected) == ["dynamodb:DeleteItem", "dynamodb:GetItem"]


# The names Step Functions gives throttling of these calls (ServiceName.ErrorCode, "Exception"
# appended: https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html):
# the throttling codes in the DynamoDB and SSM API models (GetItem, PutItem, DeleteItem list
# ProvisionedThroughputExceededException, RequestLimitExceeded and ThrottlingException), their
# internal errors, and the service exception an error code the SDK does not model becomes.
DYNAMODB_RETRIED = {
    "DynamoDb.ProvisionedThroughputExceededException",
    "DynamoDb.RequestLimitExceededException",
    "DynamoDb.ThrottlingException",
    "DynamoDb.InternalServerErrorException",
    "DynamoDb.DynamoDbException",
}
SSM_RETRIED = {"Ssm.ThrottlingException", "Ssm.InternalServerErrorException", "Ssm.SsmException"}


@pytest.mark.parametrize(
    ("template", "state", "retried", "like"),
    [
        ("statemachine.asl.json", "ReadPauseFlag", SSM_RETRIED, ("statemachine.asl.json", "GetWorkflowRun")),
        ("statemachine.events.json", "WaitForRun", DYNAMODB_RETRIED, ("statemachine.asl.json", "GetWorkflowRun")),
        # The callback's calls retry less and time out, so that it ends inside an EXPRESS execution.
        (
            "callback.asl.json",
            "ReadToken",
            DYNAMODB_RETRIED | {"States.Timeout"},
            ("callback.asl.json", "GetWorkflowRun"),
        ),
        (
            "callback.asl.json",
            "ClaimToken",
            DYNAMODB_RETRIED | {"States.Timeout"},
            ("callback.asl.json", "GetWorkflowRun"),
        ),
    ],
)
def test_ssm_and_dynamodb_calls_retry_throttling_with_the_backoff_of_the_glue_calls_beside_them(
    template: str, state: str, retried: set[str], like: tuple[str, str]
) -> None:
    loaded = json.loads((REPO_ROOT / template).read_text())
    states = loaded.get("States", loaded)  # statemachine.events.json holds states only
    glue_template, glue_state = like
    glue_retrier = json.loads((REPO_ROOT / glue_template).read_text())["States"][glue_state]["Retry"][0]

    (retrier,) = states[state]["Retry"]

    assert set(retrier["ErrorEquals"]) == retried
    assert {key: value for key, value in retrier.items() if key != "ErrorEquals"} == {
        key: value for key, value in glue_retrier.items() if key != "ErrorEquals"
    }
