"""The status report: the chain of executions, the live one, the Glue run, the pause flag and
the last stop."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from glue_loop.definition import WAIT_FOR_RUN, RunWait
from glue_loop.loop import Execution, GlueRun, Loop, Position, reads_as_paused, wait_before_run

STATISTICS = {
    "SucceededActions": "succeeded",
    "FailedActions": "failed",
    "TimeoutActions": "timed out",
    "StoppedActions": "stopped",
    "ErroredActions": "errored",
    "RunningActions": "running",
    "WaitingActions": "waiting",
}


@dataclass(frozen=True)
class RecoveryAttempt:
    """A resume (ResumeWorkflowRun) of a run whose nodes did not succeed, as the loop recorded it."""

    run_id: str  # the run resumed
    failed_nodes: list[str]
    resumed_run_id: str  # the new run the resume made
    outcome: str


@dataclass(frozen=True)
class Recovery:
    """The run in flight is a resumed one: the attempts that led to it, the last one its own."""

    attempts: list[RecoveryAttempt]
    max_attempts: int | None


@dataclass(frozen=True)
class LastStop:
    execution: str
    status: str
    stopped: datetime | None
    reason: str  # the execution's error, or the loop's stop_reason (e.g. "paused")
    cause: str | None
    recovery_attempts: list[RecoveryAttempt] = field(default_factory=list)  # the resumes that ended in this stop


@dataclass(frozen=True)
class NextRun:
    """When a loop waiting before its next run starts it: at ``latest``, or sooner when new data
    lands (``on_data``, wake_on_data), after ``idle_runs`` runs in a row that found nothing."""

    latest: datetime
    idle_runs: int
    on_data: bool


@dataclass(frozen=True)
class Status:
    state_machine_arn: str
    workflow: str
    executions: list[Execution]  # newest first
    live: list[str]  # names of the running executions: more than one means chains fight
    live_state: str | None
    live_waiting: str | None  # in WaitForRun: what for, e.g. "polling every 60 s"
    live_recovery: Recovery | None  # None: the live execution's run is not a resumed one
    live_next_run: NextRun | None  # in the wait before a run: when that run starts
    glue_run: GlueRun | None
    pause_parameter: str | None
    pause_flag: str | None  # None: the parameter does not exist
    last_stop: LastStop | None


def gather(loop: Loop, limit: int) -> Status:
    running = loop.executions(status="RUNNING")
    executions = loop.executions(limit)
    position = loop.position(running[0].arn) if running else None
    live_state = position.state if position else None
    pause_parameter = loop.definition.pause_parameter
    recovery = live_recovery(position.data) if position else None
    stop = last_stop(executions, loop)
    attempts = [*(recovery.attempts if recovery else []), *(stop.recovery_attempts if stop else [])]
    return Status(
        state_machine_arn=loop.arn,
        workflow=loop.workflow,
        executions=executions,
        live=[execution.name for execution in running],
        live_state=live_state,
        live_waiting=waiting(loop.definition.run_wait) if live_state == WAIT_FOR_RUN else None,
        live_recovery=recovery,
        live_next_run=next_run(position) if position else None,
        glue_run=marked_copies(loop.glue_run(), attempts),
        pause_parameter=pause_parameter,
        pause_flag=loop.pause_flag() if pause_parameter else None,
        last_stop=stop,
    )


def marked_copies(run: GlueRun | None, attempts: list[RecoveryAttempt]) -> GlueRun | None:
    """A run the loop resumed, its nodes marked run again or copied. Glue runs "the selected nodes
    and all nodes that are downstream from the selected nodes" (ResumeWorkflowRun, AWS Glue API
    reference); "the nodes that didn't run in the resumed workflow are copied from the run graph of
    the original workflow run" ("Repairing and resuming a workflow run", AWS Glue developer guide).
    The loop selects the failed nodes it records; how GetWorkflowRun tells a copied node from one
    run again AWS does not document, so the graph's edges decide, not the node's details."""
    if run is None:
        return None
    attempt = next((each for each in attempts if each.resumed_run_id == run.run_id), None)
    if attempt is None:
        return run
    ran, pending = set(), list(attempt.failed_nodes)
    while pending:
        node = pending.pop()
        if node not in ran:
            ran.add(node)
            pending += run.successors.get(node, [])
    nodes = [replace(node, copied=node.name not in ran) for node in run.nodes]
    return replace(run, nodes=nodes, resumes_run_id=attempt.run_id)


def waiting(run_wait: RunWait | None) -> str | None:
    """What a loop in WaitForRun waits for: an event (events mode) or its next poll."""
    if run_wait is None:
        return None
    every = f" every {run_wait.seconds} s" if run_wait.seconds is not None else ""
    return f"waiting for a Glue event (safety poll{every})" if run_wait.events else f"polling{every}"


# The states in which a loop waits before its next run: a fixed wait, or one new data may end.
COOLDOWN, WAIT_FOR_DATA = "Cooldown", "WaitForData"


def next_run(position: Position) -> NextRun | None:
    """When the run a loop waits to start starts, from the wait's start and the loop's own rule."""
    if position.state not in (COOLDOWN, WAIT_FOR_DATA) or position.entered is None:
        return None
    loop, config = position.data.get("loop", {}), position.data.get("config", {})
    _, seconds = wait_before_run(loop, config)
    on_data = position.state == WAIT_FOR_DATA
    if on_data:  # a busy run's wait for data is bounded by the first back-off
        seconds = max(seconds, int(config.get("pacing", {}).get("initial_seconds", 0)))
    return NextRun(position.entered + timedelta(seconds=seconds), int(loop.get("idle_runs", 0)), on_data)


def live_recovery(data: dict[str, Any]) -> Recovery | None:
    """The resumes behind the live execution's run, from its state data: loop.recovery_attempts,
    which a successor inherits with the run in flight and a new run clears."""
    recorded = data.get("loop", {}).get("recovery_attempts") or []
    if not recorded:
        return None
    run = data.get("run", {})
    status = run.get("status") if run.get("id") == recorded[-1].get("resumed_run_id") else None
    # A resumed run has no status in the data until its first poll.
    outcome = "running" if status in (None, "RUNNING", "STOPPING") else f"ended {status}"
    return Recovery(_attempts(recorded, outcome), data.get("config", {}).get("recovery", {}).get("max_attempts"))


def last_stop(executions: list[Execution], loop: Loop | None = None) -> LastStop | None:
    """How the newest chain to end ended (executions newest first); a handoff to a successor
    is no end. With ``loop``, the resumes that ended in a failed execution's stop are read from
    the data its Fail state got (stop.recovery_attempts)."""
    for execution in executions:
        if not execution.final or execution.started_successor:
            continue
        if execution.status == "SUCCEEDED":
            # No stop_reason: an execution of a definition older than ChainEnded, whose MaxRunsReached gave none.
            reason = execution.stop_reason or "succeeded without starting a successor"
        else:
            reason = execution.error or f"{execution.status} with no error given"
        recorded = (
            loop.position(execution.arn).data.get("stop", {}).get("recovery_attempts", [])
            if loop and execution.status == "FAILED"
            else []
        )
        attempts = _attempts(recorded, f"stopped the loop: {reason}")
        return LastStop(execution.name, execution.status, execution.stopped, reason, execution.cause, attempts)
    return None


def _attempts(recorded: list[dict[str, Any]], last_outcome: str) -> list[RecoveryAttempt]:
    """Each resume but the last was followed by another: its run did not succeed either."""
    return [
        RecoveryAttempt(
            str(attempt.get("run_id")),
            [str(node) for node in attempt.get("failed_nodes", [])],
            str(attempt.get("resumed_run_id")),
            last_outcome if number == len(recorded) else "did not succeed: resumed again",
        )
        for number, attempt in enumerate(recorded, start=1)
    ]


def as_json(status: Status) -> str:
    return json.dumps(asdict(status), indent=2, default=lambda value: value.isoformat())


def as_text(status: Status) -> str:
    lines = [
        f"State machine  {status.state_machine_arn}",
        f"Workflow       {status.workflow}",
        f"Loop           {_live(status)}",
        *_live_recovery(status.live_recovery),
        f"Pause flag     {_pause(status)}",
    ]
    if status.last_stop:
        stop = status.last_stop
        lines.append(f"Last stop      {stop.reason} (execution {stop.execution} {stop.status} {_time(stop.stopped)})")
        lines += [f"               {stop.cause}"] if stop.cause else []
        if stop.recovery_attempts:
            lines += [f"               resumed {how_often(len(stop.recovery_attempts))} before:"]
            lines += _attempt_rows(stop.recovery_attempts)
    lines += ["", *_glue_run(status.glue_run), "", f"Executions (newest {len(status.executions)}, * running)"]
    rows = [("", "name", "status", "started", "stopped", "run", "seq")]
    for execution in status.executions:
        rows.append(
            (
                "*" if execution.status == "RUNNING" else "",
                execution.name,
                execution.status or "PENDING",
                _time(execution.started),
                _time(execution.stopped),
                _number(execution.run_number),
                _number(execution.sequence),
            )
        )
    lines += _table(rows) if status.executions else ["  none"]
    return "\n".join(lines)


def how_often(count: int) -> str:
    """A count of resumes as the reports say it: "once", "2 times"."""
    return "once" if count == 1 else f"{count} times"


def _live(status: Status) -> str:
    if not status.live:
        return "not running"
    if len(status.live) > 1:
        return f"{len(status.live)} executions running, chains fighting over the workflow: {', '.join(status.live)}"
    waiting = f", {status.live_waiting}" if status.live_waiting else ""
    if status.live_next_run:
        upcoming = status.live_next_run
        sooner = " or as soon as new data lands" if upcoming.on_data else ""
        runs = "run" if upcoming.idle_runs == 1 else "runs in a row"
        idle = f", after {upcoming.idle_runs} idle {runs}" if upcoming.idle_runs else ""
        waiting = f", next run by {_time(upcoming.latest)}{sooner}{idle}"
    return f"running: execution {status.live[0]}, in state {status.live_state or '?'}{waiting}"


def _live_recovery(recovery: Recovery | None) -> list[str]:
    if recovery is None:
        return []
    last, first = recovery.attempts[-1], recovery.attempts[0]
    of = f" of {recovery.max_attempts}" if recovery.max_attempts is not None else ""
    headline = f"Recovery       run {last.resumed_run_id} (resume {len(recovery.attempts)}{of} of run {first.run_id})"
    return [headline, *_attempt_rows(recovery.attempts)]


def _attempt_rows(attempts: list[RecoveryAttempt]) -> list[str]:
    rows = [("", "resume", "run", "failed nodes", "resumed as", "outcome")]
    rows += [
        ("", str(number), attempt.run_id, ", ".join(attempt.failed_nodes), attempt.resumed_run_id, attempt.outcome)
        for number, attempt in enumerate(attempts, start=1)
    ]
    return _table(rows)


def _pause(status: Status) -> str:
    if status.pause_parameter is None:
        return "none (the loop reads no pause parameter)"
    value = "parameter missing" if status.pause_flag is None else status.pause_flag
    paused = " (paused: the loop ends after its run in flight)" if reads_as_paused(status.pause_flag) else ""
    return f"{status.pause_parameter} = {value}{paused}"


def _glue_run(run: GlueRun | None) -> list[str]:
    if run is None:
        return ["Glue run       none (the workflow has no run, or does not exist)"]
    lines = [
        f"Glue run       {run.run_id} {run.status}, started {_time(run.started)}, completed {_time(run.completed)}"
    ]
    lines += [f"               {run.error}"] if run.error else []
    if run.resumes_run_id:
        lines.append(f"Resumes run    {run.resumes_run_id}")
    if run.statistics:
        counts = ", ".join(f"{run.statistics.get(key, 0)} {label}" for key, label in STATISTICS.items())
        lines.append(f"Actions        {run.statistics.get('TotalActions', 0)}: {counts}")
    marked = any(node.copied is not None for node in run.nodes)
    rows = [("", "node", "type", "state", *(["in this run"] if marked else []), "error")]
    rows += [
        (
            "",
            node.name,
            node.kind,
            node.state or "-",
            *([f"copied from {run.resumes_run_id}" if node.copied else "runs again"] if marked else []),
            node.error or "",
        )
        for node in run.nodes
    ]
    return lines + (_table(rows) if run.nodes else [])


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]


def _time(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"


def _number(value: int | None) -> str:
    return "-" if value is None else str(value)
