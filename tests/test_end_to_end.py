"""Examples applied to the emulator, run for real, and destroyed."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from harness.emulator import REGION, AwsEmulator
from harness.eventbridge import RuleDelivery, end_run_with_events, wait_for_token
from harness.glue_simulator import CLEAN, UNTIL_FINISHED, GlueRunSimulator, RunOutcome
from harness.loop import entered_states, wait_until_stopped
from harness.terraform import TerraformWorkspace

E2E_WORKFLOW = "e2e-sales"
VARIABLES = {"name": "e2e-loop", "glue_workflow_name": E2E_WORKFLOW, "poll_interval_seconds": 1}
CLEAN_BY_EVENTS = RunOutcome(running_polls=UNTIL_FINISHED)


def _cli_input(command: str) -> dict[str, Any]:
    arguments = shlex.split(command)
    return json.loads(arguments[arguments.index("--input") + 1])


def _role_policy(emulator: AwsEmulator, role: str, policy: str) -> dict[str, dict[str, Any]]:
    document = emulator.client("iam").get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
    if isinstance(document, str):
        document = json.loads(document)
    return {statement["Sid"]: statement for statement in document["Statement"]}


def test_example_applies_runs_two_clean_runs_stops_on_failure_and_destroys(
    emulator: AwsEmulator, example_workspace: TerraformWorkspace, glue: GlueRunSimulator, sfn: Any
) -> None:
    emulator.client("glue").create_workflow(Name=E2E_WORKFLOW, MaxConcurrentRuns=1)
    glue.script(E2E_WORKFLOW, CLEAN, CLEAN, RunOutcome(failed=1, total_actions=5))
    outputs = example_workspace.apply(VARIABLES)
    try:
        arn = outputs["state_machine_arn"]
        loop_policy = _role_policy(emulator, "e2e-loop", "glue-workflow-loop")
        assert loop_policy["RunTheGlueWorkflow"]["Resource"] == (
            f"arn:aws:glue:us-east-1:123456789012:workflow/{E2E_WORKFLOW}"
        )
        assert loop_policy["ContinueAsNewExecution"]["Resource"] == arn
        assert loop_policy["ReadPauseFlag"]["Resource"] == (
            "arn:aws:ssm:us-east-1:123456789012:parameter/glue-workflow-loop/e2e-loop/paused"
        )
        assert set(loop_policy["RunTheGlueWorkflow"]["Action"]) == {
            "glue:StartWorkflowRun",
            "glue:GetWorkflowRun",
            "glue:GetWorkflow",
            "glue:GetWorkflowRuns",
        }
        assert outputs["cloudwatch_log_group_name"] == "/aws/vendedlogs/states/e2e-loop"
        assert arn in outputs["start_loop_command"]

        sfn.start_execution(stateMachineArn=arn, input=json.dumps(_cli_input(outputs["start_loop_command"])))
        chain = wait_until_stopped(sfn, arn)

        assert [execution.status for execution in chain] == ["SUCCEEDED", "SUCCEEDED", "FAILED"]
        assert [execution.input.get("run_number", 1) for execution in chain] == [1, 2, 3]
        assert chain[-1].error == "GlueWorkflowActionsFailed"
        assert "4 of 5 actions succeeded, 1 failed" in (chain[-1].cause or "")
        assert len(glue.runs_of(E2E_WORKFLOW)) == 3
    finally:
        example_workspace.destroy(VARIABLES)

    assert example_workspace.state_resources() == []
    assert arn not in [machine["stateMachineArn"] for machine in sfn.list_state_machines()["stateMachines"]]


def test_event_driven_example_applies_scoped_iam_wakes_on_glue_events_and_destroys(
    emulator: AwsEmulator, glue: GlueRunSimulator, sfn: Any, tmp_path: Path
) -> None:
    workspace = TerraformWorkspace(tmp_path, "examples/event-driven", emulator.endpoint_url, REGION)
    workspace.init()
    # The dead-letter queue is applied and checked on the parliament stack (tests/test_validators.py),
    # which is applied anyway: each queue costs an apply some 30 s of the provider's waiting.
    variables = {"name": "e2e-events", "safety_poll_seconds": 3600, "create_event_dead_letter_queue": False}
    workflow = "e2e-events"
    glue.script(
        workflow,
        CLEAN_BY_EVENTS,
        RunOutcome(node_states={"e2e-events-clean-sales": "FAILED"}, running_polls=UNTIL_FINISHED),
    )
    with workspace.serving_provider():
        outputs = workspace.apply(variables)
        try:
            # The simulator was installed during the apply: a run started by it would show here.
            assert glue.runs_of(workflow) == []
            arn, callback_arn = outputs["state_machine_arn"], outputs["callback_state_machine_arn"]
            table_arn = f"arn:aws:dynamodb:us-east-1:123456789012:table/{outputs['token_table_name']}"
            workflow_arn = f"arn:aws:glue:us-east-1:123456789012:workflow/{workflow}"
            assert (
                _role_policy(emulator, "e2e-events", "glue-workflow-loop")["LeaveTaskTokenForEvents"]["Resource"]
                == table_arn
            )
            callback_policy = _role_policy(emulator, "e2e-events-callback", "glue-workflow-loop-callback")
            assert {sid: statement["Resource"] for sid, statement in callback_policy.items()} == {
                "TakeTheTaskToken": table_arn,
                "ReadTheRun": workflow_arn,
                "WakeTheLoop": "*",
            }
            events = emulator.client("events")
            (target,) = events.list_targets_by_rule(Rule=outputs["event_rule_name"])["Targets"]
            assert target["Arn"] == callback_arn
            assert target["RoleArn"].endswith(":role/e2e-events-events")
            assert (
                _role_policy(emulator, "e2e-events-events", "start-glue-workflow-loop-callback")["StartTheCallback"][
                    "Resource"
                ]
                == callback_arn
            )
            delivery = RuleDelivery(
                events, sfn, events.describe_rule(Name=outputs["event_rule_name"])["EventPattern"], callback_arn
            )
            dynamodb = emulator.client("dynamodb")

            sfn.start_execution(stateMachineArn=arn, input=json.dumps(_cli_input(outputs["start_loop_command"])))
            for run_number in (1, 2):
                run_id = wait_for_token(dynamodb, outputs["token_table_name"], glue, workflow, run_number)
                end_run_with_events(glue, delivery, workflow, run_id)
            chain = wait_until_stopped(sfn, arn)

            assert [execution.status for execution in chain] == ["SUCCEEDED", "FAILED"]
            assert [entered_states(sfn, execution.arn).count("GetWorkflowRun") for execution in chain] == [0, 0]
            assert chain[-1].error == "GlueWorkflowActionsFailed"
            assert "failed nodes: [e2e-events-clean-sales]" in (chain[-1].cause or "")
        finally:
            workspace.destroy(variables)

    assert workspace.state_resources() == []
