"""make bench: history events, state transitions and detection delay of the loop in both
completion modes, measured in the emulator.

Poll waits take no time here (poll interval 0), so hours of polling run in seconds; every count
below comes from real execution histories, except where a row says it repeats or extends a
measured execution. Events mode's safety poll cannot be shorter than 1 s, so its long rows are
extended from a measured per-safety-poll count. Delays are wall-clock seconds in the emulator.
"""

from __future__ import annotations

import json
import math
import statistics
import tempfile
import threading
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import comparison
from harness.asl import with_config
from harness.emulator import ACCOUNT_ID, REGION, AwsEmulator
from harness.eventbridge import EventsLoop, create_events_loop, s3_object_created, wait_for_token
from harness.glue_simulator import CLEAN, IDLE, UNTIL_FINISHED, GlueRunSimulator, RunOutcome, state_change_events
from harness.loop import (
    Execution,
    entered_states,
    history_events,
    judged_at,
    newest_execution_in,
    transitions,
    wait_for,
    wait_until_stopped,
)
from harness.plans import rendered_definition
from harness.report import format_table
from harness.terraform import REPO_ROOT, TerraformWorkspace

WORKFLOW = "bench"
QUOTA = 25_000
RUN_LENGTHS = {"1 h": 3600, "12 h": 12 * 3600, "48 h": 48 * 3600, "7 d": 7 * 24 * 3600}
POLL_INTERVALS = (10, 60)
# Rows with more polls than this repeat a measured full-budget execution instead of running.
MOST_POLLS_RUN = 5000


# The bench workflow has no triggers: the simulator names its three actions action-0..2 (one
# fails, so that every measured chain stops after its one run).
EVENTS_SETTINGS = {
    "completion_mode": "events",
    "completion_events": {"job_names": ["action-0", "action-1", "action-2"]},
}
# Events mode's default safety poll, and the poll interval events mode is set beside.
SAFETY_POLL = 300
DELAY_POLL_INTERVAL = 2
DELAY_SAMPLES = 4
# Seconds a run reads RUNNING after its last node's event (AWS does not document the order), and
# the detection delay events mode aims at: the callback watches such a run, so at most lag + 10 s.
STATUS_LAGS = (0, 2, 10)
LAG_SAMPLES = 3
LAG_DELAY_GOAL = 10
ENDS_BY_EVENT = RunOutcome(failed=1, running_polls=UNTIL_FINISHED)
WAKE_SETTINGS = {"pacing": {"enabled": True}, "wake_on_data": {"enabled": True, "bucket_name": "bench-landing"}}
COMPARISON_PLOT = REPO_ROOT / "docs" / "comparison.svg"
# The headers of the tables the bench prints (docs/design.md shows them; tests/test_docs.py holds it to them).
RUN_LENGTHS_HEADER = (
    "run",
    "poll",
    "polls",
    "executions",
    "most events in one",
    "state transitions",
    "no handoff: events",
)
LAG_HEADER = ("status lag", "mean delay", "worst delay", f"goal: worst <= lag + {LAG_DELAY_GOAL} s")
MODES_HEADER = ("run", "mode", "run reads (loop + callbacks)", "state transitions", "callback executions")


