"""make bench: history events and state transitions of the loop, measured in the emulator.

Waits take no time here (poll interval 0), so hours of polling run in seconds; every count below
comes from real execution histories, except where a row says it repeats a measured execution.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from harness.asl import with_config
from harness.emulator import REGION, AwsEmulator
from harness.glue_simulator import GlueRunSimulator, RunOutcome
from harness.loop import Execution, history_events, wait_until_stopped
from harness.plans import rendered_definition
from harness.report import format_table
from harness.terraform import TerraformWorkspace

WORKFLOW = "bench"
QUOTA = 25_000
RUN_LENGTHS = {"1 h": 3600, "12 h": 12 * 3600, "48 h": 48 * 3600, "7 d": 7 * 24 * 3600}
POLL_INTERVALS = (10, 60)
# Rows with more polls than this repeat a measured full-budget execution instead of running.
MOST_POLLS_RUN = 5000


class Bench:
    def __init__(self, emulator: AwsEmulator, glue: GlueRunSimulator, definition: dict[str, Any]) -> None:
        self.sfn = emulator.client("stepfunctions")
        self.glue = glue
        self.definition = definition
        emulator.client("glue").create_workflow(Name=WORKFLOW, MaxConcurrentRuns=1)

    def chain(self, polls: int, **settings: int) -> list[Execution]:
        """Executions of one run polled ``polls`` times that ends failed (so the chain stops)."""
        arn = self.sfn.create_state_machine(
            name=f"bench-{uuid.uuid4().hex[:8]}",
            definition=json.dumps(with_config(self.definition, poll_interval_seconds=0, **settings)),
            roleArn="arn:aws:iam::123456789012:role/bench",
        )["stateMachineArn"]
        self.glue.script(WORKFLOW, RunOutcome(failed=1, running_polls=polls - 1))
        self.sfn.start_execution(stateMachineArn=arn, input="{}")
        return wait_until_stopped(self.sfn, arn, timeout=3600)

    def events(self, execution: Execution) -> list[dict[str, Any]]:
        return history_events(self.sfn, execution.arn)


def transitions(events: list[dict[str, Any]]) -> int:
    return sum(1 for event in events if event["type"].endswith("StateEntered"))


def main() -> int:
    started = time.monotonic()
    emulator = AwsEmulator(quiet=True)
    with pytest.MonkeyPatch.context() as patch, tempfile.TemporaryDirectory() as workdir:
        glue = GlueRunSimulator()
        glue.install(patch)
        workspace = TerraformWorkspace(Path(workdir), ".", emulator.endpoint_url, REGION)
        workspace.init()
        plan = workspace.plan({"name": "bench", "glue_workflow_name": WORKFLOW})
        budget = plan["planned_values"]["outputs"]["max_polls_per_execution"]["value"]
        bench = Bench(emulator, glue, rendered_definition(plan))

        short = bench.events(bench.chain(1)[0])
        longer = bench.events(bench.chain(101)[0])
        base, per_poll = len(short) - 11, (len(longer) - len(short)) / 100
        full_events = len(bench.events(bench.chain(budget + 1)[0]))
        print(f"History budget: {budget} polls per execution (module default)")
        print(f"History events per poll: {per_poll:g}; of a run polled once: {len(short)}")
        per_poll_transitions = (transitions(longer) - transitions(short)) / 100
        print(f"State transitions of a run polled once: {transitions(short)}", end="; ")
        print(f"per poll: {per_poll_transitions:g}")
        print(f"Events of an execution that spends the whole budget: {full_events} (AWS quota {QUOTA})\n")

        header = (
            "run",
            "poll",
            "polls",
            "executions",
            "most events in one",
            "state transitions",
            "no handoff: events",
        )
        rows = [header]
        for label, seconds in RUN_LENGTHS.items():
            for interval in POLL_INTERVALS:
                polls = seconds // interval
                if polls <= MOST_POLLS_RUN:
                    histories = [bench.events(execution) for execution in bench.chain(polls)]
                    executions, most = str(len(histories)), str(max(map(len, histories)))
                    states = sum(map(transitions, histories))
                else:
                    executions = f"{math.ceil(polls / budget)} *"
                    most, states = f"{full_events} *", None
                baseline = base + per_poll * polls
                no_handoff = f"{baseline:,.0f}" + (" (over quota: dies)" if baseline > QUOTA else "")
                rows.append(
                    (
                        label,
                        f"{interval} s",
                        f"{polls:,}",
                        executions,
                        most,
                        f"{states:,}" if states else "-",
                        no_handoff,
                    )
                )
        print(format_table(rows, numbers=True))
        print(f"\n* {MOST_POLLS_RUN:,}+ polls: every execution but the last spends the budget, so it repeats the")
        print("  measured full-budget execution above; the no-handoff column is its measured base + per-poll count.")
        print(f"Took {time.monotonic() - started:.0f} s.")
    emulator.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
