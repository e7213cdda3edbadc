"""make demo: the continuous loop driving the sample retail workflow in an embedded AWS emulator.

Applies examples/complete to an in-process moto server, starts the loop, lets the Glue run
simulator end each workflow run (failing one node of one run if asked, and with the loop's
recovery on, failing it once in another run, which the loop resumes), prints a line per poll,
a table per run and the operator CLI's status of the stopped loop, and destroys everything on
the way out, Ctrl-C included.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from glue_loop import cli as glue_loop_cli
from harness.emulator import REGION, AwsEmulator
from harness.eventbridge import RuleDelivery, end_run_with_events, s3_object_created, wait_for_token
from harness.glue_simulator import IDLE, UNTIL_FINISHED, GlueRunSimulator, PollObserver, RunOutcome, SimulatedRun
from harness.loop import (
    Execution,
    executions,
    has_ended,
    history_events,
    newest_execution,
    newest_execution_in,
    wait_for,
)
from harness.report import format_table
from harness.terraform import TerraformWorkspace

NAME = "retail-demo"
# A run id cut as the tables cut it (wr_ and 11 of its 64 hex digits).
SHORTENED_RUN_ID = re.compile(r"(wr_[0-9a-f]{11})[0-9a-f]+")
JOB_STEPS = ("clean_sales", "aggregate_sales", "handle_errors", "refresh_dashboard")
CRAWLER_SOURCES = ("sales", "stores")
VERDICTS = {"SUCCEEDED": "clean: next run started", "ABORTED": "stopped by the demo"}
# The recovery input the demo gives the loop with --fail-once-at-run: one attempt, soon. The kinds
# of action it resumes are those of --fail-state (the recovery input's on_actions).
RECOVERY = {"enabled": True, "max_attempts": 1, "backoff_seconds": 1}
RECOVERED_ACTIONS = {"FAILED": "failed", "TIMEOUT": "timed_out", "STOPPED": "stopped", "ERROR": "errored"}
# The pacing the demo gives the loop with --pacing: short, so that backing off shows in seconds.
PACING = {"enabled": True, "initial_seconds": 2, "multiplier": 2, "max_seconds": 8}
# Where say() writes, whatever sys.stdout is at the time (operator() redirects it).
_STDOUT = sys.stdout
_SAYING = threading.Lock()


def say(text: str = "") -> None:
    """Print a line (or lines) in one write, one caller at a time. The emulator's request threads
    print the polls while the demo prints its own lines, and print() writes a line's text and its
    newline separately: between the two, another thread's line can land, and two lines run into
    one. Most likely that is why, under load, the pacing demo's test once found 2 of its 3 "run N
    started" lines (the demo itself had passed)."""
    with _SAYING:
        _STDOUT.write(text + "\n")
        _STDOUT.flush()


def demo_parser() -> argparse.ArgumentParser:
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
    parser.add_argument(
        "--fail-once-at-run",
        type=int,
        default=0,
        help="run in which --fail-node fails once and succeeds when resumed; turns the loop's recovery on"
        f" ({RECOVERY['max_attempts']} attempt, {RECOVERY['backoff_seconds']} s backoff: --fail-at-run's run is then"
        " resumed and fails again; 0: recovery off)",
    )
    parser.add_argument(
        "--fail-state",
        default="FAILED",
        choices=list(RECOVERED_ACTIONS),
        help="how --fail-node ends: a failed, timed-out, stopped or errored action (each stops the loop)",
    )
    parser.add_argument(
        "--pacing",
        action="store_true",
        help="instead: events mode with pacing and wake on data (examples/event-driven): --idle-runs runs find"
        f" nothing and the loop backs off ({PACING['initial_seconds']} s doubling to {PACING['max_seconds']} s),"
        " then a file dropped into the sample bucket wakes it",
    )
    parser.add_argument("--idle-runs", type=int, default=3, help="with --pacing: runs that find nothing first")
    parser.add_argument("--poll-seconds", type=int, default=1, help="the loop's poll_interval_seconds")
    parser.add_argument("--running-polls", type=int, default=2, help="polls that see each run still RUNNING")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the emulator and the stopped loop after the demo, print the glue-loop commands to try on"
        " them (later runs are clean), and destroy everything on Ctrl-C",
    )
    return parser


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = demo_parser()
    args = parser.parse_args(argv)
    if args.runs < 1 or not 0 <= args.fail_at_run <= args.runs:
        parser.error("need --runs >= 1 and 0 <= --fail-at-run <= --runs")
    if not 0 <= args.fail_once_at_run <= (args.fail_at_run - 1 if args.fail_at_run else args.runs):
        parser.error("need 0 <= --fail-once-at-run <= --runs, and before --fail-at-run, where the loop stops")
    return args


