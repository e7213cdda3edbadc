"""glue-loop (python -m glue_loop), the operator CLI, against loops running in the emulator, and installed by pip."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import glue_loop
from conftest import EVENTS_WORKFLOW, WORKFLOW, pause_parameter_of, status_headers, status_labels
from glue_loop.cli import main
from glue_loop.definition import LoopDefinition, RunWait, parse
from glue_loop.loop import reads_as_paused, wait_before_run
from glue_loop.status import Recovery, RecoveryAttempt, live_recovery
from harness.emulator import ACCOUNT_ID, AwsEmulator
from harness.eventbridge import wait_for_token
from harness.glue_simulator import CLEAN, IDLE, UNTIL_FINISHED, GlueRunSimulator, RunOutcome
from harness.loop import wait_for, wait_until_stopped
from harness.plans import rendered_definition
from harness.terraform import REPO_ROOT

CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
)
WAIT = ("--wait", "--interval", "0.2", "--timeout", "60")


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


Cli = Callable[..., Result]


@pytest.fixture
def cli(emulator: AwsEmulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """Runs ``main`` against the emulator: cli(command, state_machine_arn, *options)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")

    def run(command: str, arn: str, *options: str) -> Result:
        code = main([command, "--state-machine-arn", arn, "--endpoint-url", emulator.endpoint_url, *options])
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


def first_run_polled(glue: GlueRunSimulator) -> Callable[[], bool]:
    return lambda: bool(glue.runs_of(WORKFLOW)) and glue.runs_of(WORKFLOW)[0].polls >= 1


def statuses(sfn: Any, arn: str) -> list[str]:
    return [item["status"] for item in sfn.list_executions(stateMachineArn=arn)["executions"]]


@pytest.mark.parametrize(
    ("flag", "paused"), [("true", True), (" TRUE\n", True), ("false", False), ("no", False), (None, False)]
)
def test_the_cli_reads_the_pause_flag_as_the_loop_does(flag: str | None, paused: bool) -> None:
    assert reads_as_paused(flag) is paused


def test_workflow_and_pause_parameter_are_found_by_task_resource_wherever_the_states_are() -> None:
    definition = {
        "StartAt": "Settings",
        "States": {
            "Settings": {"Type": "Pass", "Parameters": {"settings": {"flag": "/ops/paused"}}, "Next": "Both"},
            "Both": {
                "Type": "Parallel",
                "End": True,
                "Branches": [
                    {
                        "StartAt": "Flag",
                        "States": {
                            "Flag": {
                                "Type": "Task",
                                "Resource": "arn:aws:states:::aws-sdk:ssm:getParameter",
                                "Parameters": {"Name.$": "$.settings.flag"},
                                "End": True,
                            }
                        },
                    },
                    {
                        "StartAt": "Go",
                        "States": {
                            "Go": {
                                "Type": "Task",
                                "Resource": "arn:aws:states:::aws-sdk:glue:startWorkflowRun.waitForTaskToken",
                                "Parameters": {"Name": "sales"},
                                "End": True,
                            }
                        },
                    },
                ],
            },
        },
    }

    assert parse(json.dumps(definition)) == LoopDefinition(workflow_name="sales", pause_parameter="/ops/paused")


def test_status_of_a_running_loop_shows_the_live_execution_the_glue_run_and_the_flag(
    cli: Cli, loop_machine: str, glue: GlueRunSimulator
) -> None:
    assert cli("start", loop_machine).code == 0
    wait_for(first_run_polled(glue))
    run_id = glue.runs_of(WORKFLOW)[0].run_id

    text = cli("status", loop_machine)
    report = json.loads(cli("status", loop_machine, "--json").out)

    assert text.code == 0
    assert f"Workflow       {WORKFLOW}\n" in text.out
    assert "Loop           running: execution " in text.out
    assert f"Pause flag     {pause_parameter_of(loop_machine)} = false\n" in text.out
    assert f"Glue run       {run_id} RUNNING" in text.out
    assert "Last stop" not in text.out
    (execution,) = report["executions"]
    assert report["live"] == [execution["name"]] and execution["status"] == "RUNNING"
    assert report["live_state"]
    assert (report["glue_run"]["run_id"], report["glue_run"]["status"]) == (run_id, "RUNNING")
    assert report["glue_run"]["statistics"]["RunningActions"] == 1


