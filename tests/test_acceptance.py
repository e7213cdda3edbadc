"""examples/complete accepted in an account, end to end: the same test in the emulator (make test) and,
with --aws, in the AWS account the usual credentials name (make test-aws, harness/acceptance.py).

The sample's own jobs decide each run: a sales file without a valid row fails clean_sales, which
sends the workflow down its error branch; mended before the loop's recovery resumes the run, the run
is recovered. In AWS Glue runs the jobs; in the emulator the Glue simulator runs the script the apply
deployed, and EventBridge's delivery of Glue's events to the applied rule is the harness's.
"""

from __future__ import annotations

import datetime
import itertools
import json
import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conftest import REGION
from harness.acceptance import (
    CONFIRMATION,
    CONFIRMATION_VARIABLE,
    EMULATOR_CLOCK,
    Account,
    aws_account,
    leftovers,
)
from harness.emulator import AwsEmulator
from harness.eventbridge import RuleDelivery, end_run_with_events
from harness.glue_simulator import GlueRunSimulator, SimulatedRun, deployed_python_shell
from harness.loop import Execution, entered_states, history_events, wait_for, wait_until_stopped
from harness.terraform import REPO_ROOT, TerraformWorkspace

VALID = "order_id,order_date,store_id,product,quantity,unit_price\n{order},2026-12-01,s1,tea,2,3.50\n"
NO_VALID_ROW = "order_id,order_date,store_id,product,quantity,unit_price\n,not-a-date,,,-1,x\n"


@pytest.fixture
def account(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Account]:
    if request.config.getoption("aws"):
        yield aws_account()
        return
    emulator: AwsEmulator = request.getfixturevalue("emulator")
    glue: GlueRunSimulator = request.getfixturevalue("glue")
    # S3 names are global only in AWS: in the worker's emulator a name the last run used is free, and keeping it
    # keeps the applied definitions' texts, whose programs the emulator kept (harness.emulator).
    prefix = request.getfixturevalue("stable_name")("gla", 8)
    emulated = Account(REGION, emulator.endpoint_url, EMULATOR_CLOCK, emulator.client, prefix)

    def end(run: SimulatedRun) -> None:
        """Glue's events of the run's jobs and crawlers, delivered to the loop's rule when it has one."""
        events, sfn = emulator.client("events"), emulator.client("stepfunctions")
        rules = events.list_rules(NamePrefix=emulated.prefix)["Rules"]
        glue_rules = [rule["Name"] for rule in rules if "glue" in rule["Name"]]
        if not glue_rules:
            glue.finish(run.run_id)
            return
        end_run_with_events(glue, RuleDelivery.of_applied_rule(events, sfn, glue_rules[0]), run.workflow, run.run_id)

    # The sample workflow is named after the example's name, the prefix.
    glue.run_jobs_with(emulated.prefix, deployed_python_shell(emulator.client("s3"), emulator.client("glue")), end)
    yield emulated