def scripted_outcomes(args: argparse.Namespace, failing: str) -> list[RunOutcome]:
    """How each run the loop starts, and each run it resumes, ends, in the order they start."""
    clean = RunOutcome(running_polls=args.running_polls)
    failed = RunOutcome(running_polls=args.running_polls, node_states={failing: args.fail_state})
    # With recovery on, the loop resumes --fail-at-run's run as often as it may; the node fails each time.
    attempts = RECOVERY["max_attempts"] if args.fail_once_at_run else 0
    outcomes: list[RunOutcome] = []
    for number in range(1, args.runs + 1):
        if number == args.fail_once_at_run:
            outcomes += [failed, clean]
        elif number == args.fail_at_run:
            outcomes += [failed] * (1 + attempts)
        else:
            outcomes.append(clean)
    return outcomes


def started_runs(glue: GlueRunSimulator) -> list[list[SimulatedRun]]:
    """The runs the loop started, each with the runs that resumed it, in order. The demo's loop runs
    one run at a time, so a resumed run follows the run it resumes."""
    groups: list[list[SimulatedRun]] = []
    for run in glue.runs_of(NAME):
        if run.restarted:
            groups[-1].append(run)
        else:
            groups.append([run])
    return groups


def run_label(glue: GlueRunSimulator, run: SimulatedRun) -> str:
    """The run's number among those the loop started; "resumed" after it for a run that resumes one."""
    number = next(number for number, group in enumerate(started_runs(glue), start=1) if run in group)
    return f"{number} resumed" if run.restarted else str(number)


def node_name(sample: dict[str, Any], node: str) -> str:
    if node.startswith("crawl_"):
        return str(sample["crawler_names"][node.removeprefix("crawl_")])
    return str(sample["job_names"][node])


def poll_printer(glue: GlueRunSimulator) -> PollObserver:
    def print_poll(run: SimulatedRun, status: str, statistics: dict[str, int]) -> None:
        say(
            f"  poll  run {run_label(glue, run):<9}  {run.run_id[:14]}…  {status:<9}"
            f"  actions: {statistics['SucceededActions']} succeeded, {statistics['FailedActions']} failed,"
            f" {statistics['RunningActions']} running of {statistics['TotalActions']}"
        )

    return print_poll


def drive(sfn: Any, arn: str, glue: GlueRunSimulator, runs: int) -> list[Execution]:
    """Wait for the chain to stop; stop it once it starts a run beyond the scripted ones."""
    while not has_ended(chain := executions(sfn, arn)):
        running = [execution for execution in chain if execution.status == "RUNNING"]
        if running and len(started_runs(glue)) > runs:
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


def verdict(execution: Execution, runs: list[SimulatedRun], index: int) -> str:
    """What the loop made of ``runs[index]``, one of the runs of ``execution``: every run but the
    last was resumed (by the next), and the execution's end judged the last."""
    if index + 1 < len(runs):
        return "resumed: " + ", ".join(runs[index + 1].restarted)
    if execution.status == "SUCCEEDED" and index > 0:
        return "recovered: next run started"
    return VERDICTS.get(execution.status, execution.error or execution.status)


def table(chain: list[Execution], glue: GlueRunSimulator) -> str:
    rows = [("run", "run id", "execution", "succeeded", "failed", "verdict")]
    for execution, runs in zip(chain, started_runs(glue), strict=False):
        for index, run in enumerate(runs):
            statistics = run.statistics(run.finished)
            unsuccessful = statistics["TotalActions"] - statistics["SucceededActions"] if run.finished else 0
            rows.append(
                (
                    run_label(glue, run),
                    run.run_id[:14] + "…",
                    "…" + execution.name[-13:],
                    str(statistics["SucceededActions"]),
                    str(unsuccessful),
                    verdict(execution, runs, index),
                )
            )
    return format_table(rows, rule=True)


# What the table shows of each metric, combinable across CloudWatch's periods.
METRIC_ROWS = (
    "Runs",
    "RunDuration",
    "ActionsSucceeded",
    "ActionsFailed",
    "Polls",
    "RecoveryAttempts",
    "DetectionDelay",
    "IdleRuns",
    "IdleWait",
    "WakeDelay",
)
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