@pytest.mark.parametrize(
    ("config", "run_wait"),
    [("fast_poll", RunWait(events=False, seconds=1)), ("events", RunWait(events=True, seconds=300))],
    ids=["poll", "events"],
)
def test_how_the_loop_waits_for_its_run_is_read_from_the_rendered_definition(
    plan: Callable[[str], dict[str, Any]], config: str, run_wait: RunWait
) -> None:
    assert parse(json.dumps(rendered_definition(plan(config)))).run_wait == run_wait


def test_status_of_a_polling_loop_says_how_often_it_polls(
    cli: Cli, make_loop: Callable[..., str], glue: GlueRunSimulator
) -> None:
    loop = make_loop(poll_interval_seconds=3600)
    cli("start", loop)
    wait_for(lambda: json.loads(cli("status", loop, "--json").out)["live_state"] == "WaitForRun")

    text = cli("status", loop).out
    report = json.loads(cli("status", loop, "--json").out)

    assert ", in state WaitForRun, polling every 3600 s\n" in text
    assert report["live_waiting"] == "polling every 3600 s"


def test_status_of_a_loop_backing_off_after_idle_runs_says_when_it_starts_the_next_run(
    cli: Cli, make_loop: Callable[..., str], glue: GlueRunSimulator
) -> None:
    loop = make_loop(pacing_enabled=True, pacing_initial_seconds=1800, pacing_max_seconds=3600, pacing_growth_steps=1)
    glue.script(WORKFLOW, IDLE, IDLE)
    cli("start", loop)
    wait_for(lambda: json.loads(cli("status", loop, "--json").out)["live_state"] == "Cooldown")

    text = cli("status", loop).out
    report = json.loads(cli("status", loop, "--json").out)

    upcoming = report["live_next_run"]
    assert (upcoming["idle_runs"], upcoming["on_data"]) == (1, False)
    started = datetime.fromisoformat(upcoming["latest"]) - timedelta(seconds=1800)
    assert abs((started - datetime.now(UTC)).total_seconds()) < 30, "the wait began just now, for 1800 s"
    assert f", in state Cooldown, next run by {upcoming['latest'][:10]}" in text
    assert text.split("\n")[2].endswith(", after 1 idle run")


@pytest.mark.parametrize("idle_runs", [0, 1, 2, 3, 7, 40])
@pytest.mark.parametrize("run_number", [1, 5])
def test_the_cli_reckons_the_wait_before_a_run_as_the_loop_does(
    loops_wait_before_run: Callable[..., dict[str, Any]], idle_runs: int, run_number: int
) -> None:
    pacing = {"enabled": True, "initial_seconds": 90, "multiplier": 1.5, "max_seconds": 600, "growth_steps": 5}
    config, loop = {"cooldown_seconds": 7, "pacing": pacing}, {"run_number": run_number, "idle_runs": idle_runs}

    by_the_loop = loops_wait_before_run(loop, config)

    assert wait_before_run(loop, config) == (by_the_loop["idle"], by_the_loop["seconds"])


def test_status_of_an_events_mode_loop_says_it_waits_for_a_glue_event(
    cli: Cli, emulator: AwsEmulator, make_events_loop: Callable[..., Any], glue: GlueRunSimulator
) -> None:
    loop = make_events_loop(safety_poll_seconds=3600)
    glue.script(EVENTS_WORKFLOW, RunOutcome(running_polls=UNTIL_FINISHED))
    cli("start", loop.arn)
    run_id = wait_for_token(emulator.client("dynamodb"), loop.token_table, glue, EVENTS_WORKFLOW, 1)

    text = cli("status", loop.arn)
    report = json.loads(cli("status", loop.arn, "--json").out)

    assert text.code == 0
    assert ", in state WaitForRun, waiting for a Glue event (safety poll every 3600 s)\n" in text.out
    assert f"Glue run       {run_id} RUNNING" in text.out
    assert (report["live_state"], report["live_waiting"]) == (
        "WaitForRun",
        "waiting for a Glue event (safety poll every 3600 s)",
    )


