"""Validators that know AWS independently of moto: asl-validator on every state machine definition Terraform
renders, parliament on every IAM identity policy the module and its sample workflow create."""

from __future__ import annotations

import copy
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness import docs
from harness.emulator import ACCOUNT_ID, REGION, AwsEmulator
from harness.plans import rendered_definition
from harness.terraform import REPO_ROOT, TerraformWorkspace

ASL_VALIDATOR = os.environ.get(
    "ASL_VALIDATOR_BIN", str(REPO_ROOT / ".build" / "node" / "node_modules" / ".bin" / "asl-validator")
)
PARLIAMENT = os.environ.get("PARLIAMENT_BIN", str(REPO_ROOT / ".venv-parliament" / "bin" / "parliament"))

# Every definition Terraform renders: (plan configuration in conftest.PLAN_CONFIGS, resource address).
RENDERED_MACHINES = {
    "poll-loop": ("default", "aws_sfn_state_machine.this[0]"),
    "events-loop": ("events", "aws_sfn_state_machine.this[0]"),
    "callback": ("events", "aws_sfn_state_machine.callback[0]"),
    "wake-loop": ("wake", "aws_sfn_state_machine.this[0]"),
    "wake-callback": ("wake", "aws_sfn_state_machine.callback[0]"),
}

# The module with every identity policy statement switched on: events mode (callback and EventBridge roles),
# the sample workflow (its Glue role), logs and traces, an SNS topic with its own key, a token table key.
POLICY_STACK = "parliament-lint"
POLICY_VARIABLES: dict[str, Any] = {
    "name": POLICY_STACK,
    "create_sample_workflow": True,
    "sample_workflow": {"bucket_force_destroy": True},
    "completion_mode": "events",
    "create_sns_topic": True,
    "tracing_enabled": True,
    "logging": {"level": "ALL"},
    # Off by default: on, so that parliament reads the statement it adds (glue:ResumeWorkflowRun on the workflow).
    "recovery": {"enabled": True},
    # Likewise: the loop's idle wait and the callback's record of arrivals (dynamodb:UpdateItem).
    "pacing": {"enabled": True},
    "wake_on_data": {"enabled": True},
}
IDENTITY_POLICIES = {
    f"{POLICY_STACK}/glue-workflow-loop",
    f"{POLICY_STACK}/logs-and-traces",
    f"{POLICY_STACK}-callback/glue-workflow-loop-callback",
    f"{POLICY_STACK}-callback/logs-and-traces",
    f"{POLICY_STACK}-events/start-glue-workflow-loop-callback",
    f"{POLICY_STACK}-glue/sample-pipeline",
}
# parliament findings accepted, as (role/policy, issue, actions named) -> the AWS document that justifies them.
# The log delivery and X-Ray actions granted on "*" raise no RESOURCE_STAR: parliament knows from AWS's service
# authorization reference that they support no resource-level permissions.
LOG_DELIVERY = (
    "Step Functions delivers execution logs only if the role may call logs:PutResourcePolicy (with the other "
    "log delivery actions, all on *): https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html"
)
ACCEPTED_PARLIAMENT_FINDINGS = {
    (f"{role}/logs-and-traces", "PERMISSIONS_MANAGEMENT_ACTIONS", "logs:putresourcepolicy"): LOG_DELIVERY
    for role in (POLICY_STACK, f"{POLICY_STACK}-callback")
}


def _asl_errors(definition: dict[str, Any], directory: Path) -> list[str]:
    path = directory / "definition.asl.json"
    path.write_text(json.dumps(definition))
    # Neither --no-path-check nor --no-arn-check: paths, JSONata and Resource ARNs are all checked.
    result = subprocess.run([ASL_VALIDATOR, "--json-path", str(path)], capture_output=True, text=True, check=False)
    if result.returncode == 0:
        assert "is valid" in result.stdout
        return []
    assert result.returncode == 1, result.stderr  # 2: the validator itself failed
    # The first line names the file; each further line is one error.
    return [line.strip() for line in result.stderr.splitlines()[1:] if line.strip()]


@pytest.mark.parametrize("machine", RENDERED_MACHINES)
def test_asl_validator_finds_no_error_in_the_rendered_definition(
    machine: str, plan: Callable[[str], dict[str, Any]], tmp_path: Path
) -> None:
    config, address = RENDERED_MACHINES[machine]

    assert _asl_errors(rendered_definition(plan(config), address), tmp_path) == []