def operator(command: str, arn: str, endpoint_url: str) -> None:
    """The module's CLI, as an operator runs it against the emulator; its output is said at once
    when it is done (see ``say``)."""
    arguments = [command, "--state-machine-arn", arn, "--endpoint-url", endpoint_url]
    # The emulator takes any key; the CLI, like the AWS CLI, insists on having one.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    output = io.StringIO()
    try:
        with contextlib.redirect_stdout(output):
            glue_loop_cli.main(arguments)
    finally:
        say(f"\n$ python -m glue_loop {' '.join(arguments)}\n{output.getvalue().rstrip()}")


def back_off_before_run(sfn: Any, state_machine_arn: str) -> int:
    """The timeout the newest execution gave its wait for data: the back-off it chose before its run
    (TaskScheduledEventDetails.timeoutInSeconds, AWS Step Functions API Reference)."""
    newest = newest_execution(sfn, state_machine_arn)
    if newest is None:
        raise LookupError(f"{state_machine_arn} has no execution")
    state = None
    for event in history_events(sfn, newest["executionArn"]):
        state = event.get("stateEnteredEventDetails", {}).get("name", state)
        if state == "WaitForData" and "taskScheduledEventDetails" in event:
            return int(event["taskScheduledEventDetails"]["timeoutInSeconds"])
    raise LookupError(f"{newest['executionArn']} scheduled no wait for data")


def drive_pacing(emulator: AwsEmulator, glue: GlueRunSimulator, outputs: dict[str, Any], idle_runs: int) -> None:
    """Ends each run with its job and crawler events as EventBridge would deliver them: the first
    ``idle_runs`` find nothing and the loop backs off; then a file lands in the sample bucket, its
    event wakes the loop, and that run finds it. Prints each run and each wait."""
    dynamodb, sfn = emulator.client("dynamodb"), emulator.client("stepfunctions")
    glue_events = RuleDelivery.of_applied_rule(
        emulator.client("events"), emulator.client("stepfunctions"), outputs["event_rule_name"]
    )
    data_events = RuleDelivery.of_applied_rule(
        emulator.client("events"), emulator.client("stepfunctions"), outputs["data_event_rule_name"]
    )
    bucket, table = outputs["sample_workflow"]["bucket_name"], outputs["token_table_name"]
    prefix = outputs["sample_workflow"]["data_prefix"] + "raw/sales/"
    ended: datetime | None = None
    for number in range(1, idle_runs + 2):
        run_id = wait_for_token(dynamodb, table, glue, NAME, number)
        started = emulator.client("glue").get_workflow_run(Name=NAME, RunId=run_id)["Run"]["StartedOn"]
        after = f"run {number - 1} ended" if number <= idle_runs else "the file landed"
        waited = (
            f", {(started - ended).total_seconds():.1f} s after {after}; the loop's back-off was "
            f"{back_off_before_run(sfn, outputs['state_machine_arn'])} s"
            if ended
            else ""
        )
        say(f"  run {number} started {run_id[:14]}…{waited}")
        if number == idle_runs + 1:
            say("  pausing the loop: it ends at its next wait, without starting a run")
            operator("pause", outputs["state_machine_arn"], emulator.endpoint_url)
            end_run_with_events(glue, glue_events, NAME, run_id)
            say(f"  run {number} ended: took the new file")
            return
        end_run_with_events(glue, glue_events, NAME, run_id)
        ended = datetime.now(UTC)
        say(f"  run {number} ended: found no new file (clean_sales marked it idle)")
        if number < idle_runs:
            continue
        wait_for(newest_execution_in(sfn, outputs["state_machine_arn"], "WaitForData"))
        key = f"{prefix}sales_{datetime.now(UTC):%Y-%m-%d_%H%M%S}.csv"
        emulator.client("s3").put_object(Bucket=bucket, Key=key, Body=b"order_id,order_date\n")
        landed = datetime.now(UTC)
        say(f"  file dropped: s3://{bucket}/{key}; its Object Created event goes to the data rule")
        data_events.deliver(s3_object_created(bucket, key, landed))
        ended = landed