def test_status_of_a_stopped_loop_shows_the_stop_reason_and_the_failing_node(
    cli: Cli, sfn: Any, loop_machine: str, glue: GlueRunSimulator
) -> None:
    glue.script(WORKFLOW, CLEAN, RunOutcome(failed=1))
    cli("start", loop_machine)
    first, second = wait_until_stopped(sfn, loop_machine)

    result = cli("status", loop_machine)

    failed_run = glue.runs_of(WORKFLOW)[1].run_id
    lines = result.out.splitlines()
    assert result.code == 0
    assert "Loop           not running" in lines
    assert f"Last stop      GlueWorkflowActionsFailed (execution {second.name} FAILED" in result.out
    assert f"               Glue workflow {WORKFLOW} run {failed_run} (run number 2) ended COMPLETED" in result.out
    assert f"Glue run       {failed_run} COMPLETED" in result.out
    assert "Actions        3: 2 succeeded, 1 failed, 0 timed out, 0 stopped, 0 errored, 0 running, 0 waiting" in lines
    (failed_node,) = [line for line in lines if line.split()[:3] == ["action-0", "JOB", "FAILED"]]
    assert "java.io.IOException: Failed to write to s3" in failed_node, "the job run's ErrorMessage"
    executions = lines[lines.index("Executions (newest 2, * running)") + 2 :]
    assert [line.split()[0] for line in executions] == [second.name, first.name]
    assert [line.split()[-2:] for line in executions] == [["2", "2"], ["-", "-"]], "run and sequence from the input"


def recovering_loop(make_loop: Callable[..., str], max_attempts: int, **settings: int | str) -> str:
    return make_loop(recovery_enabled=True, recovery_backoff_seconds=0, recovery_max_attempts=max_attempts, **settings)


def test_status_of_a_loop_stopped_after_recovery_shows_every_resume_and_its_outcome(
    cli: Cli, sfn: Any, make_loop: Callable[..., str], glue: GlueRunSimulator
) -> None:
    again = RunOutcome(node_states={"action-0": "FAILED"})
    glue.script(WORKFLOW, RunOutcome(failed=1), again, again)
    loop = recovering_loop(make_loop, max_attempts=2)
    cli("start", loop)
    (stopped,) = wait_until_stopped(sfn, loop)

    text = cli("status", loop).out
    report = json.loads(cli("status", loop, "--json").out)

    first, resumed, resumed_again = (run.run_id for run in glue.runs_of(WORKFLOW))
    lines = text.splitlines()
    assert f"Last stop      GlueWorkflowActionsFailed (execution {stopped.name} FAILED" in text
    table = lines[lines.index("               resumed 2 times before:") + 1 :][:3]
    assert [line.split() for line in table] == [
        ["resume", "run", "failed", "nodes", "resumed", "as", "outcome"],
        ["1", first, "action-0", resumed, "did", "not", "succeed:", "resumed", "again"],
        ["2", resumed, "action-0", resumed_again, "stopped", "the", "loop:", "GlueWorkflowActionsFailed"],
    ]
    assert "Recovery       " not in text, "no run in flight"
    assert report["last_stop"]["recovery_attempts"] == [
        {
            "run_id": first,
            "failed_nodes": ["action-0"],
            "resumed_run_id": resumed,
            "outcome": "did not succeed: resumed again",
        },
        {
            "run_id": resumed,
            "failed_nodes": ["action-0"],
            "resumed_run_id": resumed_again,
            "outcome": "stopped the loop: GlueWorkflowActionsFailed",
        },
    ]