@dataclass
class Stack:
    """examples/complete applied in the account."""

    account: Account
    workspace: TerraformWorkspace
    variables: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    # What terraform destroy left in its state, and what still carries the test's tag.
    not_destroyed: list[str] = field(default_factory=list)

    def apply(self, **changes: Any) -> None:
        clock = self.account.clock
        self.variables = {
            "name": self.account.prefix,
            "region": self.account.region,
            "poll_interval_seconds": clock.poll_interval_seconds,
            "recovery": {"enabled": True, "max_attempts": 1, "backoff_seconds": clock.recovery_backoff_seconds},
            "tags": self.account.tags,
            **changes,
        }
        self.outputs = self.workspace.apply(self.variables)

    @property
    def arn(self) -> str:
        return str(self.outputs["state_machine_arn"])

    @property
    def workflow(self) -> str:
        return str(self.outputs["sample_workflow"]["workflow_name"])

    def put_sales(self, name: str, body: str) -> None:
        sample = self.outputs["sample_workflow"]
        key = f"{sample['data_prefix']}raw/sales/{name}"
        self.account.client("s3").put_object(Bucket=sample["bucket_name"], Key=key, Body=body.encode())

    def set_paused(self, paused: bool) -> None:
        ssm = self.account.client("ssm")
        ssm.put_parameter(Name=self.outputs["pause_parameter_name"], Value=str(paused).lower(), Overwrite=True)

    def runs(self) -> list[dict[str, Any]]:
        """The workflow's runs, oldest first."""
        glue = self.account.client("glue")
        pages = glue.get_paginator("get_workflow_runs").paginate(Name=self.workflow)
        return sorted((run for page in pages for run in page["Runs"]), key=lambda run: run["StartedOn"])

    def start_chain(self) -> set[str]:
        """Start a chain; return the executions of earlier ones."""
        sfn = self.account.client("stepfunctions")
        earlier = {item["executionArn"] for item in sfn.list_executions(stateMachineArn=self.arn)["executions"]}
        sfn.start_execution(stateMachineArn=self.arn, input=json.dumps({"run_properties": {}}))
        return earlier

    def wait_for_runs(self, count: int, status: str | None = None) -> list[dict[str, Any]]:
        """Wait until the workflow has ``count`` runs (in ``status``, if given)."""
        wait_for(
            lambda: len([run for run in self.runs() if status in (None, run["Status"])]) >= count,
            self.account.clock.chain_timeout_seconds,
        )
        return self.runs()

    def chain(self, earlier: set[str]) -> list[Execution]:
        sfn = self.account.client("stepfunctions")
        return wait_until_stopped(sfn, self.arn, self.account.clock.chain_timeout_seconds, ignore=earlier)

    def execution_entering(self, state: str, earlier: set[str]) -> str:
        """Wait until an execution of the chain (not in ``earlier``) enters ``state``; return its ARN."""
        sfn = self.account.client("stepfunctions")
        found: list[str] = []

        def entered() -> bool:
            running = sfn.list_executions(stateMachineArn=self.arn, statusFilter="RUNNING")["executions"]
            found[:] = [
                item["executionArn"]
                for item in running
                if item["executionArn"] not in earlier and state in entered_states(sfn, item["executionArn"])
            ]
            return bool(found)

        wait_for(entered, self.account.clock.chain_timeout_seconds)
        return found[0]


@contextmanager
def applied_complete_example(account: Account, directory: Path) -> Iterator[Stack]:
    """examples/complete applied; destroyed on the way out, whatever happened (Ctrl-C included), with
    what the destroy left recorded."""
    workspace = TerraformWorkspace(directory, "examples/complete", account.endpoint_url, account.region)
    workspace.init()
    stack = Stack(account, workspace)
    # One provider process for the emulator's applies (TerraformWorkspace.serving_provider); in an AWS
    # account Terraform starts its own, as a user's run does.
    with workspace.serving_provider() if account.endpoint_url else nullcontext():
        try:
            stack.apply()
            yield stack
        finally:
            try:
                workspace.destroy(stack.variables or {"name": account.prefix, "region": account.region})
            finally:
                stack.not_destroyed = workspace.state_resources() + leftovers(account)
                if stack.not_destroyed:
                    print(f"could not delete: {stack.not_destroyed}")


@contextmanager
def stop_notices(stack: Stack) -> Iterator[Any]:
    """A queue subscribed to the example's topic (deleted afterwards): yields a function reading its notices."""
    sqs, sns = stack.account.client("sqs"), stack.account.client("sns")
    topic = stack.outputs["sns_topic_arn"]
    queue = sqs.create_queue(QueueName=f"{stack.account.prefix}-notices", tags=stack.account.tags)["QueueUrl"]
    try:
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        # SNS may send to the queue only for this topic ("Subscribing an Amazon SQS queue to an Amazon SNS topic").
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": topic}},
                }
            ],
        }
        sqs.set_queue_attributes(QueueUrl=queue, Attributes={"Policy": json.dumps(policy)})
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})

        def received() -> list[dict[str, Any]]:
            messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=20, MaxNumberOfMessages=10)
            return [json.loads(message["Body"]) for message in messages.get("Messages", [])]

        yield received
    finally:
        sqs.delete_queue(QueueUrl=queue)


def metric_sum(stack: Stack, name: str, since: datetime.datetime) -> float:
    metrics = stack.outputs["cloudwatch_metrics"]
    answer = stack.account.client("cloudwatch").get_metric_statistics(
        Namespace=metrics["namespace"],
        MetricName=name,
        Dimensions=metrics["dimensions"],
        StartTime=since,
        EndTime=datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=1),
        Period=3600,
        Statistics=["Sum"],
    )
    return float(sum(point["Sum"] for point in answer["Datapoints"]))


def assert_no_two_runs_overlap(runs: list[dict[str, Any]]) -> None:
    for earlier, later in itertools.pairwise(runs):
        assert later["StartedOn"] >= earlier["CompletedOn"], (
            f"{later['WorkflowRunId']} overlapped {earlier['WorkflowRunId']}"
        )


