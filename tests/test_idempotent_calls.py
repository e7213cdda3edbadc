"""Exactly one run whatever Glue answers: StartWorkflowRun and ResumeWorkflowRun take no idempotency
token, and a server error or a timeout may come after either acted. The loop then looks for the
run the call made (by its run context, or by the resumed run's id as PreviousRunId) and adopts it,
and makes the call again only when there is none; with and without a concurrency limit."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from conftest import WORKFLOW
from harness.emulator import AwsEmulator
from harness.glue_simulator import CLEAN, Fault, GlueRunSimulator, RunOutcome
from harness.loop import entered_states, wait_until_stopped

MakeLoop = Callable[..., str]
# The codes Glue documents for StartWorkflowRun and ResumeWorkflowRun that are not refusals
# (API reference, "StartWorkflowRun", "ResumeWorkflowRun": Errors).
AMBIGUOUS = ["InternalServiceException", "OperationTimeoutException"]
# Each code once with a concurrency limit of 1 and once without one, in two tests.
CODE_AND_LIMIT = pytest.mark.parametrize(
    ("code", "concurrency_limit"),
    [(AMBIGUOUS[0], 1), (AMBIGUOUS[1], None)],
    ids=["500-limit-1", "timeout-no-limit"],
    indirect=["concurrency_limit"],
)
OTHER_CODE_AND_LIMIT = pytest.mark.parametrize(
    ("code", "concurrency_limit"),
    [(AMBIGUOUS[1], 1), (AMBIGUOUS[0], None)],
    ids=["timeout-limit-1", "500-no-limit"],
    indirect=["concurrency_limit"],
)
PAGE = 50  # runs a page of FindRunOfFailedCall's GetWorkflowRuns


def start(sfn: Any, arn: str) -> None:
    sfn.start_execution(stateMachineArn=arn, input=json.dumps({}))


def unwatched(glue: GlueRunSimulator) -> list[str]:
    """Runs of WORKFLOW that the loop never read ended."""
    return [run.run_id for run in glue.runs_of(WORKFLOW) if not run.seen_ended]


def finished_runs_by_hand(emulator: AwsEmulator, glue: GlueRunSimulator, count: int) -> list[str]:
    """Start ``count`` runs of WORKFLOW outside the loop and end them: runs the look must read past."""
    client = emulator.client("glue")
    glue.script(WORKFLOW, *[CLEAN] * count)
    run_ids = []
    for _ in range(count):  # one at a time: WORKFLOW allows one run at once, as Glue would
        run_ids.append(client.start_workflow_run(Name=WORKFLOW)["RunId"])
        glue.finish(run_ids[-1], status_lag=0)
    glue.calls.clear()  # the test counts the loop's calls only
    return run_ids


def listed_pages(emulator: AwsEmulator) -> Any:
    """GetWorkflowRuns' pages of WORKFLOW's runs, as the loop reads them."""
    return (
        emulator.client("glue")
        .get_paginator("get_workflow_runs")
        .paginate(Name=WORKFLOW, PaginationConfig={"PageSize": PAGE})
    )


def listed_page(emulator: AwsEmulator, run_id: str) -> int:
    """The page of GetWorkflowRuns (1 for the first) on which ``run_id`` is listed."""
    for number, page in enumerate(listed_pages(emulator), start=1):
        if run_id in [run["WorkflowRunId"] for run in page["Runs"]]:
            return number
    raise KeyError(run_id)


@CODE_AND_LIMIT
def test_a_start_that_fails_after_it_acted_is_adopted_and_never_made_twice(
    sfn: Any, make_loop: MakeLoop, glue: GlueRunSimulator, concurrency_limit: int | None, code: str
) -> None:
    loop = make_loop(max_runs=2)
    glue.script(WORKFLOW, CLEAN, CLEAN)
    glue.fail_next("StartWorkflowRun", Fault(code, acted=True))
    start(sfn, loop)

    first, second = wait_until_stopped(sfn, loop)

    adopted, next_run = glue.runs_of(WORKFLOW)
    assert glue.calls.count("StartWorkflowRun") == 2
    assert glue.overlapping_starts == [] and unwatched(glue) == []
    assert entered_states(sfn, first.arn).count("AdoptStartedRun") == 1
    assert glue.calls.count("GetWorkflowRuns") == 0  # the workflow's last run was the one sought
    assert adopted.properties["glue_loop_run_number"] == "1"
    assert second.input["previous_run"]["id"] == adopted.run_id
    assert (second.output or {})["run"]["id"] == next_run.run_id
    assert (second.output or {})["stop_reason"] == "max_runs"


def test_a_start_refused_with_a_server_error_is_made_again_once_every_page_shows_no_run_of_it(
    sfn: Any, emulator: AwsEmulator, make_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    earlier = finished_runs_by_hand(emulator, glue, PAGE + 10)
    pages = sum(1 for _ in listed_pages(emulator))  # moto keeps the runs of earlier tests too
    glue.calls.clear()
    loop = make_loop(max_runs=1)
    glue.script(WORKFLOW, CLEAN)
    glue.fail_next("StartWorkflowRun", "InternalServiceException")
    start(sfn, loop)

    (only,) = wait_until_stopped(sfn, loop)

    *_, started = glue.runs_of(WORKFLOW)
    assert len(glue.runs_of(WORKFLOW)) == len(earlier) + 1
    assert glue.calls.count("StartWorkflowRun") == 2
    assert pages >= 2
    assert glue.calls.count("GetWorkflowRuns") == pages  # every page of the runs before
    assert (only.output or {})["run"]["id"] == started.run_id
    assert (only.output or {})["stop_reason"] == "max_runs"


@pytest.mark.parametrize("concurrency_limit", [None], indirect=True)
def test_the_look_reads_pages_until_it_finds_the_run_a_failed_start_made_when_another_run_started_since(
    sfn: Any, emulator: AwsEmulator, make_loop: MakeLoop, glue: GlueRunSimulator, concurrency_limit: None
) -> None:
    finished_runs_by_hand(emulator, glue, PAGE + 10)
    loop = make_loop(max_runs=1)
    glue.script(WORKFLOW, CLEAN, CLEAN)
    someone_elses: list[str] = []

    def start_a_run_by_hand() -> None:
        someone_elses.append(emulator.client("glue").start_workflow_run(Name=WORKFLOW)["RunId"])

    glue.fail_next("StartWorkflowRun", Fault("InternalServiceException", acted=True, meanwhile=start_a_run_by_hand))
    start(sfn, loop)

    (only,) = wait_until_stopped(sfn, loop)
    glue.finish(someone_elses[0], status_lag=0)

    *_, adopted, _ = glue.runs_of(WORKFLOW)
    assert adopted.properties["glue_loop_chain_id"] == (only.output or {})["loop"]["chain_id"]
    assert glue.calls.count("StartWorkflowRun") == 2  # the loop's and the one by hand
    assert "FindRunInFlight" in entered_states(sfn, only.arn)  # the last run first: not the loop's
    assert glue.calls.count("GetWorkflowRuns") == listed_page(emulator, adopted.run_id)
    assert (only.output or {})["run"]["id"] == adopted.run_id


def test_a_run_the_look_cannot_see_yet_stops_the_loop_as_uncertain_when_the_limit_refuses_the_start_made_again(
    sfn: Any, make_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    """AWS does not say how soon GetWorkflow's LastRun or GetWorkflowRuns shows a new run. A start
    that acted is then not found, the call made again is refused at the limit of 1 by a run the loop
    cannot name, which may be its own: it stops, saying what to look for, and starts nothing more."""
    glue.listing_lag_seconds = 600
    loop = make_loop(max_runs=1, adopt_run_in_flight=False)
    glue.script(WORKFLOW, CLEAN)
    glue.fail_next("StartWorkflowRun", Fault("OperationTimeoutException", acted=True))
    start(sfn, loop)

    (only,) = wait_until_stopped(sfn, loop)

    (started,) = glue.runs_of(WORKFLOW)
    glue.finish(started.run_id, status_lag=0)
    assert glue.calls.count("StartWorkflowRun") == 2
    assert only.error == "GlueWorkflowRunUncertain"
    assert "is unknown, as the call made again was refused at the concurrency limit by a run that GetWorkflow" in (
        only.cause
    )
    assert only.cause.endswith(
        f"glue_loop_chain_id {started.properties['glue_loop_chain_id']} and glue_loop_run_number 1"
    )


def test_a_start_whose_run_cannot_be_looked_for_stops_the_loop_rather_than_risk_a_second_run(
    sfn: Any, make_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    loop = make_loop()
    glue.script(WORKFLOW, CLEAN)
    glue.fail_next("StartWorkflowRun", Fault("InternalServiceException", acted=True))
    glue.fail_next("GetWorkflow", "AccessDeniedException")
    start(sfn, loop)

    (only,) = wait_until_stopped(sfn, loop)

    (started,) = glue.runs_of(WORKFLOW)
    chain_id = started.properties["glue_loop_chain_id"]
    assert glue.calls.count("StartWorkflowRun") == 1
    assert only.error == "GlueWorkflowRunUncertain"
    assert only.cause.startswith(
        f"Glue workflow {WORKFLOW}: StartWorkflowRun failed with Glue.InternalServiceException: "
    )
    assert f"whether it started run number 1 of chain {chain_id} is unknown, as looking for it failed with " in (
        only.cause
    )
    assert only.cause.endswith(
        f"look for a run whose run properties hold glue_loop_chain_id {chain_id} and glue_loop_run_number 1"
    )


@OTHER_CODE_AND_LIMIT
def test_a_resume_that_fails_after_it_acted_is_adopted_and_never_made_twice(
    sfn: Any, make_loop: MakeLoop, glue: GlueRunSimulator, concurrency_limit: int | None, code: str
) -> None:
    loop = make_loop(max_runs=2, recovery_enabled=True, recovery_backoff_seconds=0)
    glue.script(WORKFLOW, RunOutcome(failed=1), CLEAN, CLEAN)  # the run, its resume, the next run
    glue.fail_next("ResumeWorkflowRun", Fault(code, acted=True))
    start(sfn, loop)

    first, second = wait_until_stopped(sfn, loop)

    failed, resumed, next_run = glue.runs_of(WORKFLOW)
    assert glue.calls.count("ResumeWorkflowRun") == 1
    assert glue.overlapping_starts == [] and unwatched(glue) == []
    assert resumed.restarted == ("action-0",)
    assert second.input["previous_run"]["id"] == resumed.run_id
    assert (second.output or {})["run"]["id"] == next_run.run_id
    assert (second.output or {})["stop_reason"] == "max_runs"
    assert "RecordRecoveryAttempt" in entered_states(sfn, first.arn)
    assert failed.seen_ended


def test_a_resume_refused_with_a_server_error_is_made_again_once_no_resumed_run_is_found(
    sfn: Any, make_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    loop = make_loop(max_runs=1, recovery_enabled=True, recovery_backoff_seconds=0)
    glue.script(WORKFLOW, RunOutcome(failed=1), CLEAN)
    glue.fail_next("ResumeWorkflowRun", "InternalServiceException")
    start(sfn, loop)

    (only,) = wait_until_stopped(sfn, loop)

    failed, resumed = glue.runs_of(WORKFLOW)
    assert glue.calls.count("ResumeWorkflowRun") == 2
    assert (only.output or {})["run"]["id"] == resumed.run_id
    assert [(a["run_id"], a["resumed_run_id"]) for a in (only.output or {})["loop"]["recovery_attempts"]] == [
        (failed.run_id, resumed.run_id)
    ]
    assert unwatched(glue) == []


def test_a_resume_that_keeps_failing_stops_after_six_calls_naming_the_last_error(
    sfn: Any, make_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    loop = make_loop(recovery_enabled=True, recovery_backoff_seconds=0, look_backoff_seconds=0)
    glue.script(WORKFLOW, RunOutcome(failed=1))
    glue.fail_next("ResumeWorkflowRun", *["OperationTimeoutException"] * 6)
    start(sfn, loop)

    (only,) = wait_until_stopped(sfn, loop, timeout=180)

    (failed,) = glue.runs_of(WORKFLOW)
    assert glue.calls.count("ResumeWorkflowRun") == 6
    assert only.error == "GlueWorkflowRunNotResumed"
    assert "ResumeWorkflowRun failed with Glue.OperationTimeoutException" in only.cause
    assert f"run {failed.run_id} (run number 1) ended with nodes that did not succeed" in only.cause