def test_status_of_a_run_the_loop_resumed_marks_each_node_run_again_or_copied(
    cli: Cli, sfn: Any, make_loop: Callable[..., str], glue: GlueRunSimulator, events_workflow: str
) -> None:
    """crawl-sales, then transform-sales, then publish-sales: transform-sales fails, and again in the
    run that resumes it. The resumed run runs it and publish-sales downstream of it; Glue copies
    crawl-sales from the first run."""
    failing = RunOutcome(node_states={"transform-sales": "FAILED"})
    glue.script(events_workflow, failing, failing)
    loop = recovering_loop(make_loop, max_attempts=1, workflow=events_workflow)
    cli("start", loop)
    wait_until_stopped(sfn, loop)

    text = cli("status", loop).out
    report = json.loads(cli("status", loop, "--json").out)

    first, resumed = (run.run_id for run in glue.runs_of(events_workflow))
    assert f"Glue run       {resumed} COMPLETED" in text, text
    assert f"Resumes run    {first}" in text
    lines = text.splitlines()
    header = next(index for index, line in enumerate(lines) if line.split()[:2] == ["node", "type"])
    rows = {line.split()[0]: re.split(r"\s{2,}", line.strip()) for line in lines[header + 1 : header + 4]}
    assert lines[header].split() == ["node", "type", "state", "in", "this", "run", "error"]
    assert rows["crawl-sales"][:4] == ["crawl-sales", "CRAWLER", "SUCCEEDED", f"copied from {first}"]
    assert rows["transform-sales"][:4] == ["transform-sales", "JOB", "FAILED", "runs again"]
    assert rows["publish-sales"][:4] == ["publish-sales", "JOB", "-", "runs again"]
    assert report["glue_run"]["resumes_run_id"] == first
    assert {node["name"]: node["copied"] for node in report["glue_run"]["nodes"]} == {
        "crawl-sales": True,
        "transform-sales": False,
        "publish-sales": False,
    }


def test_status_of_a_loop_stopped_without_recovery_marks_no_node_and_reads_as_the_guide_shows(
    cli: Cli, sfn: Any, make_loop: Callable[..., str], glue: GlueRunSimulator, events_workflow: str
) -> None:
    """docs/operations.md shows the status of examples/complete stopped on a failed job: the same labels
    and table columns as the status of a loop stopped so."""
    glue.script(events_workflow, RunOutcome(node_states={"transform-sales": "FAILED"}))
    loop = make_loop(workflow=events_workflow)
    cli("start", loop)
    wait_until_stopped(sfn, loop)

    text = cli("status", loop).out

    assert "Resumes run" not in text and "in this run" not in text and "copied" not in text
    guide = (REPO_ROOT / "docs" / "operations.md").read_text().split("stopped on a failed job in the emulator:", 1)[1]
    sample = guide.split("```\n", 1)[1].split("```", 1)[0]
    assert status_labels(sample) == status_labels(text)
    assert status_headers(sample) == status_headers(text) and len(status_headers(text)) == 2


def test_status_of_a_loop_stopped_without_recovery_lists_no_resumes(
    cli: Cli, sfn: Any, loop_machine: str, glue: GlueRunSimulator
) -> None:
    glue.script(WORKFLOW, RunOutcome(failed=1))
    cli("start", loop_machine)
    wait_until_stopped(sfn, loop_machine)

    report = json.loads(cli("status", loop_machine, "--json").out)

    assert report["last_stop"]["reason"] == "GlueWorkflowActionsFailed"
    assert report["last_stop"]["recovery_attempts"] == []
    assert "resumed" not in cli("status", loop_machine).out


