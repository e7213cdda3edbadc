"""examples/complete in the emulator: the sample workflow's trigger graph driven by the loop."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from harness.emulator import REGION, AwsEmulator
from harness.glue_simulator import CLEAN, GlueRunSimulator, RunOutcome
from harness.loop import Execution, wait_until_stopped
from harness.terraform import TerraformWorkspace

# One applied stack serves the whole module, so its tests share one xdist worker; its fixtures are
# session-scoped because that worker runs other tests between them, which would tear a module one down.
pytestmark = pytest.mark.xdist_group("complete-example")

VARIABLES = {"name": "retail-sample", "poll_interval_seconds": 1}
JOBS = {
    step: f"retail-sample-{step.replace('_', '-')}"
    for step in ("clean_sales", "aggregate_sales", "handle_errors", "refresh_dashboard")
}
CRAWLERS = {source: f"retail-sample-crawl-{source}" for source in ("sales", "stores")}


@dataclass(frozen=True)
class Applied:
    outputs: dict[str, Any]
    # Read right after the apply, before any test starts the loop.
    runs: list[dict[str, Any]]
    trigger_states: dict[str, str]


@pytest.fixture(scope="session")
def applied(emulator: AwsEmulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Applied]:
    workspace = TerraformWorkspace(
        tmp_path_factory.mktemp("complete"), "examples/complete", emulator.endpoint_url, REGION
    )
    workspace.init()
    with workspace.serving_provider():
        outputs = workspace.apply(VARIABLES)
        glue = emulator.client("glue")
        triggers = outputs["sample_workflow"]["trigger_names"]
        yield Applied(
            outputs,
            glue.get_workflow_runs(Name="retail-sample")["Runs"],
            {key: glue.get_trigger(Name=name)["Trigger"]["State"] for key, name in triggers.items()},
        )
        workspace.destroy(VARIABLES)
    assert workspace.state_resources() == []


@pytest.fixture(scope="session")
def complete(applied: Applied) -> dict[str, Any]:
    return applied.outputs


def run_loop(sfn: Any, complete: dict[str, Any]) -> list[Execution]:
    arn = complete["state_machine_arn"]
    earlier = {item["executionArn"] for item in sfn.list_executions(stateMachineArn=arn)["executions"]}
    sfn.start_execution(stateMachineArn=arn, input=json.dumps({"run_properties": {}}))
    return wait_until_stopped(sfn, arn, ignore=earlier)


def executed(glue: GlueRunSimulator, run: int) -> dict[str, str]:
    return {node.name: node.state for node in glue.runs_of("retail-sample")[run].executed}


def test_applying_starts_no_run_and_the_loops_first_run_is_the_workflows_first(
    emulator: AwsEmulator, applied: Applied, glue: GlueRunSimulator, sfn: Any
) -> None:
    # The start trigger is left CREATED (enabled = false: no StartTrigger, which would fire it);
    # the conditional ones are activated, or they would not fire in a run.
    assert applied.trigger_states == {
        "start": "CREATED",
        "all-crawled-then-clean": "ACTIVATED",
        "cleaned-then-aggregate": "ACTIVATED",
        "clean-failed-then-handle-errors": "ACTIVATED",
        "aggregated-or-handled-then-dashboard": "ACTIVATED",
    }
    assert applied.runs == []
    runs = emulator.client("glue").get_workflow_runs
    assert runs(Name="retail-sample")["Runs"] == [], "a test before this one started the loop"
    glue.script("retail-sample", RunOutcome(node_states={CRAWLERS["sales"]: "FAILED"}))

    (only,) = run_loop(sfn, applied.outputs)

    (run,) = runs(Name="retail-sample")["Runs"]
    assert [simulated.run_id for simulated in glue.runs_of("retail-sample")] == [run["WorkflowRunId"]]
    assert "PreviousRunId" not in run
    assert f"{run['WorkflowRunId']} (run number 1) ended COMPLETED" in only.cause


def test_outputs_name_the_sample_workflow_and_its_nodes(complete: dict[str, Any]) -> None:
    sample = complete["sample_workflow"]

    assert sample["workflow_name"] == "retail-sample"
    assert sample["job_names"] == JOBS
    assert sample["crawler_names"] == CRAWLERS
    assert sorted(sample["trigger_names"]) == [
        "aggregated-or-handled-then-dashboard",
        "all-crawled-then-clean",
        "clean-failed-then-handle-errors",
        "cleaned-then-aggregate",
        "start",
    ]


def test_clean_run_executes_both_crawlers_clean_aggregate_and_dashboard_then_continues(
    complete: dict[str, Any], glue: GlueRunSimulator, sfn: Any
) -> None:
    glue.script("retail-sample", CLEAN, RunOutcome(node_states={JOBS["clean_sales"]: "FAILED"}))

    first, second = run_loop(sfn, complete)

    assert executed(glue, 0) == dict.fromkeys(
        [*CRAWLERS.values(), JOBS["clean_sales"], JOBS["aggregate_sales"], JOBS["refresh_dashboard"]],
        "SUCCEEDED",
    )
    assert glue.runs_of("retail-sample")[0].statistics(finished=True)["SucceededActions"] == 5
    assert (first.status, second.status) == ("SUCCEEDED", "FAILED")


@pytest.fixture(scope="session")
def stop_notices(emulator: AwsEmulator, complete: dict[str, Any]) -> str:
    """URL of a queue subscribed to the example's SNS topic."""
    sqs = emulator.client("sqs")
    queue = sqs.create_queue(QueueName="complete-stops")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    emulator.client("sns").subscribe(
        TopicArn=complete["sns_topic_arn"],
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    return queue


@pytest.mark.parametrize("clean_state", ["FAILED", "TIMEOUT"])
def test_clean_failure_runs_error_handler_and_dashboard_and_stops_naming_clean(
    emulator: AwsEmulator,
    complete: dict[str, Any],
    stop_notices: str,
    glue: GlueRunSimulator,
    sfn: Any,
    clean_state: str,
) -> None:
    glue.script("retail-sample", RunOutcome(node_states={JOBS["clean_sales"]: clean_state}))

    (only,) = run_loop(sfn, complete)

    nodes = executed(glue, 0)
    assert nodes[JOBS["clean_sales"]] == clean_state
    assert nodes[JOBS["handle_errors"]] == nodes[JOBS["refresh_dashboard"]] == "SUCCEEDED"
    assert JOBS["aggregate_sales"] not in nodes
    expected_error = {"FAILED": "GlueWorkflowActionsFailed", "TIMEOUT": "GlueWorkflowActionsTimedOut"}[clean_state]
    assert only.error == expected_error
    assert only.cause.endswith(f"failed nodes: [{JOBS['clean_sales']}]")
    assert "4 of 5 actions succeeded" in only.cause
    (message,) = emulator.client("sqs").receive_message(QueueUrl=stop_notices, WaitTimeSeconds=5)["Messages"]
    emulator.client("sqs").delete_message(QueueUrl=stop_notices, ReceiptHandle=message["ReceiptHandle"])
    assert json.loads(message["Body"])["failed_nodes"] == [JOBS["clean_sales"]]


def test_crawler_failure_runs_nothing_downstream_of_the_all_crawled_trigger(
    complete: dict[str, Any], glue: GlueRunSimulator, sfn: Any
) -> None:
    glue.script("retail-sample", RunOutcome(node_states={CRAWLERS["stores"]: "FAILED"}))

    (only,) = run_loop(sfn, complete)

    assert executed(glue, 0) == {CRAWLERS["sales"]: "SUCCEEDED", CRAWLERS["stores"]: "FAILED"}
    assert only.error == "GlueWorkflowActionsFailed"
    assert only.cause.endswith(
        f"1 of 2 actions succeeded, 1 failed, 0 timed out, 0 stopped, 0 errored; failed nodes: [{CRAWLERS['stores']}]"
    )


def test_glue_role_reads_and_writes_only_its_own_bucket_prefix(emulator: AwsEmulator, complete: dict[str, Any]) -> None:
    sample = complete["sample_workflow"]
    document = emulator.client("iam").get_role_policy(RoleName="retail-sample-glue", PolicyName="sample-pipeline")[
        "PolicyDocument"
    ]
    statements = {statement["Sid"]: statement for statement in document["Statement"]}
    bucket_arn = f"arn:aws:s3:::{sample['bucket_name']}"

    assert statements["ReadPipelineData"]["Resource"] == f"{bucket_arn}/retail/*"
    assert all(
        resource.startswith(f"{bucket_arn}/retail/") for resource in statements["WritePipelineOutputs"]["Resource"]
    )
    assert statements["ListPipelineData"]["Condition"] == {"StringLike": {"s3:prefix": "retail/*"}}


def test_sample_data_and_script_are_uploaded_and_the_bucket_is_private(
    emulator: AwsEmulator, complete: dict[str, Any]
) -> None:
    s3 = emulator.client("s3")
    bucket = complete["sample_workflow"]["bucket_name"]

    keys = {item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys == {
        "retail/scripts/retail_pipeline.py",
        "retail/raw/sales/sales_2026-11-02.csv",
        "retail/raw/sales/sales_2026-11-03.csv",
        "retail/raw/stores/stores.json",
    }
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    for step, job_name in JOBS.items():
        job = emulator.client("glue").get_job(JobName=job_name)["Job"]
        assert job["Command"]["ScriptLocation"] == f"s3://{bucket}/retail/scripts/retail_pipeline.py"
        assert job["DefaultArguments"] == {
            "--step": step,
            "--bucket": bucket,
            "--prefix": "retail/",
            "--idle_property": "glue_loop_idle",
        }
