"""Scripted Glue workflow runs for moto, whose runs stay RUNNING forever and carry no Statistics.

Each run started through StartWorkflowRun takes the next scripted :class:`RunOutcome` of its
workflow. When the workflow has triggers in moto (as Terraform created them), the run follows
that trigger graph: the ON_DEMAND trigger's actions run, then every CONDITIONAL trigger whose
predicate (ALL or ANY of job and crawler states) holds fires, once, until nothing more fires;
each node ends in its scripted state (SUCCEEDED unless told otherwise). A workflow without
triggers reports the counts scripted in the outcome instead.

GetWorkflowRun answers as Glue does: RUNNING for ``running_polls`` calls (or until the test
ends the run with :meth:`GlueRunSimulator.finish`), then the final status with Statistics and,
with IncludeGraph, the nodes and their run states. StopWorkflowRun ends a simulated run
STOPPED (moto's only checks that the run exists). Faults can be queued for StartWorkflowRun,
GetWorkflowRun, GetWorkflow and StopWorkflowRun and are raised as Glue raises them.
:func:`state_change_events` gives the EventBridge events Glue emits as a run's jobs and
crawlers end.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.glue.models import GlueBackend
from moto.glue.responses import GlueResponse

from harness.emulator import ACCOUNT_ID, REGION

# HTTP status Glue answers each fault code with.
_FAULT_STATUS = {"InternalServiceException": 500}

# Which Statistics counter a finished job or crawler state adds to.
_STATISTIC = {
    "SUCCEEDED": "SucceededActions",
    "FAILED": "FailedActions",
    "TIMEOUT": "TimeoutActions",
    "STOPPED": "StoppedActions",
    "CANCELLED": "StoppedActions",
    "ERROR": "ErroredActions",
}
_COUNTERS = ("TotalActions", *dict.fromkeys(_STATISTIC.values()), "RunningActions", "WaitingActions")

# A run scripted with this many running polls ends only when the test calls finish().
UNTIL_FINISHED = 10**9

# Crawls report their end in EventBridge events in words, not in the API's upper case.
_CRAWL_EVENT_STATE = {"SUCCEEDED": "Succeeded", "FAILED": "Failed", "CANCELLED": "Failed"}


@dataclass(frozen=True)
class RunOutcome:
    """How one workflow run ends, after ``running_polls`` GetWorkflowRun calls saw it RUNNING.

    ``node_states`` names the jobs and crawlers that do not succeed (graph workflows); the
    counts stand in for a graph in workflows without triggers.
    """

    status: str = "COMPLETED"
    node_states: Mapping[str, str] = field(default_factory=dict)
    running_polls: int = 0
    total_actions: int = 3
    failed: int = 0
    timed_out: int = 0
    stopped: int = 0
    errored: int = 0

    def counted_states(self) -> list[str]:
        unsuccessful = {
            "FAILED": self.failed,
            "TIMEOUT": self.timed_out,
            "STOPPED": self.stopped,
            "ERROR": self.errored,
        }
        states = [state for state, count in unsuccessful.items() for _ in range(count)]
        return states + ["SUCCEEDED"] * (self.total_actions - len(states))


CLEAN = RunOutcome()


@dataclass(frozen=True)
class ExecutedNode:
    name: str
    kind: str  # "JOB" or "CRAWLER"
    state: str


@dataclass(frozen=True)
class WorkflowGraph:
    """A workflow's triggers as they exist in moto, in GetTrigger's shape."""

    triggers: tuple[dict[str, Any], ...]

    @classmethod
    def of(cls, backend: GlueBackend, workflow: str) -> WorkflowGraph:
        return cls(tuple(t.as_dict() for t in backend.triggers.values() if t.workflow_name == workflow))

    def run(self, node_states: Mapping[str, str]) -> list[ExecutedNode]:
        executed: list[ExecutedNode] = []
        fired: set[str] = set()

        def fire(trigger: dict[str, Any]) -> None:
            fired.add(trigger["Name"])
            for action in trigger["Actions"]:
                kind, name = ("JOB", action["JobName"]) if "JobName" in action else ("CRAWLER", action["CrawlerName"])
                executed.append(ExecutedNode(name, kind, node_states.get(name, "SUCCEEDED")))

        for trigger in self.triggers:
            if trigger["Type"] == "ON_DEMAND":
                fire(trigger)
        progress = True
        while progress:
            progress = False
            for trigger in self.triggers:
                pending = trigger["Type"] == "CONDITIONAL" and trigger["Name"] not in fired
                if pending and self._holds(trigger["Predicate"], executed):
                    fire(trigger)
                    progress = True
        return executed

    @staticmethod
    def _holds(predicate: Mapping[str, Any], executed: list[ExecutedNode]) -> bool:
        states = {(node.name, node.state) for node in executed}
        met = [
            (
                condition.get("JobName") or condition["CrawlerName"],
                condition.get("State") or condition["CrawlState"],
            )
            in states
            for condition in predicate["Conditions"]
        ]
        return any(met) if predicate.get("Logical") == "ANY" else all(met)

    def graph(self, executed: list[ExecutedNode], run_id: str) -> dict[str, Any]:
        """GetWorkflowRun's Graph: trigger, job and crawler nodes with this run's states."""
        states = {node.name: node.state for node in executed}
        nodes: dict[str, dict[str, Any]] = {}
        edges: list[dict[str, str]] = []

        def node(kind: str, name: str) -> str:
            unique_id = f"{kind.lower()}-{name}"
            if unique_id not in nodes:
                nodes[unique_id] = {"Type": kind, "Name": name, "UniqueId": unique_id}
                ran = name in states
                if kind == "JOB":
                    runs = [{"Id": f"jr_{run_id}_{name}", "JobName": name, "JobRunState": states[name]}] if ran else []
                    nodes[unique_id]["JobDetails"] = {"JobRuns": runs}
                elif kind == "CRAWLER":
                    nodes[unique_id]["CrawlerDetails"] = {"Crawls": [{"State": states[name]}] if ran else []}
            return unique_id

        for trigger in self.triggers:
            trigger_id = node("TRIGGER", trigger["Name"])
            for action in trigger["Actions"]:
                kind = "JOB" if "JobName" in action else "CRAWLER"
                edges.append(
                    {
                        "SourceId": trigger_id,
                        "DestinationId": node(kind, action.get("JobName") or action["CrawlerName"]),
                    }
                )
            for condition in trigger.get("Predicate", {}).get("Conditions", []):
                kind = "JOB" if "JobName" in condition else "CRAWLER"
                source = node(kind, condition.get("JobName") or condition["CrawlerName"])
                edges.append({"SourceId": source, "DestinationId": trigger_id})
        for executed_node in executed:  # workflows without triggers: the scripted actions
            node(executed_node.kind, executed_node.name)
        return {"Nodes": list(nodes.values()), "Edges": edges}


@dataclass
class SimulatedRun:
    workflow: str
    run_id: str
    outcome: RunOutcome | None  # None: the run never ends unless stopped
    graph: WorkflowGraph
    properties: dict[str, str]
    polls: int = 0  # GetWorkflowRun calls without IncludeGraph
    ended: bool = False  # ended by GlueRunSimulator.finish
    stopped: bool = False  # ended by StopWorkflowRun

    @property
    def finished(self) -> bool:
        return self.stopped or (self.outcome is not None and (self.ended or self.polls > self.outcome.running_polls))

    @property
    def status(self) -> str:
        """The status the run ends with."""
        return "STOPPED" if self.stopped else (self.outcome or CLEAN).status

    @property
    def executed(self) -> list[ExecutedNode]:
        """Nodes the run executes (or would execute, while it is still running).

        A running run reports its first node running and the rest waiting, so a stopped run has
        run just that node, which Glue stops (a crawl is CANCELLED); the nodes after it never start.
        """
        outcome = self.outcome or CLEAN
        if self.graph.triggers:
            executed = self.graph.run(outcome.node_states)
        else:
            executed = [ExecutedNode(f"action-{i}", "JOB", state) for i, state in enumerate(outcome.counted_states())]
        if not self.stopped:
            return executed
        return [replace(node, state="STOPPED" if node.kind == "JOB" else "CANCELLED") for node in executed[:1]]

    def statistics(self, finished: bool) -> dict[str, int]:
        counts = dict.fromkeys(_COUNTERS, 0)
        executed = self.executed
        counts["TotalActions"] = len(executed)
        if not finished:
            counts.update(RunningActions=1, WaitingActions=len(executed) - 1)
            return counts
        for node in executed:
            counts[_STATISTIC[node.state]] += 1
        return counts


def glue_event(detail_type: str, detail: dict[str, str]) -> dict[str, Any]:
    """An event as Glue sends it to EventBridge, in the envelope of AWS's documented samples."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": "aws.glue",
        "account": ACCOUNT_ID,
        "time": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [],
        "detail": detail,
    }