def test_pause_that_waits_through_a_failed_recovery_says_how_often_the_run_was_resumed(
    cli: Cli, make_loop: Callable[..., str], glue: GlueRunSimulator
) -> None:
    again = RunOutcome(node_states={"action-0": "FAILED"})
    glue.script(WORKFLOW, RunOutcome(failed=1, running_polls=2), again, again)
    loop = recovering_loop(make_loop, max_attempts=2)
    cli("start", loop)
    wait_for(first_run_polled(glue))

    paused = cli("pause", loop, *WAIT)

    assert paused.code == 0
    ended = r"Ended after \d+ s: GlueWorkflowActionsFailed \(execution \S+ FAILED\), after resuming the run 2 times"
    assert re.fullmatch(ended, paused.out.rstrip().splitlines()[-1])
    assert len(glue.runs_of(WORKFLOW)) == 3


@pytest.mark.parametrize("handed_over", [False, True], ids=["same-execution", "successor"])
def test_status_of_a_loop_waiting_on_a_resumed_run_says_which_resume_it_is(
    cli: Cli, make_loop: Callable[..., str], glue: GlueRunSimulator, handed_over: bool
) -> None:
    glue.script(WORKFLOW, RunOutcome(failed=1), RunOutcome(running_polls=UNTIL_FINISHED))
    # A successor gets the run in flight, and the attempts with it, after 2 polls.
    loop = recovering_loop(make_loop, max_attempts=2, **({"max_polls_per_execution": 2} if handed_over else {}))
    cli("start", loop)

    def resumed_run_polled() -> bool:
        runs = glue.runs_of(WORKFLOW)
        report = json.loads(cli("status", loop, "--json").out)
        sequence = report["executions"][0]["sequence"] or 1
        return len(runs) == 2 and runs[1].polls >= 1 and report["live_recovery"] and (sequence > 1) == handed_over

    wait_for(resumed_run_polled)
    text = cli("status", loop).out
    report = json.loads(cli("status", loop, "--json").out)
    cli("stop", loop, "--stop-glue-run")

    first, resumed = (run.run_id for run in glue.runs_of(WORKFLOW))
    lines = text.splitlines()
    headline = lines.index(f"Recovery       run {resumed} (resume 1 of 2 of run {first})")
    assert lines[headline - 1].startswith("Loop           running: execution ")
    assert [line.split() for line in lines[headline + 1 : headline + 3]] == [
        ["resume", "run", "failed", "nodes", "resumed", "as", "outcome"],
        ["1", first, "action-0", resumed, "running"],
    ]
    assert report["live_recovery"] == {
        "attempts": [{"run_id": first, "failed_nodes": ["action-0"], "resumed_run_id": resumed, "outcome": "running"}],
        "max_attempts": 2,
    }


@pytest.mark.parametrize(
    ("run", "outcome"),
    [
        ({"id": "wr_b"}, "running"),
        ({"id": "wr_b", "status": "RUNNING"}, "running"),
        ({"id": "wr_b", "status": "COMPLETED"}, "ended COMPLETED"),
    ],
    ids=["not-yet-polled", "polled-running", "ended-being-judged"],
)
def test_the_last_resume_of_a_live_execution_is_running_until_its_run_is_read_ended(
    run: dict[str, str], outcome: str
) -> None:
    # State data as ResumeWorkflowRun leaves it, and as the polls and RecoveryBackoff carry it on.
    attempt = {"run_id": "wr_a", "failed_nodes": ["action-0"], "resumed_run_id": "wr_b", "node_ids": ["job-action-0"]}
    data = {"config": {"recovery": {"max_attempts": 2}}, "loop": {"recovery_attempts": [attempt]}, "run": run}

    assert live_recovery(data) == Recovery([RecoveryAttempt("wr_a", ["action-0"], "wr_b", outcome)], 2)


def test_a_live_execution_whose_run_was_not_resumed_has_no_recovery() -> None:
    assert live_recovery({"loop": {"recovery_attempts": []}, "run": {"id": "wr_a", "status": "RUNNING"}}) is None


