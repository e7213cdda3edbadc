"""Recovery before stopping: a run that ends COMPLETED with failed nodes is resumed with ResumeWorkflowRun."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conftest import WORKFLOW
from harness.glue_simulator import CLEAN, GlueRunSimulator, RunOutcome
from harness.loop import run_to_end


def test_smoke(sfn: Any, make_loop: Callable[..., str], glue: GlueRunSimulator) -> None:
    glue.script(WORKFLOW, RunOutcome(failed=1), CLEAN, CLEAN)
    loop = make_loop(recovery_enabled=True, recovery_backoff_seconds=0, max_runs=2, runs_per_execution=5)
    ended = run_to_end(sfn, loop)
    print(ended)
    print(glue.calls)
    print([(r.run_id, r.status) for r in glue.runs_of(WORKFLOW)])
    assert ended["status"] == "SUCCEEDED"