class Bench:
    def __init__(self, emulator: AwsEmulator, glue: GlueRunSimulator, definition: dict[str, Any]) -> None:
        self.emulator = emulator
        self.sfn = emulator.client("stepfunctions")
        self.glue = glue
        self.definition = definition
        emulator.client("glue").create_workflow(Name=WORKFLOW, MaxConcurrentRuns=1)

    def machine(self, name: str, definition: dict[str, Any], machine_type: str = "STANDARD") -> str:
        arn: str = self.sfn.create_state_machine(
            name=name,
            definition=json.dumps(definition),
            roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/bench",
            type=machine_type,
        )["stateMachineArn"]
        return arn

    def run(self, arn: str) -> list[Execution]:
        self.sfn.start_execution(stateMachineArn=arn, input="{}")
        return wait_until_stopped(self.sfn, arn, timeout=3600)

    def chain(self, polls: int, **settings: int) -> list[Execution]:
        """Executions of one run polled ``polls`` times that ends failed (so the chain stops)."""
        name = f"bench-{uuid.uuid4().hex[:8]}"
        arn = self.machine(name, with_config(self.definition, poll_interval_seconds=0, **settings))
        self.glue.script(WORKFLOW, RunOutcome(failed=1, running_polls=polls - 1))
        return self.run(arn)

    def last_run(self, *outcomes: RunOutcome) -> Execution:
        """The one execution of a chain whose first clean run is its last (max_runs 1), with
        recovery on and no backoff, its runs ending as ``outcomes`` say (a resumed run included)."""
        name = f"bench-{uuid.uuid4().hex[:8]}"
        settings: dict[str, bool | int] = {"recovery_enabled": True, "recovery_backoff_seconds": 0, "max_runs": 1}
        arn = self.machine(name, with_config(self.definition, poll_interval_seconds=0, **settings))
        self.glue.script(WORKFLOW, *outcomes)
        (execution,) = self.run(arn)
        return execution

    def events_loop(self, planned: dict[str, Any], **settings: int) -> EventsLoop:
        name = f"bench-{uuid.uuid4().hex[:8]}"
        definition = with_config(rendered_definition(planned), **settings)
        return create_events_loop(self.emulator, planned, name, definition, self.machine)

    def events(self, execution: Execution) -> list[dict[str, Any]]:
        return history_events(self.sfn, execution.arn)

    def poll_detection_delay(self, offset: float) -> float:
        """Seconds from the run's end, ``offset`` s after it starts, to the poll that sees it."""
        arn = self.machine(
            f"bench-{uuid.uuid4().hex[:8]}", with_config(self.definition, poll_interval_seconds=DELAY_POLL_INTERVAL)
        )
        self.glue.script(WORKFLOW, ENDS_BY_EVENT)
        runs_before = len(self.glue.runs_of(WORKFLOW))
        self.sfn.start_execution(stateMachineArn=arn, input="{}")
        while len(self.glue.runs_of(WORKFLOW)) == runs_before:
            time.sleep(0.01)
        time.sleep(offset)
        ended = datetime.now(UTC)
        self.glue.finish(self.glue.runs_of(WORKFLOW)[-1].run_id)
        (execution,) = wait_until_stopped(self.sfn, arn)
        return (judged_at(self.sfn, execution.arn) - ended).total_seconds()

    def waiting_events_loop(self, planned: dict[str, Any], safety_poll_seconds: int) -> tuple[EventsLoop, str]:
        """An events mode loop started on a run that ends only when told, once it waits on the
        run; and the run's id."""
        loop = self.events_loop(planned, safety_poll_seconds=safety_poll_seconds)
        self.glue.script(WORKFLOW, ENDS_BY_EVENT)
        runs_before = len(self.glue.runs_of(WORKFLOW))
        self.sfn.start_execution(stateMachineArn=loop.arn, input="{}")
        dynamodb = self.emulator.client("dynamodb")
        return loop, wait_for_token(dynamodb, loop.token_table, self.glue, WORKFLOW, runs_before + 1)

    def event_detection_delay(self, planned: dict[str, Any], status_lag: float = 0) -> float:
        """Seconds from the run's end (its last node's event sent) to the loop judging it, the run
        reading RUNNING for ``status_lag`` seconds after the event."""
        loop, run_id = self.waiting_events_loop(planned, safety_poll_seconds=3600)
        ended = datetime.now(UTC)
        run = self.glue.finish(run_id, status_lag)
        threading.Thread(target=loop.delivery.deliver, args=(state_change_events(run)[-1],)).start()
        (execution,) = wait_until_stopped(self.sfn, loop.arn)
        return (judged_at(self.sfn, execution.arn) - ended).total_seconds()

    def safety_polls(self, execution: Execution) -> int:
        """The waits of an events mode execution that timed out (one run, woken once)."""
        return entered_states(self.sfn, execution.arn).count("WaitForRun") - 1

    def events_chain(self, planned: dict[str, Any], safety_polls: int) -> tuple[list[Execution], int]:
        """Events mode executions of one run whose end is missed by ``safety_polls`` safety polls
        (1 s each here) and then sent as events; and the callback executions it took."""
        loop, run_id = self.waiting_events_loop(planned, safety_poll_seconds=1)
        (listed,) = self.sfn.list_executions(stateMachineArn=loop.arn)["executions"]
        # Events sent before the loop waits again would find the token of the wait that timed out.
        wait_for(
            lambda: entered_states(self.sfn, listed["executionArn"]).count("WaitForRun") > safety_polls, timeout=120
        )
        run = self.glue.finish(run_id)
        callbacks = [loop.delivery.deliver(event) for event in state_change_events(run)]
        return wait_until_stopped(self.sfn, loop.arn), sum(1 for arn in callbacks if arn)


def print_recovered_run(bench: Bench) -> None:
    """History events and state transitions of a run that fails once, is resumed and then
    succeeds, each run polled once, beside those of a run that succeeds at once."""
    recovered = bench.events(bench.last_run(RunOutcome(failed=1), CLEAN))
    clean = bench.events(bench.last_run(CLEAN))
    added = len(recovered) - len(clean), transitions(recovered) - transitions(clean)
    print(
        f"A run that fails once, is resumed and succeeds (each run polled once): {len(recovered)} history events,",
        end=" ",
    )
    print(f"{transitions(recovered)} state transitions; a clean run: {len(clean)} and {transitions(clean)},", end=" ")
    print(f"so a recovery attempt adds {added[0]} and {added[1]}")