def test_status_of_a_chain_that_ran_its_max_runs_says_max_runs(
    cli: Cli, sfn: Any, make_loop: Callable[..., str], glue: GlueRunSimulator
) -> None:
    glue.script(WORKFLOW, CLEAN, CLEAN)
    loop = make_loop(max_runs=2)
    cli("start", loop)
    *_, last = wait_until_stopped(sfn, loop)

    text = cli("status", loop).out
    report = json.loads(cli("status", loop, "--json").out)

    assert f"Last stop      max_runs (execution {last.name} SUCCEEDED" in text
    assert (report["last_stop"]["reason"], report["last_stop"]["status"]) == ("max_runs", "SUCCEEDED")


def test_start_refuses_a_second_chain_unless_forced(cli: Cli, sfn: Any, loop_machine: str) -> None:
    cli("start", loop_machine)

    refused = cli("start", loop_machine)

    assert refused.code == 1
    assert "is already running: a second chain would fight it over workflow nightly-sales" in refused.err
    assert statuses(sfn, loop_machine) == ["RUNNING"]

    forced = cli("start", loop_machine, "--force", "--input", '{"run_properties": {"market": "EU"}}')

    assert forced.code == 0 and forced.out.startswith("Started arn:aws:states:")
    assert statuses(sfn, loop_machine) == ["RUNNING", "RUNNING"]
    assert "2 executions running, chains fighting over the workflow" in cli("status", loop_machine).out


def test_pause_waits_for_the_run_in_flight_and_resume_starts_a_new_chain(
    cli: Cli, emulator: AwsEmulator, sfn: Any, loop_machine: str, glue: GlueRunSimulator
) -> None:
    ssm = emulator.client("ssm")
    glue.script(WORKFLOW, RunOutcome(running_polls=3), RunOutcome(failed=1))
    cli("start", loop_machine)
    wait_for(first_run_polled(glue))

    paused = cli("pause", loop_machine, *WAIT)

    assert paused.code == 0
    assert paused.out.startswith(f"Set {pause_parameter_of(loop_machine)} to true: execution ")
    assert " s  execution " in paused.out and "; Glue run wr_" in paused.out, "progress lines"
    assert paused.out.rstrip().splitlines()[-1].startswith("Ended after")
    assert "paused (execution " in paused.out
    assert ssm.get_parameter(Name=pause_parameter_of(loop_machine))["Parameter"]["Value"] == "true"
    assert len(glue.runs_of(WORKFLOW)) == 1
    earlier = {item["executionArn"] for item in sfn.list_executions(stateMachineArn=loop_machine)["executions"]}

    resumed = cli("resume", loop_machine)

    assert resumed.code == 0 and "to false. Started arn:aws:states:" in resumed.out
    assert ssm.get_parameter(Name=pause_parameter_of(loop_machine))["Parameter"]["Value"] == "false"
    (chain,) = wait_until_stopped(sfn, loop_machine, ignore=earlier)
    assert chain.error == "GlueWorkflowActionsFailed"


def test_resume_while_the_paused_chain_still_runs_lets_it_carry_on(
    cli: Cli, sfn: Any, loop_machine: str, glue: GlueRunSimulator
) -> None:
    cli("start", loop_machine)
    wait_for(first_run_polled(glue))
    cli("pause", loop_machine)

    resumed = cli("resume", loop_machine)

    assert resumed.code == 0 and "is still running and carries on" in resumed.out
    assert statuses(sfn, loop_machine) == ["RUNNING"]


def test_pause_of_a_loop_without_pause_parameter_is_refused(cli: Cli, make_loop: Callable[..., str]) -> None:
    result = cli("pause", make_loop(pause_parameter=""))

    assert result.code == 1
    assert "reads no pause parameter" in result.err


