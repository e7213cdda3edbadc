"""The status report: the chain of executions, the live one, the Glue run, the pause flag and
the last stop."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from glue_loop.definition import WAIT_FOR_RUN, RunWait
from glue_loop.loop import Execution, GlueRun, Loop, reads_as_paused

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
class LastStop:
    execution: str
    status: str
    stopped: datetime | None
    reason: str  # the execution's error, or the loop's stop_reason (e.g. "paused")
    cause: str | None


@dataclass(frozen=True)
class Status:
    state_machine_arn: str
    workflow: str
    executions: list[Execution]  # newest first
    live: list[str]  # names of the running executions: more than one means chains fight
    live_state: str | None
    live_waiting: str | None  # in WaitForRun: what for, e.g. "polling every 60 s"
    glue_run: GlueRun | None
    pause_parameter: str | None
    pause_flag: str | None  # None: the parameter does not exist
    last_stop: LastStop | None


def gather(loop: Loop, limit: int) -> Status:
    running = loop.executions(status="RUNNING")
    executions = loop.executions(limit)
    live_state = loop.current_state(running[0].arn) if running else None
    pause_parameter = loop.definition.pause_parameter
    return Status(
        state_machine_arn=loop.arn,
        workflow=loop.workflow,
        executions=executions,
        live=[execution.name for execution in running],
        live_state=live_state,
        live_waiting=waiting(loop.definition.run_wait) if live_state == WAIT_FOR_RUN else None,
        glue_run=loop.glue_run(),
        pause_parameter=pause_parameter,
        pause_flag=loop.pause_flag() if pause_parameter else None,
        last_stop=last_stop(executions),
    )


def waiting(run_wait: RunWait | None) -> str | None:
    """What a loop in WaitForRun waits for: an event (events mode) or its next poll."""
    if run_wait is None:
        return None
    every = f" every {run_wait.seconds} s" if run_wait.seconds is not None else ""
    return f"waiting for a Glue event (safety poll{every})" if run_wait.events else f"polling{every}"


def last_stop(executions: list[Execution]) -> LastStop | None:
    """How the newest chain to end ended (executions newest first); a handoff to a successor
    is no end."""
    for execution in executions:
        if not execution.final or execution.started_successor:
            continue
        if execution.status == "SUCCEEDED":
            reason = execution.stop_reason or "succeeded without starting a successor"
        else:
            reason = execution.error or f"{execution.status} with no error given"
        return LastStop(execution.name, execution.status, execution.stopped, reason, execution.cause)
    return None


def as_json(status: Status) -> str:
    return json.dumps(asdict(status), indent=2, default=lambda value: value.isoformat())


def as_text(status: Status) -> str:
    lines = [
        f"State machine  {status.state_machine_arn}",
        f"Workflow       {status.workflow}",
        f"Loop           {_live(status)}",
        f"Pause flag     {_pause(status)}",
    ]
    if status.last_stop:
        stop = status.last_stop
        lines.append(f"Last stop      {stop.reason} (execution {stop.execution} {stop.status} {_time(stop.stopped)})")
        lines += [f"               {stop.cause}"] if stop.cause else []
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


def _live(status: Status) -> str:
    if not status.live:
        return "not running"
    if len(status.live) > 1:
        return f"{len(status.live)} executions running, chains fighting over the workflow: {', '.join(status.live)}"
    waiting = f", {status.live_waiting}" if status.live_waiting else ""
    return f"running: execution {status.live[0]}, in state {status.live_state or '?'}{waiting}"


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
    if run.statistics:
        counts = ", ".join(f"{run.statistics.get(key, 0)} {label}" for key, label in STATISTICS.items())
        lines.append(f"Actions        {run.statistics.get('TotalActions', 0)}: {counts}")
    rows = [("", "node", "type", "state", "error")]
    rows += [("", node.name, node.kind, node.state or "-", node.error or "") for node in run.nodes]
    return lines + (_table(rows) if run.nodes else [])


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]


def _time(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"


def _number(value: int | None) -> str:
    return "-" if value is None else str(value)
