"""Simulated runs with random faults, 50 in make test and 1,000 in make soak: the loop never overlaps
runs, never forks, and stops exactly where its policy says."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable
from typing import Any

import pytest

from conftest import WORKFLOW
from harness.glue_simulator import GlueRunSimulator, RunOutcome
from harness.loop import wait_until_stopped
from harness.sfn_faults import start_execution_times_out

# make soak sets 1,000: the same test, long enough for rare interleavings of faults to turn up.
RUNS = int(os.environ.get("SOAK_RUNS", "20"))
SEED = 20261123


@pytest.mark.long
def test_runs_with_random_faults_never_overlap_never_fork_and_stop_when_the_policy_says(
    sfn: Any, make_loop: Callable[..., str], glue: GlueRunSimulator
) -> None:
    rng = random.Random(SEED)
    # Runs within the policy (one failed action tolerated, some long enough to be handed over),
    # then the first one outside it.
    outcomes = [
        RunOutcome(failed=rng.choice([0, 0, 0, 1]), running_polls=rng.choice([0, 0, 1, 2, 7])) for _ in range(RUNS - 1)
    ]
    glue.script(WORKFLOW, *outcomes, RunOutcome(failed=2))
    glue.fail_randomly(rng, 0.03, "ThrottlingException", "InternalServiceException", "OperationTimeoutException")
    # Some successors start, then their caller hears a timeout and retries: the first one always, so
    # that a short soak retries one too.
    with start_execution_times_out(when=lambda name: not duplicated or rng.random() < 0.03) as duplicated:
        loop = make_loop(poll_interval_seconds=0, runs_per_execution=5, max_polls_per_execution=4, tolerated_failed=1)
        sfn.start_execution(stateMachineArn=loop, input=json.dumps({"run_properties": {"soak": "yes"}}))

        chain = wait_until_stopped(sfn, loop, timeout=1800)

    runs = glue.runs_of(WORKFLOW)
    assert len(runs) == RUNS
    assert glue.overlapping_starts == []
    assert duplicated, "the soak should have retried some successor starts"
    assert [execution.input.get("sequence", 1) for execution in chain] == list(range(1, len(chain) + 1))
    assert [execution.input.get("AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID") for execution in chain[1:]] == [
        execution.arn for execution in chain[:-1]
    ]
    assert all(execution.status == "SUCCEEDED" for execution in chain[:-1])
    assert chain[-1].error == "GlueWorkflowActionsFailed"
    assert f"(run number {RUNS})" in (chain[-1].cause or "")
    assert any(execution.input.get("resume_run_id") for execution in chain), "some runs were handed over"
    assert {run.properties["soak"] for run in runs} == {"yes"}