def state_change_events(run: SimulatedRun) -> list[dict[str, Any]]:
    """The "Glue Job State Change" and "Glue Crawler State Change" events Glue sends as the
    run's jobs and crawlers end, in order."""
    events = []
    for node in run.executed:
        if node.kind == "JOB":
            detail = {
                "jobName": node.name,
                "severity": "INFO" if node.state == "SUCCEEDED" else "ERROR",
                "state": node.state,
                "jobRunId": f"jr_{run.run_id}_{node.name}",
                "message": f"Job run {node.state.lower()}",
            }
            events.append(glue_event("Glue Job State Change", detail))
        else:
            state = _CRAWL_EVENT_STATE[node.state]
            detail = {"crawlerName": node.name, "state": state, "message": f"Crawler {state}"}
            events.append(glue_event("Glue Crawler State Change", detail))
    return events


PollObserver = Callable[["SimulatedRun", str, dict[str, int]], None]


class GlueRunSimulator:
    def __init__(self) -> None:
        # Told of every poll: the run, the status and the statistics answered.
        self.on_poll: PollObserver | None = None
        self._lock = threading.Lock()
        self._scripts: dict[str, deque[RunOutcome]] = defaultdict(deque)
        self._faults: dict[str, deque[str]] = defaultdict(deque)
        self.runs: list[SimulatedRun] = []
        self.calls: list[str] = []
        # Runs started while another run of the same workflow had not finished.
        self.overlapping_starts: list[str] = []
        self._random_faults: tuple[random.Random, float, tuple[str, ...]] | None = None

    # --- scripting ---

    def script(self, workflow: str, *outcomes: RunOutcome) -> None:
        """Queue how the next runs of ``workflow`` end; unscripted runs never end."""
        with self._lock:
            self._scripts[workflow].extend(outcomes)

    def fail_next(self, operation: str, *error_codes: str) -> None:
        """Make the next calls of ``operation`` raise these Glue errors: StartWorkflowRun,
        GetWorkflowRun, GetWorkflowRun+IncludeGraph (graph reads), GetWorkflow or StopWorkflowRun."""
        with self._lock:
            self._faults[operation].extend(error_codes)

    def fail_randomly(self, rng: random.Random, probability: float, *error_codes: str) -> None:
        """Make any patched call raise one of these Glue errors with this probability."""
        self._random_faults = (rng, probability, error_codes)

    def finish(self, run_id: str) -> SimulatedRun:
        """End a run now, as its last job or crawler ends, whatever its running polls."""
        run = self._run(run_id)
        if run is None:
            raise KeyError(run_id)
        with self._lock:
            run.ended = True
        return run

    def runs_of(self, workflow: str) -> list[SimulatedRun]:
        with self._lock:
            return [run for run in self.runs if run.workflow == workflow]

    # --- moto patches ---

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        original_start = GlueBackend.start_workflow_run
        original_stop = GlueBackend.stop_workflow_run
        original_get_workflow = GlueResponse.get_workflow
        simulator = self

        def start_workflow_run(backend: GlueBackend, workflow_name: str, properties: dict[str, str] | None) -> str:
            simulator._record_call("StartWorkflowRun")
            run_id: str = original_start(backend, workflow_name, properties)
            with simulator._lock:
                if any(not run.finished for run in simulator.runs if run.workflow == workflow_name):
                    simulator.overlapping_starts.append(run_id)
                script = simulator._scripts[workflow_name]
                simulator.runs.append(
                    SimulatedRun(
                        workflow=workflow_name,
                        run_id=run_id,
                        outcome=script.popleft() if script else None,
                        graph=WorkflowGraph.of(backend, workflow_name),
                        properties=dict(properties or {}),
                    )
                )
            return run_id

        def stop_workflow_run(backend: GlueBackend, workflow_name: str, run_id: str) -> None:
            # moto's StopWorkflowRun checks that the run exists and changes nothing; Glue stops
            # the run's running nodes and ends it STOPPED.
            simulator._record_call("StopWorkflowRun")
            original_stop(backend, workflow_name, run_id)
            run = simulator._run(run_id)
            if run is None:
                return
            with simulator._lock:
                if run.finished:
                    raise JsonRESTError("IllegalWorkflowStateException", f"Workflow run {run_id} is not running")
                run.stopped = True
            moto_run = backend.workflows[workflow_name].runs[run_id]
            moto_run.status, moto_run.completed_on = "STOPPED", utcnow()

        def get_workflow(response: GlueResponse) -> ActionResult:
            simulator._record_call("GetWorkflow")
            return original_get_workflow(response)

        def get_workflow_run(response: GlueResponse) -> ActionResult:
            include_graph = bool(response._get_param("IncludeGraph"))
            simulator._record_call("GetWorkflowRun+IncludeGraph" if include_graph else "GetWorkflowRun")
            workflow_name, run_id = response._get_param("Name"), response._get_param("RunId")
            answer: dict[str, Any] = response.glue_backend.get_workflow_run(workflow_name, run_id)
            run = simulator._run(run_id)
            if run is not None:
                answer.update(simulator._poll(response.glue_backend, run, include_graph))
            return ActionResult({"Run": answer})

        monkeypatch.setattr(GlueBackend, "start_workflow_run", start_workflow_run)
        monkeypatch.setattr(GlueBackend, "stop_workflow_run", stop_workflow_run)
        monkeypatch.setattr(GlueResponse, "get_workflow_run", get_workflow_run)
        monkeypatch.setattr(GlueResponse, "get_workflow", get_workflow)

    def _poll(self, backend: GlueBackend, run: SimulatedRun, include_graph: bool) -> dict[str, Any]:
        with self._lock:
            # Reading the graph of a run is not polling it.
            run.polls += 0 if include_graph else 1
            finished = run.finished
        answer: dict[str, Any] = {"Statistics": run.statistics(finished)}
        if finished:
            moto_run = backend.workflows[run.workflow].runs[run.run_id]
            moto_run.status = run.status
            moto_run.completed_on = moto_run.completed_on or utcnow()
            answer.update(Status=run.status, CompletedOn=moto_run.completed_on)
        if include_graph:
            answer["Graph"] = run.graph.graph(run.executed if finished else [], run.run_id)
        elif self.on_poll is not None:
            self.on_poll(run, answer.get("Status", "RUNNING"), answer["Statistics"])
        return answer

    def _record_call(self, operation: str) -> None:
        with self._lock:
            self.calls.append(operation)
            faults = self._faults[operation]
            code = faults.popleft() if faults else None
            if code is None and self._random_faults is not None:
                rng, probability, codes = self._random_faults
                code = rng.choice(codes) if rng.random() < probability else None
        if code is not None:
            error = JsonRESTError(code, f"Simulated {code} on {operation}")
            error.code = _FAULT_STATUS.get(code, 400)
            raise error

    def _run(self, run_id: str) -> SimulatedRun | None:
        with self._lock:
            return next((run for run in self.runs if run.run_id == run_id), None)
