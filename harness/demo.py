"""make demo: the continuous loop driving the sample retail workflow in an embedded AWS emulator.

Applies examples/complete to an in-process moto server, starts the loop, lets the Glue run
simulator end each workflow run (failing one node of one run if asked), prints a line per poll,
a table per run and the operator CLI's status of the stopped loop, and destroys everything on
the way out, Ctrl-C included.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from glue_loop import cli as glue_loop_cli
from harness.emulator import REGION, AwsEmulator
from harness.glue_simulator import GlueRunSimulator, PollObserver, RunOutcome, SimulatedRun
from harness.loop import Execution, executions, has_ended
from harness.report import format_table
from harness.terraform import TerraformWorkspace

NAME = "retail-demo"
JOB_STEPS = ("clean_sales", "aggregate_sales", "handle_errors", "refresh_dashboard")
CRAWLER_SOURCES = ("sales", "stores")
VERDICTS = {"SUCCEEDED": "clean: next run started", "ABORTED": "stopped by the demo"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="make demo DEMO_ARGS=...",
        description=__doc__.split("\n\n", 1)[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--runs", type=int, default=4, help="workflow runs to drive before the demo stops the loop")
    parser.add_argument("--fail-at-run", type=int, default=4, help="run in which --fail-node fails (0: none fails)")
    parser.add_argument(
        "--fail-node",
        default="clean_sales",
        choices=[*JOB_STEPS, *(f"crawl_{source}" for source in CRAWLER_SOURCES)],
        help="job step or crawler that fails",
    )
    parser.add_argument("--fail-state", default="FAILED", choices=["FAILED", "TIMEOUT", "STOPPED", "ERROR"])
    parser.add_argument("--poll-seconds", type=int, default=1, help="the loop's poll_interval_seconds")
    parser.add_argument("--running-polls", type=int, default=2, help="polls that see each run still RUNNING")
    args = parser.parse_args(argv)
    if args.runs < 1 or not 0 <= args.fail_at_run <= args.runs:
        parser.error("need --runs >= 1 and 0 <= --fail-at-run <= --runs")
    return args


def node_name(sample: dict[str, Any], node: str) -> str:
    if node.startswith("crawl_"):
        return str(sample["crawler_names"][node.removeprefix("crawl_")])
    return str(sample["job_names"][node])


def poll_printer(glue: GlueRunSimulator) -> PollObserver:
    def print_poll(run: SimulatedRun, status: str, statistics: dict[str, int]) -> None:
        number = glue.runs_of(NAME).index(run) + 1
        print(
            f"  poll  run {number:>2}  {run.run_id[:14]}…  {status:<9}"
            f"  actions: {statistics['SucceededActions']} succeeded, {statistics['FailedActions']} failed,"
            f" {statistics['RunningActions']} running of {statistics['TotalActions']}",
            flush=True,
        )

    return print_poll


def drive(sfn: Any, arn: str, glue: GlueRunSimulator, runs: int) -> list[Execution]:
    """Wait for the chain to stop; stop it once it starts a run beyond the scripted ones."""
    while not has_ended(chain := executions(sfn, arn)):
        running = [execution for execution in chain if execution.status == "RUNNING"]
        if running and len(glue.runs_of(NAME)) > runs:
            sfn.stop_execution(executionArn=running[0].arn, cause=f"demo: {runs} runs driven")
        time.sleep(0.2)
    return chain


def stop_running_executions(emulator: AwsEmulator) -> None:
    """An interrupted demo leaves its loop running: stop it, so that it does not act on
    resources while Terraform destroys them."""
    sfn = emulator.client("stepfunctions")
    for machine in sfn.list_state_machines()["stateMachines"]:
        running = sfn.list_executions(stateMachineArn=machine["stateMachineArn"], statusFilter="RUNNING")
        for execution in running["executions"]:
            sfn.stop_execution(executionArn=execution["executionArn"], cause="demo: interrupted")


def table(chain: list[Execution], glue: GlueRunSimulator) -> str:
    rows = [("run", "run id", "execution", "succeeded", "failed", "verdict")]
    for number, (execution, run) in enumerate(zip(chain, glue.runs_of(NAME), strict=False), start=1):
        statistics = run.statistics(run.finished)
        unsuccessful = statistics["TotalActions"] - statistics["SucceededActions"] if run.finished else 0
        verdict = VERDICTS.get(execution.status, execution.error or execution.status)
        rows.append(
            (
                str(number),
                run.run_id[:14] + "…",
                "…" + execution.name[-13:],
                str(statistics["SucceededActions"]),
                str(unsuccessful),
                verdict,
            )
        )
    return format_table(rows, rule=True)


# What the table shows of each metric, combinable across CloudWatch's periods.
METRIC_ROWS = ("Runs", "RunDuration", "ActionsSucceeded", "ActionsFailed", "Polls", "DetectionDelay")
STATISTICS = ("SampleCount", "Sum", "Maximum")


def metrics_table(cloudwatch: Any, metrics: dict[str, Any], since: datetime) -> str:
    """The loop's run metrics for the demo's runs, read back from the emulator's CloudWatch."""
    queries = [
        {
            "Id": f"m{index}",
            "Label": f"{name} {statistic}",
            "MetricStat": {
                "Metric": {"Namespace": metrics["namespace"], "MetricName": name, "Dimensions": metrics["dimensions"]},
                "Period": 60,
                "Stat": statistic,
            },
        }
        for index, (name, statistic) in enumerate((name, statistic) for name in METRIC_ROWS for statistic in STATISTICS)
    ]
    window = {"StartTime": since - timedelta(minutes=1), "EndTime": datetime.now(UTC) + timedelta(minutes=1)}
    answer = cloudwatch.get_metric_data(MetricDataQueries=queries, **window)
    values = {result["Label"]: result["Values"] for result in answer["MetricDataResults"]}
    rows = [("metric", "unit", "runs", "sum", "max")]
    for name in METRIC_ROWS:
        maxima = values[f"{name} Maximum"]
        rows.append(
            (
                name,
                metrics["units"][name],
                f"{sum(values[f'{name} SampleCount']):g}",
                f"{sum(values[f'{name} Sum']):g}",
                f"{max(maxima):g}" if maxima else "-",
            )
        )
    return format_table(rows, rule=True)


