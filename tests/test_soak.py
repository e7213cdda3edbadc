"""Simulated runs with random faults, 10 in make test and 1,000 in make soak, on a workflow with a
concurrency limit of 1 and on one without: the loop never overlaps runs, never forks, never leaves
a run unwatched, and stops exactly where its policy says. Among the faults are starts and resumes
that act and then fail ("succeeded, answered 500", "succeeded, timed out"), which the loop must
adopt rather than make again."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable
from typing import Any

import pytest

from harness.emulator import AwsEmulator
from harness.glue_simulator import Fault, GlueRunSimulator, RunOutcome
from harness.loop import wait_until_stopped
from harness.sfn_faults import start_execution_times_out

# make soak sets 1,000: the same test, long enough for rare interleavings of faults to turn up.
RUNS = int(os.environ.get("SOAK_RUNS", "10"))
SEED = 20261123


@pytest.mark.long
@pytest.mark.parametrize("concurrency_limit", [1, None], ids=["limit-1", "no-limit"])
def test_runs_with_random_faults_never_overlap_never_fork_and_stop_when_the_policy_says(
    sfn: Any,
    emulator: AwsEmulator,
    make_loop: Callable[..., str],
    glue: GlueRunSimulator,
    concurrency_limit: int | None,
    stable_name: Callable[..., str],
) -> None:
    """On a workflow of its own, whose runs are the soak's alone: the loop finds a run its failed
    call made among at most 2,000 listed runs (README), and the soak makes fewer."""
    workflow = stable_name("soak", 8)
    limit = {} if concurrency_limit is None else {"MaxConcurrentRuns": concurrency_limit}
    emulator.client("glue").create_workflow(Name=workflow, **limit)
    rng = random.Random(SEED)
    polls = [0, 0, 1, 2, 7]  # some runs long enough to be handed over
    # Runs within the policy (one failed action tolerated), one in ten outside it and resumed (its
    # resumed run follows it in the script, as the simulator hands outcomes out in call order), the
    # first one always so that a short soak resumes too; then a run that ends ERROR, which no
    # recovery resumes.
    outcomes: list[RunOutcome] = []
    recoveries = 0
    for number in range(RUNS - 1):
        if number == 0 or rng.random() < 0.1:
            outcomes += [
                RunOutcome(failed=2, running_polls=rng.choice(polls)),
                RunOutcome(running_polls=rng.choice(polls)),
            ]
            recoveries += 1
        else:
            outcomes.append(RunOutcome(failed=rng.choice([0, 0, 0, 1]), running_polls=rng.choice(polls)))
    glue.script(workflow, *outcomes, RunOutcome(status="ERROR"))
    # The first start and the first resume act and then fail; any call may fail either way later.
    glue.fail_next("StartWorkflowRun", Fault("InternalServiceException", acted=True))
    glue.fail_next("ResumeWorkflowRun", Fault("OperationTimeoutException", acted=True))
    glue.fail_randomly(
        rng,
        0.03,
        "ThrottlingException",
        "InternalServiceException",
        "OperationTimeoutException",
        Fault("InternalServiceException", acted=True),
        Fault("OperationTimeoutException", acted=True),
    )
    # Some successors start, then their caller hears a timeout and retries: the first one always, so
    # that a short soak retries one too.
    with start_execution_times_out(when=lambda name: not duplicated or rng.random() < 0.03) as duplicated:
        loop = make_loop(
            workflow,
            poll_interval_seconds=0,
            runs_per_execution=5,
            max_polls_per_execution=4,
            tolerated_failed=1,
            recovery_enabled=True,
            recovery_backoff_seconds=0,
        )
        sfn.start_execution(stateMachineArn=loop, input=json.dumps({"run_properties": {"soak": "yes"}}))

        chain = wait_until_stopped(sfn, loop, timeout=3600)

    runs = glue.runs_of(workflow)
    assert len(runs) == RUNS + recoveries, "a start or resume was made twice, or a run never started"
    assert glue.overlapping_starts == []
    assert [run.run_id for run in runs if not run.seen_ended] == [], "runs the loop never saw end"
    assert glue.calls.count("GetWorkflow") > 0, "the soak should have looked for a run a failed call made"
    assert duplicated, "the soak should have retried some successor starts"
    assert [execution.input.get("sequence", 1) for execution in chain] == list(range(1, len(chain) + 1))
    assert [execution.input.get("AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID") for execution in chain[1:]] == [
        execution.arn for execution in chain[:-1]
    ]
    assert all(execution.status == "SUCCEEDED" for execution in chain[:-1])
    assert chain[-1].error == "GlueWorkflowRunErrored"
    assert f"(run number {RUNS})" in (chain[-1].cause or "")
    assert any(execution.input.get("resume_run_id") for execution in chain), "some runs were handed over"
    started = [run for run in runs if not run.restarted]
    assert len(started) == RUNS
    assert {run.properties["soak"] for run in started} == {"yes"}
