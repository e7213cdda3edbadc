"""The harness's injected faults in tasks' service calls: IAM denials per role and action, and
throttling for a number of calls, failing each task as its integration names the service's error."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from harness.emulator import ACCOUNT_ID, AwsEmulator
from harness.loop import run_to_end
from harness.service_faults import InjectedFault, ServiceFaults

# The role create_machine gives its state machines.
LOOP_ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/loop"
OTHER_ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/platform/other"
PARAMETER = "/test/service-faults/flag"


@pytest.fixture(scope="module", autouse=True)
def parameter(emulator: AwsEmulator) -> None:
    emulator.client("ssm").put_parameter(Name=PARAMETER, Value="false", Type="String", Overwrite=True)


def one_task(resource: str, parameters: dict[str, Any], **task: Any) -> dict[str, Any]:
    return {
        "StartAt": "Call",
        "States": {"Call": {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": True, **task}},
    }


GET_PARAMETER = one_task("arn:aws:states:::aws-sdk:ssm:getParameter", {"Name": PARAMETER})


def test_a_denial_fails_only_that_action_of_that_role_with_the_services_access_denied_error(
    sfn: Any, create_machine: Callable[..., str], faults: ServiceFaults
) -> None:
    machine = create_machine("faults-denial", GET_PARAMETER)
    faults.deny(OTHER_ROLE, "ssm:GetParameter")
    faults.deny(LOOP_ROLE, "ssm:GetParameters")

    allowed = run_to_end(sfn, machine)
    faults.deny(LOOP_ROLE, "ssm:GetParameter")
    denied, denied_again = run_to_end(sfn, machine), run_to_end(sfn, machine)

    assert allowed["status"] == "SUCCEEDED"
    assert (denied["status"], denied["error"]) == ("FAILED", "Ssm.AccessDeniedException")
    assert denied["cause"].startswith(
        f"User: arn:aws:sts::{ACCOUNT_ID}:assumed-role/loop/states-session is not authorized to perform: "
        "ssm:GetParameter because no identity-based policy allows the ssm:GetParameter action (Service: Ssm, "
        "Status Code: 400, "
    )
    assert denied_again["error"] == "Ssm.AccessDeniedException", "a denial lasts"
    assert faults.injected == [InjectedFault("ssm:GetParameter", LOOP_ROLE, "AccessDeniedException")] * 2


def test_a_denial_applies_to_the_role_the_task_runs_under(
    sfn: Any, create_machine: Callable[..., str], faults: ServiceFaults
) -> None:
    """A task with Credentials runs as that role, not as the state machine's
    (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-access-cross-acct-resources.html)."""
    as_other = create_machine(
        "faults-credentials",
        one_task("arn:aws:states:::aws-sdk:ssm:getParameter", {"Name": PARAMETER}, Credentials={"RoleArn": OTHER_ROLE}),
    )
    faults.deny(OTHER_ROLE, "ssm:GetParameter")

    assert run_to_end(sfn, as_other)["error"] == "Ssm.AccessDeniedException"
    assert run_to_end(sfn, create_machine("faults-own-role", GET_PARAMETER))["status"] == "SUCCEEDED"


def test_throttling_fails_the_next_calls_only_as_many_times_as_asked(
    sfn: Any, create_machine: Callable[..., str], faults: ServiceFaults
) -> None:
    machine = create_machine("faults-throttle", GET_PARAMETER)
    faults.throttle("ssm:GetParameter", times=2)

    first, second, third = run_to_end(sfn, machine), run_to_end(sfn, machine), run_to_end(sfn, machine)

    assert [first.get("error"), second.get("error"), third["status"]] == [
        "Ssm.ThrottlingException",
        "Ssm.ThrottlingException",
        "SUCCEEDED",
    ]
    assert first["cause"].startswith("Rate exceeded (Service: Ssm, Status Code: 400, ")


@pytest.mark.parametrize(
    ("resource", "parameters", "action", "error"),
    [
        # DynamoDB models no AccessDeniedException, so a denial is its service exception, as an
        # AWS user saw with a role lacking dynamodb:DescribeTable (https://dev.to/aws-builders/
        # handling-errors-with-stepfunctions-sns-sdk-integration-34g8).
        (
            "arn:aws:states:::aws-sdk:dynamodb:getItem",
            {"TableName": "tokens", "Key": {"workflow": {"S": "w"}}},
            "dynamodb:GetItem",
            "DynamoDb.DynamoDbException",
        ),
        ("arn:aws:states:::aws-sdk:glue:getWorkflow", {"Name": "w"}, "glue:GetWorkflow", "Glue.AccessDeniedException"),
        (
            "arn:aws:states:::sns:publish",
            {"TopicArn": f"arn:aws:sns:us-east-1:{ACCOUNT_ID}:t", "Message": "m"},
            "sns:Publish",
            "SNS.AuthorizationErrorException",
        ),
    ],
    ids=["aws-sdk-dynamodb", "aws-sdk-glue", "optimised-sns"],
)
def test_denials_are_named_as_each_integration_names_the_services_errors(
    sfn: Any,
    create_machine: Callable[..., str],
    faults: ServiceFaults,
    resource: str,
    parameters: dict[str, Any],
    action: str,
    error: str,
) -> None:
    machine = create_machine(f"faults-{action.replace(':', '-')}", one_task(resource, parameters))
    faults.deny(LOOP_ROLE, action)

    failed = run_to_end(sfn, machine)

    assert (failed["status"], failed["error"]) == ("FAILED", error)
    assert f"is not authorized to perform: {action}" in failed["cause"]


def test_throttling_of_dynamodb_is_named_as_its_modelled_error(
    sfn: Any, create_machine: Callable[..., str], faults: ServiceFaults, emulator: AwsEmulator
) -> None:
    table = "faults-throttled"
    emulator.client("dynamodb").create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "workflow", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "workflow", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    item = {"TableName": table, "Item": {"workflow": {"S": "w"}}}
    machine = create_machine("faults-put", one_task("arn:aws:states:::aws-sdk:dynamodb:putItem", item))
    faults.throttle("dynamodb:PutItem", times=1, code="ProvisionedThroughputExceededException")

    throttled, stored = run_to_end(sfn, machine), run_to_end(sfn, machine)

    assert throttled["error"] == "DynamoDb.ProvisionedThroughputExceededException"
    assert stored["status"] == "SUCCEEDED"
    assert json.loads(stored["output"]) == {}


def test_a_denial_ends_with_its_installation_though_the_emulator_keeps_the_tasks_client(
    sfn: Any, create_machine: Callable[..., str]
) -> None:
    machine = create_machine("faults-uninstalled", GET_PARAMETER)
    with ServiceFaults().installed() as faults:
        faults.deny(LOOP_ROLE, "ssm:GetParameter")
        denied = run_to_end(sfn, machine)

    assert denied["error"] == "Ssm.AccessDeniedException"
    assert run_to_end(sfn, machine)["status"] == "SUCCEEDED"