def print_lag_delays(bench: Bench, events_plan: dict[str, Any]) -> None:
    """Events mode's detection delay when the run still reads RUNNING for a while after its last
    node's event: the callback watches it (completion_events.callback_watch_seconds)."""
    print(f"Events mode, the run reading RUNNING for a lag after its last event ({LAG_SAMPLES} runs each):")
    rows = [LAG_HEADER]
    for lag in STATUS_LAGS:
        delays = [bench.event_detection_delay(events_plan, lag) for _ in range(LAG_SAMPLES)]
        met = "met" if max(delays) <= lag + LAG_DELAY_GOAL else "MISSED"
        rows.append((f"{lag} s", f"{statistics.mean(delays):.2f} s", f"{max(delays):.2f} s", met))
    print(format_table(rows, numbers=True) + "\n")


def compare_modes(
    bench: Bench, events_plan: dict[str, Any], poll_base: float, per_poll: float
) -> tuple[float, float, float]:
    """Poll mode against events mode; ``poll_base`` and ``per_poll`` are the state transitions
    of a run and of each poll, measured by main(). Returns events mode's state transitions of a
    run and of a safety poll, and its mean detection delay."""
    print(f"\nCompletion modes: poll every 60 s or 10 s, or events with the default {SAFETY_POLL} s safety poll\n")
    poll_delays = [bench.poll_detection_delay(DELAY_POLL_INTERVAL * (i + 0.5) / DELAY_SAMPLES) for i in range(4)]
    event_delays = [bench.event_detection_delay(events_plan) for _ in range(DELAY_SAMPLES)]
    overhead = statistics.mean(poll_delays) - DELAY_POLL_INTERVAL / 2
    print(f"Detection delay after the run's last node ends, mean of {DELAY_SAMPLES} in the emulator:")
    print(f"  poll every {DELAY_POLL_INTERVAL} s: {statistics.mean(poll_delays):.2f} s (max {max(poll_delays):.2f} s),")
    at_60, at_10 = 30 + overhead, 5 + overhead
    print(f"    half the interval plus {overhead:.2f} s: about {at_60:.1f} s at 60 s, {at_10:.1f} s at 10 s")
    print(f"  events: {statistics.mean(event_delays):.2f} s (max {max(event_delays):.2f} s)", end="")
    print(", plus EventBridge's own delivery time on AWS\n")
    print_lag_delays(bench, events_plan)

    (one_poll,), _ = bench.events_chain(events_plan, 1)
    (three_polls,), callbacks = bench.events_chain(events_plan, 3)
    # A 1 s safety poll may time out once more before the callback wakes the loop: count them.
    polls_of_one, polls_of_three = (bench.safety_polls(execution) for execution in (one_poll, three_polls))
    per_safety_poll = (transitions(bench.events(three_polls)) - transitions(bench.events(one_poll))) / (
        polls_of_three - polls_of_one
    )
    base = transitions(bench.events(one_poll)) - per_safety_poll * polls_of_one
    print(f"State transitions of a run: poll mode {poll_base:g} + {per_poll:g} per poll;", end=" ")
    print(f"events mode {base:g} + {per_safety_poll:g} per safety poll")
    print(f"Callback executions (EXPRESS) per run: one per job or crawler event, {callbacks} for this 3-action run\n")

    rows = [MODES_HEADER]
    for label in ("1 h", "48 h"):
        seconds = RUN_LENGTHS[label]
        for interval in (60, 10):
            polls = seconds // interval
            rows.append((label, f"poll {interval} s", f"{polls:,} + 0", f"{poll_base + per_poll * polls:,.0f} *", "0"))
        safety_polls = seconds // SAFETY_POLL
        if safety_polls <= 12:
            (execution,), _ = bench.events_chain(events_plan, safety_polls)
            measured = f"{transitions(bench.events(execution)):,}"
        else:
            measured = f"{base + per_safety_poll * safety_polls:,.0f} *"
        rows.append((label, "events", f"{safety_polls:,} + {callbacks}", measured, str(callbacks)))
    print(format_table(rows, numbers=True))
    print("\nRun reads: GetWorkflowRun calls; in events mode the safety polls, plus one per job or crawler event.")
    print("* measured base + per-poll (or per-safety-poll) count; unmarked rows ran in full.")
    return base, per_safety_poll, statistics.mean(event_delays)