def test_the_complete_example_runs_recovers_stops_notifies_goes_event_driven_and_is_destroyed(
    account: Account, tmp_path: Path
) -> None:
    clock = account.clock
    since = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1)
    with applied_complete_example(account, tmp_path) as stack, stop_notices(stack) as notices:
        sfn = account.client("stepfunctions")
        # One chain: clean runs; then a file without a valid row fails a run, mended before the
        # recovery resumes it; then another fails the run and, left as it is, its resume too.
        earlier = stack.start_chain()
        stack.wait_for_runs(2, "COMPLETED")
        stack.put_sales("bad-1.csv", NO_VALID_ROW)
        recovering = stack.execution_entering("RecoveryBackoff", earlier)
        stack.put_sales("bad-1.csv", VALID.format(order="mended-1"))
        wait_for(
            lambda: sfn.describe_execution(executionArn=recovering)["status"] != "RUNNING", clock.chain_timeout_seconds
        )
        stack.put_sales("bad-2.csv", NO_VALID_ROW)
        chain = stack.chain(earlier)

        assert [execution.status for execution in chain[:-1]] == ["SUCCEEDED"] * (len(chain) - 1)
        assert recovering in [execution.arn for execution in chain[:-1]]
        assert chain[-1].error == "GlueWorkflowActionsFailed", chain[-1].cause
        assert "resumed once before" in chain[-1].cause
        runs = stack.runs()
        assert_no_two_runs_overlap(runs)
        (notice,) = notices()
        assert (notice["error"], notice["execution"]) == ("GlueWorkflowActionsFailed", chain[-1].arn)
        assert notice["recovery_attempts"][0]["resumed_run_id"] == notice["run_id"] == runs[-1]["WorkflowRunId"]

        # Every judged run measured; the dashboard shows the namespace.
        judged = len(chain)
        wait_for(lambda: metric_sum(stack, "Runs", since) >= judged, clock.metrics_timeout_seconds)
        assert metric_sum(stack, "RecoveryAttempts", since) == 2
        dashboard = account.client("cloudwatch").get_dashboard(DashboardName=stack.outputs["cloudwatch_dashboard_name"])
        assert stack.outputs["cloudwatch_metrics"]["namespace"] in dashboard["DashboardBody"]

        # Events mode: the next chain is woken by the sample's job and crawler events.
        stack.apply(completion_mode="events")
        earlier = stack.start_chain()
        stack.wait_for_runs(len(runs) + 1)
        stack.set_paused(True)
        woken, paused = stack.chain(earlier)

        assert woken.status == "SUCCEEDED" and paused.output is not None
        assert paused.output["stop_reason"] == "paused"
        waits = [
            event["type"]
            for event in history_events(sfn, woken.arn)
            if event.get("stateEnteredEventDetails", {}).get("name") == "WaitForRun"
        ]
        assert waits and set(waits) == {"TaskStateEntered"}
        assert stack.runs()[-1]["Status"] == "COMPLETED"
    assert stack.not_destroyed == []


@pytest.mark.parametrize("confirmed", [False, True], ids=["unconfirmed", "confirmed"])
def test_make_test_aws_without_credentials_says_what_it_would_create_and_cost_then_refuses(
    tmp_path: Path, confirmed: bool
) -> None:
    nowhere = str(tmp_path / "none")
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("AWS_") and key != CONFIRMATION_VARIABLE
    }
    environment.update(
        HOME=str(tmp_path),
        AWS_CONFIG_FILE=nowhere,
        AWS_SHARED_CREDENTIALS_FILE=nowhere,
        AWS_EC2_METADATA_DISABLED="true",
    )
    if confirmed:
        environment[CONFIRMATION_VARIABLE] = CONFIRMATION

    result = subprocess.run(
        ["make", "-s", "test-aws"], cwd=REPO_ROOT, env=environment, capture_output=True, text=True, check=False
    )

    assert result.returncode != 0
    assert "make test-aws applies examples/complete" in result.stdout
    assert re.search(r"total: under \$\d+\.\d\d", result.stdout)
    refusals = [line for line in result.stderr.splitlines() if line.startswith("make test-aws refused: ")]
    assert [line.split(": ", 2)[1].split(" ")[0] for line in refusals] == [
        *([] if confirmed else [CONFIRMATION_VARIABLE]),
        "no",
        "no",
    ]
    assert "no AWS credentials" in result.stderr and "no AWS region" in result.stderr
    assert "test_acceptance.py" not in result.stdout, "the test ran"