def show_operator_status(arn: str, endpoint_url: str) -> None:
    """What an operator sees of the stopped loop with the module's CLI."""
    command = ["status", "--state-machine-arn", arn, "--endpoint-url", endpoint_url]
    print(f"\n$ python -m glue_loop {' '.join(command)}", flush=True)
    # The emulator takes any key; the CLI, like the AWS CLI, insists on having one.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    glue_loop_cli.main(command)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    print("Starting the embedded AWS emulator (moto) on a free loopback port", flush=True)
    emulator = AwsEmulator(quiet=True)
    variables = {"name": NAME, "poll_interval_seconds": args.poll_seconds}
    demo_started = datetime.now(UTC)
    with GlueRunSimulator().installed() as glue, tempfile.TemporaryDirectory() as workdir:
        glue.on_poll = poll_printer(glue)
        workspace = TerraformWorkspace(Path(workdir), "examples/complete", emulator.endpoint_url, REGION)
        try:
            print("terraform init + apply examples/complete (sample workflow + loop)", flush=True)
            workspace.init()
            outputs = workspace.apply(variables)
            failing = node_name(outputs["sample_workflow"], args.fail_node)
            glue.script(
                NAME,
                *(
                    RunOutcome(
                        running_polls=args.running_polls,
                        node_states={failing: args.fail_state} if number == args.fail_at_run else {},
                    )
                    for number in range(1, args.runs + 1)
                ),
            )
            print(f"Starting the loop: {outputs['start_loop_command']}", flush=True)
            sfn = emulator.client("stepfunctions")
            arn = outputs["state_machine_arn"]
            sfn.start_execution(stateMachineArn=arn, input=json.dumps({"run_properties": {}}))
            chain = drive(sfn, arn, glue, args.runs)
            print()
            print(table(chain, glue))
            last = chain[-1]
            reason = (
                f"{last.error}: {last.cause}"
                if last.status == "FAILED"
                else f"stopped by the demo after {args.runs} runs"
            )
            print(f"\nStop reason: {reason}", flush=True)
            show_operator_status(arn, emulator.endpoint_url)
            metrics = outputs["cloudwatch_metrics"]
            print(f"\nRun metrics in CloudWatch ({metrics['namespace']}), read back with GetMetricData:")
            print(metrics_table(emulator.client("cloudwatch"), metrics, demo_started), flush=True)
        finally:
            stop_running_executions(emulator)
            print("terraform destroy", flush=True)
            workspace.destroy(variables)
            emulator.stop()
    print(f"Done in {time.monotonic() - started:.0f} s; nothing is left behind.")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("Interrupted; what the demo created was destroyed.")
        sys.exit(130)
