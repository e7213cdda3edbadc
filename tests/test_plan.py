"""What the root module plans for each way of using it, read from the shared plans (conftest.PLAN_CONFIGS).

What it refuses to plan, and what create = false and create_role = false leave out, are tested by
terraform test: tests/validation.tftest.hcl and tests/conditional_creation.tftest.hcl. terraform test
cannot read an error message, so one plan here checks that each refusal says what is wrong."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from conftest import DOCUMENTED_BASE, DOCUMENTED_EXAMPLES, MODULE_VARIABLES, PLAN_CONFIGS, with_documented_values
from harness.docs import module_variables
from harness.emulator import ACCOUNT_ID
from harness.plans import planned_resources, rendered_definition
from harness.terraform import TerraformWorkspace

Plan = Callable[[str], dict[str, Any]]


def test_default_creates_state_machine_role_policies_and_log_group(plan: Plan) -> None:
    assert set(planned_resources(plan("default"))) == {
        "aws_sfn_state_machine.this[0]",
        "aws_iam_role.this[0]",
        "aws_iam_role_policy.loop[0]",
        "aws_iam_role_policy.observability[0]",
        "aws_cloudwatch_log_group.this[0]",
        "aws_ssm_parameter.pause[0]",
    }


def test_default_state_machine_is_standard_traced_and_logged(plan: Plan) -> None:
    machine = planned_resources(plan("default"))["aws_sfn_state_machine.this[0]"]

    assert machine["name"] == "nightly-sales-loop"
    assert machine["type"] == "STANDARD"
    assert machine["tracing_configuration"] == [{"enabled": True}]
    (logging,) = machine["logging_configuration"]
    assert (logging["level"], logging["include_execution_data"]) == ("ERROR", True)
    assert machine["tags"] == {"team": "data", "tier": "gold"}


def test_default_log_group_is_named_for_the_state_machine_and_kept_a_year(plan: Plan) -> None:
    log_group = planned_resources(plan("default"))["aws_cloudwatch_log_group.this[0]"]

    assert log_group["name"] == "/aws/vendedlogs/states/nightly-sales-loop"
    assert log_group["retention_in_days"] == 365
    assert log_group["tags"] == {"team": "data", "tier": "bronze"}


def test_default_role_trusts_only_step_functions_running_the_loop_in_this_account(plan: Plan) -> None:
    role = planned_resources(plan("default"))["aws_iam_role.this[0]"]
    (statement,) = json.loads(role["assume_role_policy"])["Statement"]

    assert role["name"] == "nightly-sales-loop"
    assert statement["Principal"] == {"Service": "states.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"] == {
        "ArnLike": {"aws:SourceArn": f"arn:aws:states:*:{ACCOUNT_ID}:stateMachine:nightly-sales-loop"},
        "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
    }


def test_observability_policy_grants_only_log_delivery_and_tracing(plan: Plan) -> None:
    policy = planned_resources(plan("default"))["aws_iam_role_policy.observability[0]"]
    statements = json.loads(policy["policy"])["Statement"]

    actions = {action for statement in statements for action in statement["Action"]}
    assert {action.split(":")[0] for action in actions} == {"logs", "xray"}
    assert not any(action.endswith("*") for action in actions)


def test_sample_workflow_creates_the_pipeline_and_the_loop_targets_it(plan: Plan) -> None:
    resources = planned_resources(plan("sample"))
    sample = {address.split(".", 2)[2] for address in resources if address.startswith("module.sample_workflow[0].")}

    assert {
        "aws_glue_workflow.this[0]",
        "aws_glue_catalog_database.this[0]",
        'aws_glue_crawler.this["sales"]',
        'aws_glue_crawler.this["stores"]',
        'aws_glue_job.this["clean_sales"]',
        'aws_glue_job.this["aggregate_sales"]',
        'aws_glue_job.this["handle_errors"]',
        'aws_glue_job.this["refresh_dashboard"]',
        "aws_glue_trigger.start[0]",
        'aws_glue_trigger.conditional["all-crawled-then-clean"]',
        'aws_glue_trigger.conditional["cleaned-then-aggregate"]',
        'aws_glue_trigger.conditional["clean-failed-then-handle-errors"]',
        'aws_glue_trigger.conditional["aggregated-or-handled-then-dashboard"]',
        "aws_s3_bucket.this[0]",
        "aws_s3_bucket_public_access_block.this[0]",
        "aws_iam_role.glue[0]",
    } <= sample
    workflow = resources["module.sample_workflow[0].aws_glue_workflow.this[0]"]
    assert (workflow["name"], workflow["max_concurrent_runs"]) == ("retail-sample", 1)
    definition = json.loads(resources["aws_sfn_state_machine.this[0]"]["definition"])
    assert definition["States"]["StartWorkflowRun"]["Arguments"]["Name"] == "retail-sample"


def test_sample_jobs_are_python_shell_jobs_of_the_shipped_script(plan: Plan) -> None:
    resources = planned_resources(plan("sample"))
    jobs = {address: values for address, values in resources.items() if ".aws_glue_job." in address}

    assert len(jobs) == 4
    for job in jobs.values():
        (command,) = job["command"]
        assert (command["name"], command["python_version"]) == ("pythonshell", "3.9")
        assert job["timeout"] == 10


def test_loop_settings_are_rendered_into_the_definition(plan: Plan) -> None:
    policy = plan("policy")
    machine = planned_resources(policy)["aws_sfn_state_machine.this[0]"]
    config = json.loads(machine["definition"])["States"]["ApplyDefaults"]["Parameters"]["config"]

    assert config["max_polls_per_execution"] == 10
    assert config["max_runs"] == 5
    assert config["cooldown_seconds"] == 30
    assert config["adopt_run_in_flight"] is False
    assert config["tolerated"] == {"failed": 2147483647, "timed_out": 2, "stopped": 2, "errored": 2}
    assert policy["planned_values"]["outputs"]["max_polls_per_execution"]["value"] == 10


def test_history_budget_is_derived_by_default(plan: Plan) -> None:
    assert plan("default")["planned_values"]["outputs"]["max_polls_per_execution"]["value"] == (20000 - 200 - 34) // 9


def test_history_budget_of_events_mode_counts_the_dearer_safety_poll(plan: Plan) -> None:
    assert plan("events")["planned_values"]["outputs"]["max_polls_per_execution"]["value"] == (20000 - 200 - 34) // 13


def test_pause_flag_starts_false_and_only_the_loop_may_read_it(plan: Plan) -> None:
    parameter = planned_resources(plan("default"))["aws_ssm_parameter.pause[0]"]

    assert (parameter["name"], parameter["type"], parameter["value"]) == (
        "/glue-workflow-loop/nightly-sales-loop/paused",
        "String",
        "false",
    )


def test_notifications_create_an_encrypted_topic_a_rotating_key_and_an_alarm_on_it(plan: Plan) -> None:
    resources = planned_resources(plan("notify"))

    assert resources["aws_kms_key.sns[0]"]["enable_key_rotation"] is True
    key_policy = json.loads(resources["aws_kms_key.sns[0]"]["policy"])
    assert {statement["Sid"] for statement in key_policy["Statement"]} == {
        "AccountAdministersTheKey",
        "CloudWatchAlarmsPublish",
    }
    assert resources["aws_sns_topic.this[0]"]["name"] == "nightly-sales-loop"
    alarm = resources["aws_cloudwatch_metric_alarm.executions_failed[0]"]
    metrics = {query["metric"][0]["metric_name"] for query in alarm["metric_query"] if query["metric"]}
    assert metrics == {"ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"}
    assert (alarm["comparison_operator"], alarm["threshold"]) == ("GreaterThanOrEqualToThreshold", 1)


def test_every_bad_variable_is_refused_with_a_message_naming_it_and_the_rule(root_module: TerraformWorkspace) -> None:
    # Terraform reports every failed variable validation of a plan at once: one plan reads them all.
    bad_values = {
        "name": "",
        "glue_workflow_name": "sales/eu",
        "poll_interval_seconds": 0,
        "logging": {"level": "DEBUG"},
        "role_arn": "my-role",
        "role_name": "x" * 65,
        "role_path": "no-slashes",
        "cloudwatch_log_group_arn": "arn:aws:logs:us-east-1:123456789012:log-group:x:*",
        "cloudwatch_log_group_retention_in_days": 42,
        "cloudwatch_log_group_kms_key_id": "alias/logs",
        "max_polls_per_execution": 2197,
        "max_runs": -1,
        "cooldown_seconds": 90000,
        "stop_policy": {"tolerated_actions": -1},
        "metrics": {"namespace": "AWS/Glue"},
        "dashboard_name": "nightly sales",
        # Every field of recovery is bad: each of its four validations reports its own message.
        "recovery": {"max_attempts": 0, "backoff_seconds": -1, "on_actions": [], "when_exhausted": "retry"},
    }
    messages = [
        "name must be 1-64 characters",
        "glue_workflow_name must be 1-255 characters",
        "poll_interval_seconds must be a whole number of seconds from 1 to 3600",
        "logging.level must be one of ALL, ERROR, FATAL or OFF",
        "role_arn must be an IAM role ARN",
        "role_name must be 1-64 characters",
        "role_path must start and end with '/'",
        "cloudwatch_log_group_arn must be a log group ARN without a trailing ':*'",
        "cloudwatch_log_group_retention_in_days must be one of the values CloudWatch Logs accepts",
        "cloudwatch_log_group_kms_key_id must be a KMS key ARN",
        "max_polls_per_execution must be a whole number from 0 (derived) to 2196",
        "max_runs must be a whole number of 0 (forever) or more",
        "cooldown_seconds must be a whole number from 0 to 86400",
        "stop_policy.tolerated_actions must be a whole number of 0 or more",
        "metrics.namespace must be 1-255 printable ASCII characters",
        "dashboard_name must be 1-255 characters of letters, digits",
        "recovery.max_attempts must be a whole number from 1 to 10",
        "recovery.backoff_seconds must be a whole number from 0 to 86400",
        "recovery.on_actions must name one or more of failed, timed_out, stopped and errored",
        "recovery.when_exhausted must be stop or continue",
    ]

    error = " ".join(root_module.plan_error({**PLAN_CONFIGS["default"], **bad_values}).split())

    assert [message for message in messages if message not in error] == []


def test_the_documented_derived_poll_budget_is_what_the_default_derives(plan: Plan) -> None:
    """The description's figure is the derived value; tests/validation.tftest.hcl shows that setting it
    is accepted and one more refused."""
    variables = module_variables()
    documented = re.search(r"\(([\d,]+) polls with the defaults", variables["max_polls_per_execution"]["description"])
    config = rendered_definition(plan("default"))["States"]["ApplyDefaults"]["Parameters"]["config"]

    assert documented is not None
    assert int(documented[1].replace(",", "")) == config["max_polls_per_execution"]


def _planned(view: dict[str, Any]) -> dict[str, Any]:
    """What a plan would create: each resource's planned values and each output's, by address."""
    return {"resources": planned_resources(view), "outputs": view["planned_values"]["outputs"]}


def test_every_input_set_to_its_documented_value_plans_as_if_left_unset(plan: Plan) -> None:
    """Each input set explicitly to its default, each object attribute to the default its type gives, and
    each name to what its description says it defaults to ("Defaults to <name>-task-tokens."): a
    documented value the module refused, or a description that says another value than the module
    derives, fails here."""
    documented = with_documented_values(DOCUMENTED_BASE)
    derived_names = ["token_table_name", "pause_parameter_name", "role_name", "cloudwatch_log_group_name"]

    assert {name: documented[name] for name in derived_names} == {
        "token_table_name": "documented-task-tokens",
        "pause_parameter_name": "/glue-workflow-loop/documented/paused",
        "role_name": "documented",
        "cloudwatch_log_group_name": "/aws/vendedlogs/states/documented",
    }
    assert documented["recovery"]["on_actions"] == ["failed", "timed_out"]
    assert set(documented) == {name for name, variable in MODULE_VARIABLES.items() if "default" in variable} | {"name"}
    assert _planned(plan("documented_values")) == _planned(plan("documented_base"))


@pytest.mark.parametrize("config", DOCUMENTED_EXAMPLES)
def test_every_example_a_validation_message_gives_is_accepted_and_planned(plan: Plan, config: str) -> None:
    variable, value = DOCUMENTED_EXAMPLES[config]
    default = MODULE_VARIABLES[variable]["default"]

    assert (_planned(plan(config)) == _planned(plan("documented_base"))) == (value == default)
