"""Scripted Glue workflow runs for moto, whose runs stay RUNNING forever and carry no Statistics.

Each run started through StartWorkflowRun takes the next scripted :class:`RunOutcome` of its
workflow; GetWorkflowRun then answers with the shape Glue returns: RUNNING with running
statistics for ``running_polls`` calls, then the final status and counts. Faults can be queued
for any patched operation and are raised as Glue raises them.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

import pytest
from moto.core.exceptions import JsonRESTError
from moto.core.utils import utcnow
from moto.glue.models import GlueBackend

# HTTP status Glue answers each fault code with.
_FAULT_STATUS = {
    "ThrottlingException": 400,
    "InternalServiceException": 500,
    "OperationTimeoutException": 400,
    "EntityNotFoundException": 400,
    "ConcurrentRunsExceededException": 400,
}


@dataclass(frozen=True)
class RunOutcome:
    """How one workflow run ends, after ``running_polls`` GetWorkflowRun calls saw it RUNNING."""

    status: str = "COMPLETED"
    total_actions: int = 3
    failed: int = 0
    timed_out: int = 0
    stopped: int = 0
    errored: int = 0
    running_polls: int = 0

    def statistics(self, finished: bool) -> dict[str, int]:
        if not finished:
            return {
                "TotalActions": self.total_actions,
                "SucceededActions": 0,
                "FailedActions": 0,
                "TimeoutActions": 0,
                "StoppedActions": 0,
                "ErroredActions": 0,
                "RunningActions": 1,
                "WaitingActions": self.total_actions - 1,
            }
        unsuccessful = self.failed + self.timed_out + self.stopped + self.errored
        return {
            "TotalActions": self.total_actions,
            "SucceededActions": self.total_actions - unsuccessful,
            "FailedActions": self.failed,
            "TimeoutActions": self.timed_out,
            "StoppedActions": self.stopped,
            "ErroredActions": self.errored,
            "RunningActions": 0,
            "WaitingActions": 0,
        }


CLEAN = RunOutcome()


@dataclass
class SimulatedRun:
    workflow: str
    run_id: str
    outcome: RunOutcome | None
    polls: int = 0
    properties: dict[str, str] = field(default_factory=dict)


class GlueRunSimulator:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: dict[str, deque[RunOutcome]] = defaultdict(deque)
        self._faults: dict[str, deque[str]] = defaultdict(deque)
        self.runs: list[SimulatedRun] = []
        self.calls: list[str] = []

    # --- scripting ---

    def script(self, workflow: str, *outcomes: RunOutcome) -> None:
        """Queue how the next runs of ``workflow`` end; unscripted runs never end."""
        with self._lock:
            self._scripts[workflow].extend(outcomes)

    def fail_next(self, operation: str, *error_codes: str) -> None:
        """Make the next calls of ``operation`` (e.g. "GetWorkflowRun") raise these Glue errors."""
        with self._lock:
            self._faults[operation].extend(error_codes)

    def runs_of(self, workflow: str) -> list[SimulatedRun]:
        with self._lock:
            return [run for run in self.runs if run.workflow == workflow]

    # --- moto patches ---

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        original_start = GlueBackend.start_workflow_run
        original_get = GlueBackend.get_workflow_run
        simulator = self

        def start_workflow_run(
            backend: GlueBackend, workflow_name: str, properties: dict[str, str] | None
        ) -> str:
            simulator._record_call("StartWorkflowRun")
            run_id: str = original_start(backend, workflow_name, properties)
            with simulator._lock:
                script = simulator._scripts[workflow_name]
                outcome = script.popleft() if script else None
                simulator.runs.append(
                    SimulatedRun(workflow_name, run_id, outcome, properties=dict(properties or {}))
                )
            return run_id

        def get_workflow_run(backend: GlueBackend, workflow_name: str, run_id: str) -> dict[str, Any]:
            simulator._record_call("GetWorkflowRun")
            answer: dict[str, Any] = original_get(backend, workflow_name, run_id)
            run = simulator._run(run_id)
            if run is None:
                return answer
            with simulator._lock:
                run.polls += 1
                finished = run.outcome is not None and run.polls > run.outcome.running_polls
                outcome = run.outcome or RunOutcome()
            answer["Statistics"] = outcome.statistics(finished)
            if finished:
                fake_run = backend.workflows[workflow_name].runs[run_id]
                fake_run.status = outcome.status
                fake_run.completed_on = fake_run.completed_on or utcnow()
                answer.update(Status=outcome.status, CompletedOn=fake_run.completed_on)
            return answer

        monkeypatch.setattr(GlueBackend, "start_workflow_run", start_workflow_run)
        monkeypatch.setattr(GlueBackend, "get_workflow_run", get_workflow_run)

    def _record_call(self, operation: str) -> None:
        with self._lock:
            self.calls.append(operation)
            faults = self._faults[operation]
            code = faults.popleft() if faults else None
        if code is not None:
            error = JsonRESTError(code, f"Simulated {code} on {operation}")
            error.code = _FAULT_STATUS.get(code, 400)
            raise error

    def _run(self, run_id: str) -> SimulatedRun | None:
        with self._lock:
            return next((run for run in self.runs if run.run_id == run_id), None)