def test_stop_aborts_the_execution_and_stops_the_glue_run(
    cli: Cli, sfn: Any, loop_machine: str, glue: GlueRunSimulator
) -> None:
    cli("start", loop_machine)
    wait_for(first_run_polled(glue))
    run_id = glue.runs_of(WORKFLOW)[0].run_id

    result = cli("stop", loop_machine, "--stop-glue-run", *WAIT)

    assert result.code == 0
    assert "Stopped execution " in result.out
    assert f"Asked Glue to stop workflow run {run_id}." in result.out
    assert statuses(sfn, loop_machine) == ["ABORTED"]
    status = cli("status", loop_machine).out
    assert f"Glue run       {run_id} STOPPED" in status
    assert "Actions        1: 0 succeeded, 0 failed, 0 timed out, 1 stopped, 0 errored, 0 running, 0 waiting" in status
    assert any(line.split() == ["action-0", "JOB", "STOPPED"] for line in status.splitlines())
    assert "Last stop      " in status and "ABORTED" in status
    assert cli("stop", loop_machine).out == "No execution is running.\n"


@pytest.mark.parametrize(
    ("arn", "message"),
    [
        (f"arn:aws:states:us-east-1:{ACCOUNT_ID}:stateMachine:no-such-loop", "no state machine arn:aws:states:"),
        (f"arn:aws:states:us-east-1:{ACCOUNT_ID}:execution:loop:x", "is not a state machine ARN"),
    ],
    ids=["missing", "malformed"],
)
def test_wrong_arn_is_explained_without_a_traceback(cli: Cli, arn: str, message: str) -> None:
    result = cli("status", arn)

    assert result.code == 1
    assert message in result.err and result.err.count("\n") == 1


LOOP_ARN = f"arn:aws:states:us-east-1:{ACCOUNT_ID}:stateMachine:loop"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--state-machine-arn", "nightly-sales-loop"], "'nightly-sales-loop' is not a state machine ARN"),
        (
            ["--state-machine-arn", f"arn:aws:states::{ACCOUNT_ID}:stateMachine:loop"],
            "is not a state machine ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME",
        ),
        (
            ["--state-machine-arn", LOOP_ARN, "--endpoint-url", "localhost:5000"],
            "'localhost:5000' is not an http(s) URL",
        ),
    ],
    ids=["a-name", "no-region", "endpoint-without-scheme"],
)
def test_arguments_that_cannot_name_a_loop_are_refused_in_one_line_before_any_call(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["status", *arguments])

    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("glue_loop: ") and message in err and err.count("\n") == 1


def test_a_state_machine_that_is_not_a_loop_is_named_in_one_line(cli: Cli, create_machine: Callable[..., str]) -> None:
    other = create_machine("not-a-loop", {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})

    result = cli("status", other)

    assert result.code == 1
    assert result.err == "glue_loop: the definition starts no Glue workflow run: is this a glue workflow loop?\n"