def keep(glue: GlueRunSimulator, arn: str, endpoint_url: str) -> None:
    """Leave the loop to the reader until Ctrl-C: the run the demo stopped the loop in ends clean,
    and so does every run a resumed loop starts."""
    for run in glue.runs_of(NAME):
        if not run.finished:
            glue.finish(run.run_id)
    glue.script(NAME, *[RunOutcome(running_polls=2)] * 1000)
    options = f"--state-machine-arn {arn} --endpoint-url {endpoint_url}"
    say(
        "\nThe emulator keeps running with the stopped loop. In another terminal, in this directory"
        " (the emulator takes any key, but the CLI wants one):\n\n"
        "  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test\n"
        + "".join(
            f"  .venv/bin/glue-loop {command} {options}\n"
            for command in ("status", "resume", "pause --wait", "start", "stop --stop-glue-run")
        )
        + "\nCtrl-C here destroys everything."
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        say("\nCtrl-C: destroying what the demo created.")


def run_and_report(
    args: argparse.Namespace, emulator: AwsEmulator, glue: GlueRunSimulator, outputs: dict[str, Any], since: datetime
) -> None:
    """Start the applied loop, drive its runs and print what a user sees of them: the run table, the stop
    reason, the operator's status and the run metrics; with --keep, keep the loop for the CLI."""
    if args.pacing:
        idle = replace(IDLE, running_polls=UNTIL_FINISHED)
        glue.script(NAME, *[idle] * args.idle_runs, RunOutcome(running_polls=UNTIL_FINISHED))
    else:
        glue.script(NAME, *scripted_outcomes(args, node_name(outputs["sample_workflow"], args.fail_node)))
    say(f"Starting the loop: {outputs['start_loop_command']}")
    sfn = emulator.client("stepfunctions")
    arn = outputs["state_machine_arn"]
    sfn.start_execution(stateMachineArn=arn, input=json.dumps({"run_properties": {}}))
    if args.pacing:
        drive_pacing(emulator, glue, outputs, args.idle_runs)
    chain = drive(sfn, arn, glue, args.idle_runs + 1 if args.pacing else args.runs)
    say()
    say(table(chain, glue))
    last = chain[-1]
    stop_reason = (last.output or {}).get("stop_reason")
    if last.status == "FAILED":
        reason = f"{last.error}: {last.cause}"
    elif stop_reason:
        reason = f"{stop_reason} after {len(started_runs(glue))} runs"
    else:
        reason = f"stopped by the demo after {args.runs} runs"
    # Run ids as the tables show them: the status below has them in full, to copy.
    say("\nStop reason: " + SHORTENED_RUN_ID.sub(r"\1…", reason))
    # What an operator sees of the stopped loop.
    operator("status", arn, emulator.endpoint_url)
    metrics = outputs["cloudwatch_metrics"]
    say(f"\nRun metrics in CloudWatch ({metrics['namespace']}), read back with GetMetricData:")
    say(metrics_table(emulator.client("cloudwatch"), metrics, since))
    if args.keep:
        keep(glue, arn, emulator.endpoint_url)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    say("Starting the embedded AWS emulator (moto) on a free loopback port")
    emulator = AwsEmulator(quiet=True)
    variables: dict[str, Any] = {"name": NAME, "poll_interval_seconds": args.poll_seconds}
    if args.fail_once_at_run:
        variables["recovery"] = {**RECOVERY, "on_actions": [RECOVERED_ACTIONS[args.fail_state]]}
    example = "examples/complete"
    if args.pacing:
        # The dead-letter queue would add the provider's 30 s wait for its attributes, for nothing here.
        example = "examples/event-driven"
        variables = {"name": NAME, "pacing": PACING, "wake_on_data": True, "create_event_dead_letter_queue": False}
    demo_started = datetime.now(UTC)
    with GlueRunSimulator().installed() as glue, tempfile.TemporaryDirectory() as workdir:
        glue.on_poll = poll_printer(glue)
        workspace = TerraformWorkspace(Path(workdir), example, emulator.endpoint_url, REGION)
        try:
            say(f"terraform init + apply {example} (sample workflow + loop)")
            workspace.init()
            with workspace.serving_provider():
                try:
                    outputs = workspace.apply(variables)
                    run_and_report(args, emulator, glue, outputs, demo_started)
                finally:
                    stop_running_executions(emulator)
                    say("terraform destroy")
                    workspace.destroy(variables)
        finally:
            emulator.stop()
    say(f"Done in {time.monotonic() - started:.0f} s; nothing is left behind.")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        say("Interrupted; what the demo created was destroyed.")
        sys.exit(130)
