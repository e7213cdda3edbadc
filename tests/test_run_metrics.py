"""Run metrics: once per judged run the loop publishes the metric contract of metrics.tf to
CloudWatch, read back here from the emulator's CloudWatch; a metrics failure never stops the loop."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonata
import pytest

from conftest import WORKFLOW
from harness.emulator import ACCOUNT_ID, AwsEmulator
from harness.glue_simulator import CLEAN, GlueRunSimulator, RunOutcome, SimulatedRun
from harness.loop import entered_states, wait_until_stopped
from harness.plans import rendered_definition
from harness.service_faults import ServiceFaults
from harness.terraform import REPO_ROOT

MakeLoop = Callable[..., str]
# The role create_machine gives the loops it creates.
LOOP_ROLE = f"arn:aws:iam::{ACCOUNT_ID}:role/loop"
DIMENSIONS = [{"Name": "WorkflowName", "Value": WORKFLOW}]
STATISTICS = ["Sum", "SampleCount", "Minimum", "Maximum"]


def start(sfn: Any, arn: str) -> None:
    sfn.start_execution(stateMachineArn=arn, input="{}")


def contract(plan: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    value: dict[str, Any] = plan("default")["planned_values"]["outputs"]["cloudwatch_metrics"]["value"]
    return value


def published(emulator: AwsEmulator, namespace: str) -> dict[str, dict[str, Any]]:
    """Each metric published to ``namespace`` with the workflow's dimension, by name: its
    statistics over the last hour, and its unit."""
    cloudwatch = emulator.client("cloudwatch")
    names = {
        metric["MetricName"]
        for metric in cloudwatch.list_metrics(Namespace=namespace)["Metrics"]
        if metric["Dimensions"] == DIMENSIONS
    }
    now = datetime.now(UTC)
    measured = {}
    for name in names:
        (datapoint,) = cloudwatch.get_metric_statistics(
            Namespace=namespace,
            MetricName=name,
            Dimensions=DIMENSIONS,
            StartTime=now - timedelta(hours=1),
            EndTime=now + timedelta(minutes=5),
            Period=7200,
            Statistics=STATISTICS,
        )["Datapoints"]
        measured[name] = datapoint
    return measured


def run_seconds(emulator: AwsEmulator, run: SimulatedRun) -> float:
    reported = emulator.client("glue").get_workflow_run(Name=run.workflow, RunId=run.run_id)["Run"]
    return float((reported["CompletedOn"] - reported["StartedOn"]).total_seconds())


def test_each_judged_run_publishes_the_contract_metrics_with_the_runs_values(
    sfn: Any, emulator: AwsEmulator, make_loop: MakeLoop, glue: GlueRunSimulator, plan: Callable[[str], dict[str, Any]]
) -> None:
    namespace = f"Test/{uuid.uuid4().hex}"
    loop = make_loop(metrics_namespace=namespace)
    glue.script(WORKFLOW, RunOutcome(running_polls=2), RunOutcome(failed=1))
    start(sfn, loop)

    chain = wait_until_stopped(sfn, loop)

    first, second = glue.runs_of(WORKFLOW)
    metrics = published(emulator, namespace)
    units = contract(plan)["units"]
    assert [execution.status for execution in chain] == ["SUCCEEDED", "FAILED"]
    # WakeDelay is sent only for a run that new data woke (wake_on_data: tests/test_wake_on_data.py).
    units = {name: unit for name, unit in units.items() if name != "WakeDelay"}
    assert set(metrics) == set(units)
    assert {name: datapoint["Unit"] for name, datapoint in metrics.items()} == units
    assert all(datapoint["SampleCount"] == 2 for datapoint in metrics.values())
    assert metrics["Runs"]["Sum"] == 2
    assert (metrics["ActionsFailed"]["Minimum"], metrics["ActionsFailed"]["Maximum"]) == (0, 1)
    assert metrics["ActionsSucceeded"]["Sum"] == 3 + 2
    assert [metrics[name]["Sum"] for name in ("ActionsTimedOut", "ActionsStopped", "ActionsErrored")] == [0, 0, 0]
    assert (metrics["Polls"]["Minimum"], metrics["Polls"]["Maximum"]) == (second.polls, first.polls) == (1, 3)
    assert metrics["RecoveryAttempts"]["Sum"] == 0
    durations = sorted(run_seconds(emulator, run) for run in (first, second))
    assert metrics["RunDuration"]["Minimum"] == pytest.approx(durations[0], abs=0.01)
    assert metrics["RunDuration"]["Maximum"] == pytest.approx(durations[1], abs=0.01)
    assert 0 <= metrics["DetectionDelay"]["Minimum"] <= metrics["DetectionDelay"]["Maximum"] < 30


def test_a_run_measured_across_a_handover_counts_the_polls_of_every_execution(
    sfn: Any, emulator: AwsEmulator, make_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    namespace = f"Test/{uuid.uuid4().hex}"
    loop = make_loop(metrics_namespace=namespace, max_polls_per_execution=2)
    glue.script(WORKFLOW, RunOutcome(failed=1, running_polls=4))
    start(sfn, loop)

    chain = wait_until_stopped(sfn, loop)

    (run,) = glue.runs_of(WORKFLOW)
    metrics = published(emulator, namespace)
    assert len(chain) == 3
    assert metrics["Polls"]["SampleCount"] == 1
    assert metrics["Polls"]["Sum"] == run.polls == 5


def test_runs_in_one_execution_are_each_measured_with_their_own_polls(
    sfn: Any, emulator: AwsEmulator, make_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    namespace = f"Test/{uuid.uuid4().hex}"
    loop = make_loop(metrics_namespace=namespace, runs_per_execution=2)
    glue.script(WORKFLOW, RunOutcome(running_polls=3), RunOutcome(failed=1, running_polls=1))
    start(sfn, loop)

    (execution,) = wait_until_stopped(sfn, loop)

    first, second = glue.runs_of(WORKFLOW)
    metrics = published(emulator, namespace)
    assert entered_states(sfn, execution.arn).count("PublishRunMetrics") == 2
    assert (metrics["Polls"]["Maximum"], metrics["Polls"]["Minimum"]) == (first.polls, second.polls) == (4, 2)


def test_with_metrics_disabled_nothing_is_published_and_the_loop_runs_on(
    sfn: Any, emulator: AwsEmulator, make_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    namespace = f"Test/{uuid.uuid4().hex}"
    loop = make_loop(metrics_namespace=namespace, metrics_enabled=False)
    glue.script(WORKFLOW, CLEAN, RunOutcome(failed=1))
    start(sfn, loop)

    chain = wait_until_stopped(sfn, loop)

    assert [execution.status for execution in chain] == ["SUCCEEDED", "FAILED"]
    assert chain[1].error == "GlueWorkflowActionsFailed"
    assert emulator.client("cloudwatch").list_metrics(Namespace=namespace)["Metrics"] == []
    assert all("PublishRunMetrics" not in entered_states(sfn, execution.arn) for execution in chain)


def test_a_denied_put_metric_data_keeps_its_error_and_never_stops_the_loop(
    sfn: Any, emulator: AwsEmulator, make_loop: MakeLoop, glue: GlueRunSimulator, faults: ServiceFaults
) -> None:
    namespace = f"Test/{uuid.uuid4().hex}"
    loop = make_loop(metrics_namespace=namespace)
    faults.deny(LOOP_ROLE, "cloudwatch:PutMetricData")
    glue.script(WORKFLOW, CLEAN, RunOutcome(failed=1))
    start(sfn, loop)

    first, second = wait_until_stopped(sfn, loop)

    assert (first.status, second.status) == ("SUCCEEDED", "FAILED")
    assert second.error == "GlueWorkflowActionsFailed"
    assert first.output is not None
    # An error code the SDK does not model takes the service's catch-all name (moto_shims).
    assert first.output["metrics_error"]["Error"] == "CloudWatch.CloudWatchException"
    assert "not authorized to perform: cloudwatch:PutMetricData" in first.output["metrics_error"]["Cause"]
    assert len(glue.runs_of(WORKFLOW)) == 2
    assert emulator.client("cloudwatch").list_metrics(Namespace=namespace)["Metrics"] == []


def test_throttled_put_metric_data_is_retried_and_the_metrics_arrive(
    sfn: Any, emulator: AwsEmulator, make_loop: MakeLoop, glue: GlueRunSimulator, faults: ServiceFaults
) -> None:
    namespace = f"Test/{uuid.uuid4().hex}"
    loop = make_loop(metrics_namespace=namespace)
    faults.throttle("cloudwatch:PutMetricData", times=2)
    glue.script(WORKFLOW, RunOutcome(failed=1))
    start(sfn, loop)

    (execution,) = wait_until_stopped(sfn, loop)

    assert [fault.code for fault in faults.injected] == ["ThrottlingException"] * 2
    assert execution.output is None or "metrics_error" not in execution.output
    assert published(emulator, namespace)["Runs"]["Sum"] == 1


def test_the_definition_publishes_exactly_the_metric_contract_of_metrics_tf(
    plan: Callable[[str], dict[str, Any]],
) -> None:
    """Names, units, namespace and dimensions that the dashboard (tests/metrics.tftest.hcl) reads
    from the contract are those the loop sends; a value that cannot be worked out is left out."""
    definition = rendered_definition(plan("default"))
    publish = definition["States"]["PublishRunMetrics"]["Arguments"]
    config = definition["States"]["ApplyDefaults"]["Parameters"]["config"]
    statistics = dict(SucceededActions=2, FailedActions=1, TimeoutActions=0, StoppedActions=0, ErroredActions=0)
    run = {
        "id": "wr_1",
        "status": "COMPLETED",
        "statistics": statistics,
        "started_on": "2026-12-02T05:00:00.000Z",
        "completed_on": "2026-12-02T05:10:00+00:00",
        "idle": True,
    }
    expected = contract(plan)

    def metric_data(
        run: dict[str, Any], idle_wait: int | None = 120, data_arrived_at: int | None = 1796187570
    ) -> dict[str, Any]:
        bindings = {
            "states": {"input": {"run": run, "loop": {"earlier_polls": 2}, "config": config}},
            "polls": 7,
            "run_start_polls": 4,
            "idle_wait": idle_wait,
            "data_arrived_at": data_arrived_at,
        }
        data = jsonata.Jsonata(publish["MetricData"].removeprefix("{%").removesuffix("%}")).evaluate(None, bindings)
        assert all(datum["Dimensions"] == expected["dimensions"] for datum in data)
        assert all(datum["Unit"] == expected["units"][datum["MetricName"]] for datum in data)
        return {datum["MetricName"]: datum["Value"] for datum in data}

    assert publish["Namespace"] == "{% $states.input.config.metrics.namespace %}"
    assert config["metrics"]["namespace"] == expected["namespace"]
    values = metric_data(run)
    assert set(values) == set(expected["units"])
    assert {name: value for name, value in values.items() if name != "DetectionDelay"} == {
        "Runs": 1,
        "RunDuration": 600,
        "ActionsSucceeded": 2,
        "ActionsFailed": 1,
        "ActionsTimedOut": 0,
        "ActionsStopped": 0,
        "ActionsErrored": 0,
        "Polls": 7 - 4 + 2,
        "RecoveryAttempts": 0,
        "IdleRuns": 1,
        "IdleWait": 120,
        # 2026-12-02T04:59:30Z landed, the run started 30 s later.
        "WakeDelay": 30,
    }
    without_end = {name: value for name, value in run.items() if name != "completed_on"}
    assert set(values) - set(metric_data(without_end)) == {"RunDuration", "DetectionDelay"}
    # A run handed over by a predecessor: the wait before it was that execution's.
    assert set(values) - set(metric_data(run, idle_wait=None)) == {"IdleWait"}
    assert metric_data({**run, "idle": False}, idle_wait=0)["IdleRuns"] == 0
    # A run no data woke.
    assert set(values) - set(metric_data(run, data_arrived_at=None)) == {"WakeDelay"}


def test_metrics_are_published_after_polling_never_per_poll(
    sfn: Any, make_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    loop = make_loop(metrics_namespace=f"Test/{uuid.uuid4().hex}")
    glue.script(WORKFLOW, RunOutcome(failed=1, running_polls=3))
    start(sfn, loop)

    (execution,) = wait_until_stopped(sfn, loop)

    states = entered_states(sfn, execution.arn)
    assert states.count("GetWorkflowRun") == 4
    assert states.count("PublishRunMetrics") == 1
    assert states.index("PublishRunMetrics") > len(states) - 1 - states[::-1].index("GetWorkflowRun")


def test_the_operations_guide_lists_every_metric_of_the_contract_with_its_unit(
    plan: Callable[[str], dict[str, Any]],
) -> None:
    """docs/operations.md's metrics table, row by row, against metrics.tf's contract: a metric added,
    renamed or given another unit fails here until the guide says so."""
    guide = (REPO_ROOT / "docs" / "operations.md").read_text()
    table = guide.split("| Metric | Unit | Value |\n|---|---|---|\n", 1)[1].split("\n\n", 1)[0]
    documented = {
        name: unit
        for names, unit, _value in (row.strip("|").split(" | ", 2) for row in table.splitlines())
        for name in re.findall(r"`(\w+)`", names)
    }

    assert documented == contract(plan)["units"]