def measure_wake(bench: Bench, wake_plan: dict[str, Any]) -> tuple[float, float]:
    """wake_on_data: seconds from new data's event, sent while the loop waits after an idle run,
    to the start of the run it wakes; and the state transitions of that run's execution."""
    loop = bench.events_loop(wake_plan, safety_poll_seconds=3600, pacing_initial_seconds=600)
    assert loop.data_delivery is not None
    idle = replace(IDLE, running_polls=UNTIL_FINISHED)
    bench.glue.script(WORKFLOW, idle, ENDS_BY_EVENT)
    runs_before = len(bench.glue.runs_of(WORKFLOW))
    bench.sfn.start_execution(stateMachineArn=loop.arn, input="{}")
    dynamodb = bench.emulator.client("dynamodb")
    first = bench.glue.finish(wait_for_token(dynamodb, loop.token_table, bench.glue, WORKFLOW, runs_before + 1))
    for event in state_change_events(first):
        loop.delivery.deliver(event)

    wait_for(newest_execution_in(bench.sfn, loop.arn, "WaitForData"), timeout=60)
    landed = datetime.now(UTC)
    loop.data_delivery.deliver(s3_object_created("bench-landing", "raw/sales.csv", landed))
    second = bench.glue.finish(wait_for_token(dynamodb, loop.token_table, bench.glue, WORKFLOW, runs_before + 2))
    started = bench.emulator.client("glue").get_workflow_run(Name=WORKFLOW, RunId=second.run_id)["Run"]["StartedOn"]
    for event in state_change_events(second):
        loop.delivery.deliver(event)
    _, woken = wait_until_stopped(bench.sfn, loop.arn)
    return (started - landed).total_seconds(), transitions(bench.events(woken))


def compare_strategies(measured: comparison.Measured) -> None:
    """The day of arrivals, run every way compared (docs/design.md, "Fresh data at the lowest cost")."""
    outcomes = comparison.strategies(comparison.one_day_of_arrivals(), measured)
    print("\nOne day of data, every way of running the workflow (MODEL: the day, run times and triggers;")
    print("MEASURED in the emulator: this module's state transitions per run and poll, its event and wake delays)\n")
    print(format_table(comparison.table_rows(outcomes), numbers=True))
    startup, per_file = comparison.RUN_STARTUP_SECONDS, comparison.RUN_SECONDS_PER_FILE
    print(f"\nRun time (model): {startup} s start-up + {per_file} s per file.")
    print("Events mode adds EventBridge's own delivery time on AWS, not measured here.")
    comparison.plot(outcomes, str(COMPARISON_PLOT))
    print(f"Plot: {COMPARISON_PLOT.relative_to(REPO_ROOT)}")


def main() -> int:
    started = time.monotonic()
    emulator = AwsEmulator(quiet=True)
    with GlueRunSimulator().installed() as glue, tempfile.TemporaryDirectory() as workdir:
        workspace = TerraformWorkspace(Path(workdir), ".", emulator.endpoint_url, REGION)
        workspace.init()
        plan = workspace.plan({"name": "bench", "glue_workflow_name": WORKFLOW})
        budget = plan["planned_values"]["outputs"]["max_polls_per_execution"]["value"]
        bench = Bench(emulator, glue, rendered_definition(plan))

        short = bench.events(bench.chain(1)[0])
        longer = bench.events(bench.chain(101)[0])
        per_poll = (len(longer) - len(short)) / 100
        base = len(short) - per_poll
        full_events = len(bench.events(bench.chain(budget + 1)[0]))
        print(f"History budget: {budget} polls per execution (module default)")
        print(f"History events per poll: {per_poll:g}; of a run polled once: {len(short)}")
        per_poll_transitions = (transitions(longer) - transitions(short)) / 100
        print(f"State transitions of a run polled once: {transitions(short)}", end="; ")
        print(f"per poll: {per_poll_transitions:g}")
        print_recovered_run(bench)
        print(f"Events of an execution that spends the whole budget: {full_events} (AWS quota {QUOTA})\n")

        rows = [RUN_LENGTHS_HEADER]
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
        events_plan = workspace.plan({"name": "bench", "glue_workflow_name": WORKFLOW, **EVENTS_SETTINGS})
        poll_base = transitions(short) - per_poll_transitions
        events_base, per_safety_poll, event_delay = compare_modes(bench, events_plan, poll_base, per_poll_transitions)
        wake_plan = workspace.plan(
            {"name": "bench", "glue_workflow_name": WORKFLOW, **EVENTS_SETTINGS, **WAKE_SETTINGS}
        )
        wake_delay, wake_run = measure_wake(bench, wake_plan)
        print(f"\nWake on data: {wake_delay:.2f} s from new data's event to its run's start;", end=" ")
        print(f"that run's execution: {wake_run:g} state transitions")
        compare_strategies(
            comparison.Measured(
                poll_run_transitions=poll_base,
                per_poll_transitions=per_poll_transitions,
                events_run_transitions=events_base,
                per_safety_poll_transitions=per_safety_poll,
                event_delay_seconds=event_delay,
                wake_delay_seconds=wake_delay,
                wake_run_transitions=wake_run,
            )
        )
        print(f"Took {time.monotonic() - started:.0f} s.")
    emulator.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