def test_missing_credentials_are_explained(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for variable in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    (tmp_path / "empty").touch()
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "empty"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "empty"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    code = main(["status", "--state-machine-arn", f"arn:aws:states:eu-west-1:{ACCOUNT_ID}:stateMachine:loop"])

    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("glue_loop: no AWS credentials found") and err.count("\n") == 1


def test_unreachable_endpoint_is_explained(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    arn = f"arn:aws:states:us-east-1:{ACCOUNT_ID}:stateMachine:loop"

    code = main(["status", "--state-machine-arn", arn, "--endpoint-url", f"http://127.0.0.1:{port}"])

    assert code == 1
    assert capsys.readouterr().err.startswith(
        f'glue_loop: cannot reach the AWS endpoint: Could not connect to the endpoint URL: "http://127.0.0.1:{port}/'
    )


def test_python_dash_m_glue_loop_runs_the_cli(emulator: AwsEmulator, loop_machine: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "glue_loop",
            "status",
            "--state-machine-arn",
            loop_machine,
            "--endpoint-url",
            emulator.endpoint_url,
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert f"Workflow       {WORKFLOW}\n" in result.stdout
    assert "Loop           not running" in result.stdout


# What a fresh clone does not hold: version control, venvs, caches and build products.
NOT_IN_A_CLONE = shutil.ignore_patterns(
    ".git", ".venv*", ".build", ".terraform", "node_modules", "__pycache__", ".*_cache", "build", "*.egg-info"
)


# Session-scoped: its tests share one xdist worker (installed-cli) but not necessarily a contiguous stretch of it.
@pytest.fixture(scope="session")
def installed_cli(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pip install .` into a fresh venv that sees none of the dev venv's packages, so botocore is there
    only if the package asks for it; returns the venv."""
    root = tmp_path_factory.mktemp("installed-cli")
    # setuptools writes build/ and *.egg-info beside the sources: into a copy, not the work tree.
    source = shutil.copytree(REPO_ROOT, root / "clone", ignore=NOT_IN_A_CLONE)
    venv = root / "venv"
    # No pip of its own (ensurepip takes seconds): the dev venv's pip installs into it with --python,
    # which "will run exactly as if it had been invoked from that Python environment" (pip >= 22.3,
    # https://pip.pypa.io/en/stable/topics/python-option/).
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True, timeout=60)
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--quiet", source],
        check=True,
        timeout=600,
        env=_outside_the_dev_venv(),
    )
    return venv


def _outside_the_dev_venv() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}


def run_installed(venv: Path, *command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # Away from the checkout, so that python -m cannot find glue_loop in the working directory.
    return subprocess.run(
        [venv / "bin" / command[0], *command[1:]],
        cwd=venv,
        env={**_outside_the_dev_venv(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.xdist_group("installed-cli")
def test_pip_install_gives_a_glue_loop_command_and_python_dash_m_glue_loop(installed_cli: Path) -> None:
    command = run_installed(installed_cli, "glue-loop", "--help")
    module = run_installed(installed_cli, "python", "-m", "glue_loop", "--help")

    version = run_installed(installed_cli, "glue-loop", "--version")

    assert command.returncode == 0, command.stderr
    assert command.stdout.startswith("usage: glue-loop [-h] [--version] COMMAND ...\n")
    assert "stop the running execution(s) now" in command.stdout
    assert module.returncode == 0, module.stderr
    assert module.stdout.startswith("usage: python -m glue_loop [-h] [--version] COMMAND ...\n")
    assert version.stdout == f"glue-loop {glue_loop.__version__}\n"
    assert module.stdout.split("\n", 1)[1] == command.stdout.split("\n", 1)[1]


@pytest.mark.xdist_group("installed-cli")
def test_the_installed_glue_loop_reads_a_loop_and_exits_with_the_commands_status(
    installed_cli: Path, emulator: AwsEmulator, loop_machine: str
) -> None:
    credentials = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
    endpoint = ("--endpoint-url", emulator.endpoint_url)
    missing = loop_machine + "-missing"

    found = run_installed(
        installed_cli, "glue-loop", "status", "--state-machine-arn", loop_machine, *endpoint, env=credentials
    )
    refused = run_installed(
        installed_cli, "glue-loop", "status", "--state-machine-arn", missing, *endpoint, env=credentials
    )

    assert found.returncode == 0, found.stderr
    assert f"Workflow       {WORKFLOW}\n" in found.stdout
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"glue_loop: no state machine {missing}")


@pytest.mark.xdist_group("installed-cli")
def test_the_distribution_installs_the_cli_package_and_its_command_only(installed_cli: Path) -> None:
    (dist_info,) = installed_cli.glob("lib/python3.*/site-packages/glue_workflow_loop_cli-*.dist-info")
    installed = {line.split(",", 1)[0] for line in (dist_info / "RECORD").read_text().splitlines()}

    assert {path.split("/", 1)[0] for path in installed} == {"glue_loop", dist_info.name, ".."}
    assert {path for path in installed if path.startswith("..")} == {"../../../bin/glue-loop"}
    assert {Path(path).name for path in installed if path.startswith("glue_loop/") and path.endswith(".py")} == {
        path.name for path in (REPO_ROOT / "glue_loop").glob("*.py")
    }
