"""The rendered state machine running in moto against scripted Glue runs."""

from __future__ import annotations

import json
from typing import Any

from conftest import WORKFLOW
from harness.glue_simulator import CLEAN, GlueRunSimulator, RunOutcome
from harness.loop import wait_until_stopped


def start(sfn: Any, arn: str, **execution_input: Any) -> None:
    sfn.start_execution(stateMachineArn=arn, input=json.dumps(execution_input))


def test_clean_run_starts_exactly_one_successor_with_the_next_run_number(
    sfn: Any, loop_machine: str, glue: GlueRunSimulator
) -> None:
    glue.script(WORKFLOW, CLEAN, RunOutcome(failed=1))
    start(sfn, loop_machine, run_properties={"market": "EU"})

    first, second = wait_until_stopped(sfn, loop_machine)

    assert first.status == "SUCCEEDED"
    assert second.status == "FAILED"
    assert second.input["run_properties"] == {"market": "EU"}
    assert second.input["run_number"] == 2
    assert [run.properties for run in glue.runs_of(WORKFLOW)] == [{"market": "EU"}] * 2