@pytest.mark.parametrize(
    ("machine", "state", "field", "broken", "reported"),
    [
        ("poll-loop", "ReadPauseFlag", "ResultPath", "$.pause[", 'format "asl_result_path"'),
        ("events-loop", "WaitForRun", "Output", "{% $merge([$states.input %}", "exactly one schema in oneOf"),
    ],
)
def test_asl_validator_rejects_a_broken_path_or_jsonata_expression_in_a_rendered_definition(
    machine: str,
    state: str,
    field: str,
    broken: str,
    reported: str,
    plan: Callable[[str], dict[str, Any]],
    tmp_path: Path,
) -> None:
    config, address = RENDERED_MACHINES[machine]
    definition = rendered_definition(plan(config), address)
    definition["States"][state][field] = broken

    assert [error for error in _asl_errors(definition, tmp_path) if f"/States/{state}/{field} " in error] == [
        f"SCHEMA_VALIDATION_FAILED: /States/{state}/{field} is invalid. must match {reported}"
    ]


def _parliament(policies: dict[str, dict[str, Any]], directory: Path) -> list[dict[str, Any]]:
    """parliament's findings on policies by role/policy name, every severity and the community auditors included."""
    for key, document in policies.items():
        (directory / f"{key.replace('/', '--')}.json").write_text(json.dumps(document, indent=2))
    result = subprocess.run(
        [
            PARLIAMENT,
            "--directory",
            str(directory),
            "--include_policy_extension",
            "json",
            "--minimum_severity",
            "INFO",
            "--include-community-auditors",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,  # parliament reads a policy from stdin when it is not a terminal
    )
    assert result.returncode in (0, 1), result.stderr  # 1: findings
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def _finding_key(finding: dict[str, Any]) -> tuple[str, str, str]:
    policy = Path(finding["location"]["filepath"]).stem.replace("--", "/")
    return policy, finding["issue"], ",".join(sorted(finding["location"].get("actions", [])))


@pytest.fixture(scope="session")
def identity_policies(emulator: AwsEmulator, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Every inline policy of the roles POLICY_VARIABLES creates, as applied, by role/policy name: most of their
    ARNs are known only after apply. Session-scoped, applied once: its tests share one xdist worker (parliament),
    which runs other tests between them."""
    kms = emulator.client("kms")
    key = kms.create_key(Description=f"{POLICY_STACK} token table")["KeyMetadata"]
    variables = {**POLICY_VARIABLES, "token_table_kms_key_arn": key["Arn"]}
    workspace = TerraformWorkspace(tmp_path_factory.mktemp("parliament"), ".", emulator.endpoint_url, REGION)
    workspace.init()
    # Nothing reads the stack after the policies: it goes with the emulator, like the key.
    with workspace.serving_provider():
        workspace.apply(variables)
    iam = emulator.client("iam")
    policies: dict[str, dict[str, Any]] = {}
    for page in iam.get_paginator("list_roles").paginate():
        for role in page["Roles"]:
            if not role["RoleName"].startswith(POLICY_STACK):
                continue
            for name in iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]:
                document = iam.get_role_policy(RoleName=role["RoleName"], PolicyName=name)["PolicyDocument"]
                policies[f"{role['RoleName']}/{name}"] = json.loads(document) if isinstance(document, str) else document
    return policies


@pytest.mark.long
@pytest.mark.xdist_group("parliament")
def test_parliament_finds_nothing_in_any_identity_policy_but_accepted_findings(
    identity_policies: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    findings = _parliament(identity_policies, tmp_path)

    assert set(identity_policies) == IDENTITY_POLICIES
    assert [f for f in findings if _finding_key(f) not in ACCEPTED_PARLIAMENT_FINDINGS] == []
    # An accepted finding that parliament no longer raises goes from the list.
    assert {_finding_key(f) for f in findings} == set(ACCEPTED_PARLIAMENT_FINDINGS)


@pytest.mark.long
@pytest.mark.xdist_group("parliament")
def test_parliament_reports_an_action_iam_does_not_know_and_a_resource_the_action_cannot_take(
    identity_policies: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    broken = copy.deepcopy(identity_policies[f"{POLICY_STACK}/glue-workflow-loop"])
    for statement in broken["Statement"]:
        if statement["Sid"] == "RunTheGlueWorkflow":
            statement["Action"] = [*statement["Action"], "glue:StartWorkflowRuns"]
        if statement["Sid"] == "ContinueAsNewExecution":
            statement["Resource"] = f"arn:aws:states:{REGION}:{ACCOUNT_ID}:execution:{POLICY_STACK}:run-1"

    assert sorted(f["issue"] for f in _parliament({"loop/broken": broken}, tmp_path)) == [
        "RESOURCE_MISMATCH",
        "UNKNOWN_ACTION",
    ]


# The input that brings each role of the stack in place of the one created, for "Roles you bring".
ROLES_YOU_BRING = {
    POLICY_STACK: "role_arn",
    f"{POLICY_STACK}-callback": "callback_role_arn",
    f"{POLICY_STACK}-events": "event_rule_role_arn",
}


@pytest.mark.long
@pytest.mark.xdist_group("parliament")
def test_roles_you_bring_lists_every_statement_the_module_attaches_with_every_feature_on(
    identity_policies: dict[str, dict[str, Any]],
) -> None:
    """docs/operations.md's tables, generated from the policy documents, against the policies the
    applied stack's roles hold."""
    for role, variable in ROLES_YOU_BRING.items():
        attached = {
            statement["Sid"]: sorted(
                [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
            )
            for name, policy in identity_policies.items()
            if name.split("/")[0] == role
            for statement in policy["Statement"]
        }
        documented = {
            statement["sid"]: sorted(statement["actions"]) for statement, _ in docs.role_statements()[variable]
        }

        assert attached == documented, variable


@pytest.mark.long
@pytest.mark.xdist_group("parliament")
def test_the_event_dead_letter_queue_is_encrypted_for_eventbridge_and_only_the_rules_may_fill_it(
    identity_policies: dict[str, dict[str, Any]], emulator: AwsEmulator
) -> None:
    """The rules of Glue's events and of new data's (wake_on_data) share the queue."""
    sqs, events, kms = emulator.client("sqs"), emulator.client("events"), emulator.client("kms")
    url = sqs.get_queue_url(QueueName=f"{POLICY_STACK}-glue-events-dlq")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    rules = [events.describe_rule(Name=f"{POLICY_STACK}-{kind}-events") for kind in ("glue", "data")]
    targets = [target for rule in rules for target in events.list_targets_by_rule(Rule=rule["Name"])["Targets"]]
    (sends,) = json.loads(queue["Policy"])["Statement"]
    key_policy = json.loads(kms.get_key_policy(KeyId=queue["KmsMasterKeyId"], PolicyName="default")["Policy"])
    (eventbridge,) = [
        statement for statement in key_policy["Statement"] if statement["Sid"] == "EventBridgeSendsDeadLetters"
    ]

    assert [target["DeadLetterConfig"] for target in targets] == [{"Arn": queue["QueueArn"]}] * 2
    assert (sends["Action"], sends["Resource"]) == ("sqs:SendMessage", queue["QueueArn"])
    assert sends["Principal"] == {"Service": "events.amazonaws.com"}
    assert sends["Condition"] == {"ArnEquals": {"aws:SourceArn": [rule["Arn"] for rule in rules]}}
    assert sorted(eventbridge["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert eventbridge["Condition"] == {"ArnEquals": {"aws:SourceArn": [rule["Arn"] for rule in rules]}}


@pytest.mark.xdist_group("parliament")
def test_the_sample_bucket_sends_its_events_to_eventbridge_when_the_loop_wakes_on_its_data(
    identity_policies: dict[str, dict[str, Any]], emulator: AwsEmulator
) -> None:
    """S3 sends Object Created to EventBridge only from a bucket with EventBridge notifications on."""
    events, s3 = emulator.client("events"), emulator.client("s3")
    pattern = json.loads(events.describe_rule(Name=f"{POLICY_STACK}-data-events")["EventPattern"])
    (bucket,) = pattern["detail"]["bucket"]["name"]

    assert "EventBridgeConfiguration" in s3.get_bucket_notification_configuration(Bucket=bucket)
    assert pattern["detail"]["object"]["key"] == [{"prefix": "retail/raw/sales/"}]
