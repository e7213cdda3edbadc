"""Scripted Glue workflow runs for moto, whose runs stay RUNNING forever and carry no Statistics.

Each run started through StartWorkflowRun takes the next scripted :class:`RunOutcome` of its
workflow. When the workflow has triggers in moto (as Terraform created them), the run follows
that trigger graph: the ON_DEMAND trigger's actions run, then every activated CONDITIONAL trigger
whose predicate (ALL or ANY of job and crawler states) holds fires, once, until nothing more fires;
each node ends in its scripted state (SUCCEEDED unless told otherwise). A workflow without
triggers reports the counts scripted in the outcome instead.

GetWorkflowRun answers as Glue does: RUNNING for ``running_polls`` calls (or until the test
ends the run with :meth:`GlueRunSimulator.finish`, and then for its status lag), then the final
status with Statistics and, with IncludeGraph, the nodes and their run states; GetWorkflowRuns
lists them the same way, in no order of their starts. StopWorkflowRun ends a simulated run
STOPPED (moto's only checks that the run exists). Faults can be queued for StartWorkflowRun,
GetWorkflowRun, GetWorkflowRuns, GetWorkflow, StopWorkflowRun and ResumeWorkflowRun and are
raised as Glue raises them, before the call acts or after (:class:`Fault`).
:func:`state_change_events` gives the EventBridge events Glue emits as a run's jobs and crawlers
start and end: only the documented ones.

ResumeWorkflowRun, which moto lacks, is answered as Glue documents it (see
:meth:`GlueRunSimulator._resume`): a new run, named by the resumed one's id in its PreviousRunId,
runs the chosen nodes and those downstream again and copies the rest of the previous run's graph.
A resumed run takes the next scripted outcome of its workflow like a started one; its
``node_states`` name the re-run nodes that do not succeed (``action-<i>`` in workflows without
triggers) and its counts play no part.

Instead of scripted outcomes, a workflow's runs can run their jobs (:meth:`GlueRunSimulator.run_jobs_with`):
each job's script, with its arguments as Glue passes them, decides whether it succeeds.
"""

from __future__ import annotations

import datetime
import hashlib
import random
import threading
import time
import types
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any
from unittest.mock import patch

from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.glue.exceptions import EntityNotFoundException
from moto.glue.models import FakeWorkflowRun, GlueBackend
from moto.glue.responses import GlueResponse

from harness.emulator import ACCOUNT_ID, REGION

# HTTP status Glue answers each fault code with.
_FAULT_STATUS = {"InternalServiceException": 500}


@dataclass(frozen=True)
class Fault:
    """A Glue error answered to one call. By default the call is refused and changes nothing; with
    ``acted`` the call does what it was asked (starts or resumes a run, say) and its caller is
    answered the error all the same: a server error or a timeout may come after the service acted,
    and StartWorkflowRun and ResumeWorkflowRun take no idempotency token to tell a retry apart
    (Glue API reference, "StartWorkflowRun", "ResumeWorkflowRun": no ClientRequestToken)."""

    code: str
    acted: bool = False
    # What another actor does between the call acting and its caller hearing the error (a call
    # that acted only), e.g. start a run of its own.
    meanwhile: Callable[[], object] | None = None

    def answered(self, operation: str) -> JsonRESTError:
        """The error for a call that acted, once ``meanwhile`` has happened."""
        if self.meanwhile is not None:
            self.meanwhile()
        return self.error(operation)

    def error(self, operation: str) -> JsonRESTError:
        done = " after the call acted" if self.acted else ""
        error = JsonRESTError(self.code, f"Simulated {self.code} on {operation}{done}")
        error.code = _FAULT_STATUS.get(self.code, 400)
        return error


def _as_fault(fault: str | Fault) -> Fault:
    return fault if isinstance(fault, Fault) else Fault(fault)


# Which Statistics counter a finished job or crawler state adds to.
_STATISTIC = {
    "SUCCEEDED": "SucceededActions",
    "FAILED": "FailedActions",
    "TIMEOUT": "TimeoutActions",
    "STOPPED": "StoppedActions",
    "CANCELLED": "StoppedActions",
    "ERROR": "ErroredActions",
    # Undocumented: WorkflowRunStatistics has no counter for a job run EXPIRED ("JobRun":
    # JobRunState) or a crawl ended in ERROR; assumed to count as errored.
    "EXPIRED": "ErroredActions",
}
_COUNTERS = ("TotalActions", *dict.fromkeys(_STATISTIC.values()), "RunningActions", "WaitingActions")

# A run scripted with this many running polls ends only when the test calls finish().
UNTIL_FINISHED = 10**9

# Glue sends only these state changes to EventBridge ("Automating AWS Glue with EventBridge",
# https://docs.aws.amazon.com/glue/latest/dg/automating-awsglue-with-cloudwatch-events.html):
# "Glue Job State Change" for SUCCEEDED, FAILED, TIMEOUT and STOPPED, and "Glue Crawler State
# Change" for Started, Succeeded and Failed (in words, not in the API's upper case). A job run
# ending in ERROR and a cancelled crawl therefore send no event for their end.
_JOB_EVENT_STATES = {"SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED"}
_CRAWL_EVENT_STATE = {"SUCCEEDED": "Succeeded", "FAILED": "Failed"}


# Runs one job of a workflow run: its name and arguments (the job's DefaultArguments, with
# --WORKFLOW_NAME and --WORKFLOW_RUN_ID as Glue adds them); raises when the job fails.
JobRunner = Callable[[str, dict[str, str]], None]


def deployed_python_shell(s3: Any, glue: Any) -> JobRunner:
    """Runs a Python shell job as Glue does: the script at the job's ScriptLocation, as deployed, with
    the job's arguments; here the script's ``main(argv, s3=..., glue=...)`` (the sample's signature)
    with these clients, as Glue's boto3 would reach the same account."""

    def run(job: str, arguments: dict[str, str]) -> None:
        location = glue.get_job(JobName=job)["Job"]["Command"]["ScriptLocation"]
        bucket, key = location.removeprefix("s3://").split("/", 1)
        script = types.ModuleType(key.rsplit("/", 1)[-1].removesuffix(".py"))
        exec(compile(s3.get_object(Bucket=bucket, Key=key)["Body"].read(), location, "exec"), script.__dict__)
        script.main([item for pair in arguments.items() for item in pair], s3=s3, glue=glue)

    return run


# A node's state in a scripted run: one state, or the states of its attempts in the order Glue
# made them, the last being its outcome.
NodeStates = Mapping[str, str | tuple[str, ...]]


@dataclass(frozen=True)
class RunOutcome:
    """How one workflow run ends, after ``running_polls`` GetWorkflowRun calls saw it RUNNING.

    ``node_states`` names the jobs and crawlers that do not succeed (graph workflows); the
    counts stand in for a graph in workflows without triggers. ``stopped_after_nodes`` stops the
    run between nodes (StopWorkflowRun while no node runs, e.g. from the console): only its first
    that many nodes run, and it ends STOPPED.
    """

    status: str = "COMPLETED"
    node_states: NodeStates = field(default_factory=dict)
    running_polls: int = 0
    stopped_after_nodes: int | None = None
    total_actions: int = 3
    failed: int = 0
    timed_out: int = 0
    stopped: int = 0
    errored: int = 0
    # AWS does not say whether a run's Statistics count a retried job's earlier attempts; with
    # this they do, so that a job that failed and then succeeded counts as failed too.
    statistics_count_attempts: bool = False
    # Properties its jobs put while it runs (PutWorkflowRunProperties: "If a property already exists
    # for the specified run, then it overrides the value otherwise adds the property", API reference,
    # https://docs.aws.amazon.com/glue/latest/webapi/API_PutWorkflowRunProperties.html), which
    # GetWorkflowRun then returns in the run's WorkflowRunProperties ("WorkflowRun").
    put_properties: Mapping[str, str] = field(default_factory=dict)

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
# A clean run whose job found nothing to do and said so (pacing in variables.tf).
IDLE = RunOutcome(put_properties={"glue_loop_idle": "true"})


@dataclass(frozen=True)
class ExecutedNode:
    name: str
    kind: str  # "JOB" or "CRAWLER"
    state: str
    # The workflow run it ran in, when a resumed run copied it from an earlier run's graph.
    run_id: str | None = None
    # The states of its attempts before the last (a job's retries, MaxRetries in "Job"), oldest first.
    earlier_attempts: tuple[str, ...] = ()


def _executed(name: str, kind: str, node_states: NodeStates) -> ExecutedNode:
    states = node_states.get(name, "SUCCEEDED")
    *earlier, final = (states,) if isinstance(states, str) else states
    return ExecutedNode(name, kind, final, earlier_attempts=tuple(earlier))


def _unique_id(kind: str, name: str) -> str:
    """A graph node's UniqueId, which ResumeWorkflowRun takes as a node id."""
    return f"{kind.lower()}-{name}"


def _named(entry: Mapping[str, Any]) -> str:
    """The job or crawler a trigger action or predicate condition names."""
    name: str = entry.get("JobName") or entry["CrawlerName"]
    return name


@dataclass(frozen=True)
class WorkflowGraph:
    """A workflow's triggers as they exist in moto, in GetTrigger's shape."""

    triggers: tuple[dict[str, Any], ...]
    # Job definitions (GetJob's shape) by name: their settings show in the graph's job runs.
    jobs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, backend: GlueBackend, workflow: str) -> WorkflowGraph:
        return cls(
            tuple(t.as_dict() for t in backend.triggers.values() if t.workflow_name == workflow),
            {name: job.as_dict() for name, job in backend.jobs.items()},
        )

    def run(self, node_states: NodeStates) -> list[ExecutedNode]:
        executed: list[ExecutedNode] = []
        fired: set[str] = set()

        def fire(trigger: dict[str, Any]) -> None:
            fired.add(trigger["Name"])
            executed.extend(self._actions(trigger, node_states))

        # StartWorkflowRun fires the on-demand start trigger, which is always CREATED: on-demand
        # triggers "never enter the ACTIVATED or DEACTIVATED state" ("AWS Glue triggers",
        # https://docs.aws.amazon.com/glue/latest/dg/about-triggers.html), and "if the start trigger
        # for a workflow is an on-demand trigger", start-workflow-run starts the workflow ("Running
        # and monitoring a workflow in AWS Glue",
        # https://docs.aws.amazon.com/glue/latest/dg/running_monitoring_workflow.html).
        for trigger in self.triggers:
            if trigger["Type"] == "ON_DEMAND":
                fire(trigger)
        progress = True
        while progress:
            progress = False
            for trigger in self.triggers:
                pending = self._armed(trigger) and trigger["Name"] not in fired
                if pending and self._holds(trigger["Predicate"], executed):
                    fire(trigger)
                    progress = True
        return executed

    def resume(
        self, previous: Sequence[ExecutedNode], restarted: Sequence[str], node_states: NodeStates
    ) -> list[ExecutedNode]:
        """The nodes a resumed run runs: the restarted ones, then the actions of every trigger
        downstream of a node it ran (its predicate names one) that fires on this run's states and
        those copied from the previous run. Glue runs "the selected nodes and all nodes that are
        downstream from those nodes" ("Repairing and resuming a workflow run",
        https://docs.aws.amazon.com/glue/latest/dg/resuming-workflow.html), in the normal flow
        of the workflow: a downstream node whose trigger does not fire does not run."""
        kinds = {node.name: node.kind for node in previous}
        executed = [_executed(name, kinds[name], node_states) for name in restarted]
        fired: set[str] = set()
        progress = True
        while progress:
            progress = False
            for trigger in self.triggers:
                ran = {node.name for node in executed}
                named = {_named(condition) for condition in trigger.get("Predicate", {}).get("Conditions", [])}
                pending = self._armed(trigger) and trigger["Name"] not in fired and bool(named & ran)
                states = [node for node in previous if node.name not in ran] + executed
                if pending and self._holds(trigger["Predicate"], states):
                    fired.add(trigger["Name"])
                    executed.extend(self._actions(trigger, node_states))
                    progress = True
        return executed

    def restarted(self, chosen: Sequence[str]) -> list[str]:
        """The chosen nodes ResumeWorkflowRun restarts: not one downstream of another chosen
        node, since "selecting the downstream node is redundant, because it will be run according
        to the normal flow of the workflow", and ResumeWorkflowRun answers only "the nodes that
        were actually restarted" (developer guide, as above; API reference, "ResumeWorkflowRun",
        https://docs.aws.amazon.com/glue/latest/webapi/API_ResumeWorkflowRun.html)."""
        reached: set[str] = set()
        for name in chosen:
            reached |= self._downstream(name)
        return [name for name in dict.fromkeys(chosen) if name not in reached]

    def _downstream(self, name: str) -> set[str]:
        """The jobs and crawlers that the end of ``name`` can start, directly or through others."""
        reached: set[str] = set()
        frontier = [name]
        while frontier:
            source = frontier.pop()
            for trigger in self.triggers:
                conditions = trigger.get("Predicate", {}).get("Conditions", [])
                if any(_named(condition) == source for condition in conditions):
                    targets = {_named(action) for action in trigger["Actions"]} - reached
                    reached |= targets
                    frontier.extend(targets)
        return reached

    @staticmethod
    def _actions(trigger: Mapping[str, Any], node_states: NodeStates) -> list[ExecutedNode]:
        return [
            _executed(_named(action), "JOB" if "JobName" in action else "CRAWLER", node_states)
            for action in trigger["Actions"]
        ]

    @staticmethod
    def _armed(trigger: Mapping[str, Any]) -> bool:
        """Whether a conditional trigger may fire: only once activated. Glue deactivates a trigger
        "to temporarily stop a trigger from firing" and offers to activate conditional triggers on
        creation "so that they are ready to fire as soon as they exist" ("AWS Glue triggers",
        https://docs.aws.amazon.com/glue/latest/dg/about-triggers.html); it says nothing of a
        CREATED conditional trigger inside a workflow run, so it is taken not to fire either."""
        return trigger["Type"] == "CONDITIONAL" and trigger["State"] == "ACTIVATED"

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
        """GetWorkflowRun's Graph: trigger, job and crawler nodes with this run's states (and
        with those of the runs they were copied from)."""
        states = {node.name: node.state for node in executed}
        attempts = {node.name: (*node.earlier_attempts, node.state) for node in executed}
        ran_in = {node.name: node.run_id or run_id for node in executed}
        triggers = {trigger["Name"]: trigger for trigger in self.triggers}
        nodes: dict[str, dict[str, Any]] = {}
        edges: list[dict[str, str]] = []

        def node(kind: str, name: str) -> str:
            unique_id = _unique_id(kind, name)
            if unique_id not in nodes:
                nodes[unique_id] = {"Type": kind, "Name": name, "UniqueId": unique_id}
                ran = name in states
                if kind == "JOB":
                    runs = job_runs(self, name, attempts[name], states, ran_in) if ran else []
                    nodes[unique_id]["JobDetails"] = {"JobRuns": runs}
                elif kind == "CRAWLER":
                    nodes[unique_id]["CrawlerDetails"] = {"Crawls": crawls(name, attempts[name]) if ran else []}
                else:
                    nodes[unique_id]["TriggerDetails"] = {"Trigger": triggers[name]}
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
    seen_ended: bool = False  # a GetWorkflowRun without IncludeGraph has answered it ended
    # When (time.monotonic()) the run reads ended after GlueRunSimulator.finish: its status lag later.
    reads_ended_at: float | None = None
    stopped: bool = False  # ended by StopWorkflowRun
    # Set in a run made by ResumeWorkflowRun: the nodes it restarted, and the job and crawler runs
    # of the resumed run's graph, which it copies where it does not run them.
    restarted: tuple[str, ...] = ()
    resumed_from: tuple[ExecutedNode, ...] = ()

    @property
    def finished(self) -> bool:
        if self.stopped:
            return True
        if self.outcome is None:
            return False
        read_ended = self.reads_ended_at is not None and time.monotonic() >= self.reads_ended_at
        return read_ended or self.polls > self.outcome.running_polls

    @property
    def status(self) -> str:
        """The status the run ends with."""
        outcome = self.outcome or CLEAN
        return "STOPPED" if self.stopped or outcome.stopped_after_nodes is not None else outcome.status

    @property
    def executed(self) -> list[ExecutedNode]:
        """Nodes the run executes (or would execute, while it is still running).

        A running run reports its first node running and the rest waiting, so a stopped run has
        run just that node, which Glue stops (a crawl is CANCELLED); the nodes after it never start.
        """
        outcome = self.outcome or CLEAN
        if self.restarted:
            executed = self.graph.resume(self.resumed_from, self.restarted, outcome.node_states)
        elif self.graph.triggers:
            executed = self.graph.run(outcome.node_states)
        else:
            # node_states, where given, say more of an action than the counts (its attempts, say).
            executed = [
                _executed(f"action-{i}", "JOB", {f"action-{i}": state, **outcome.node_states})
                for i, state in enumerate(outcome.counted_states())
            ]
        if outcome.stopped_after_nodes is not None:
            return executed[: outcome.stopped_after_nodes]
        if not self.stopped:
            return executed
        return [replace(node, state="STOPPED" if node.kind == "JOB" else "CANCELLED") for node in executed[:1]]

    def graph_nodes(self, finished: bool) -> list[ExecutedNode]:
        """The job and crawler runs its graph shows: those it ran, once it has finished, and in
        a resumed run those of the resumed run's graph it does not run again. "The nodes that
        didn't run in the resumed workflow are copied from the run graph of the original workflow
        run", with their run details ("Repairing and resuming a workflow run",
        https://docs.aws.amazon.com/glue/latest/dg/resuming-workflow.html)."""
        executed = self.executed
        ran = {node.name for node in executed}
        copied = [node for node in self.resumed_from if node.name not in ran]
        return copied + (executed if finished else [])

    def statistics(self, finished: bool) -> dict[str, int]:
        counts = dict.fromkeys(_COUNTERS, 0)
        executed = self.executed
        counts["TotalActions"] = len(executed)
        if not finished:
            counts.update(RunningActions=1, WaitingActions=len(executed) - 1)
            return counts
        every_attempt = (self.outcome or CLEAN).statistics_count_attempts
        for node in executed:
            for state in (*node.earlier_attempts, node.state) if every_attempt else (node.state,):
                counts[_STATISTIC[state]] += 1
        counts["TotalActions"] = sum(counts[counter] for counter in dict.fromkeys(_STATISTIC.values()))
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


def _crawl_started(node: ExecutedNode) -> list[dict[str, Any]]:
    detail = {"crawlerName": node.name, "state": "Started", "message": "Crawler Started"}
    return [glue_event("Glue Crawler State Change", detail)] if node.kind == "CRAWLER" else []


def _node_ended(run: SimulatedRun, node: ExecutedNode) -> list[dict[str, Any]]:
    if node.kind == "JOB" and node.state in _JOB_EVENT_STATES:
        detail = {
            "jobName": node.name,
            "severity": "INFO" if node.state == "SUCCEEDED" else "ERROR",
            "state": node.state,
            "jobRunId": f"jr_{run.run_id}_{node.name}",
            "message": f"Job run {node.state.lower()}",
        }
        return [glue_event("Glue Job State Change", detail)]
    if node.kind == "CRAWLER" and node.state in _CRAWL_EVENT_STATE:
        state = _CRAWL_EVENT_STATE[node.state]
        detail = {"crawlerName": node.name, "state": state, "message": f"Crawler {state}"}
        return [glue_event("Glue Crawler State Change", detail)]
    return []


def events_until_and_at_run_end(run: SimulatedRun) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The events Glue sends while the run goes on, in order, and those it sends as the run's
    last node ends (none when that node's end has no event, or when the run is stopped between
    nodes: nothing ends then)."""
    nodes = run.executed
    if (run.outcome or CLEAN).stopped_after_nodes is not None:
        return [event for node in nodes for event in _crawl_started(node) + _node_ended(run, node)], []
    *earlier, last = nodes
    until_end = [event for node in earlier for event in _crawl_started(node) + _node_ended(run, node)]
    return until_end + _crawl_started(last), _node_ended(run, last)


def state_change_events(run: SimulatedRun) -> list[dict[str, Any]]:
    """The "Glue Job State Change" and "Glue Crawler State Change" events Glue sends as the
    run's crawlers start and its jobs and crawlers end, in order."""
    until_end, at_end = events_until_and_at_run_end(run)
    return until_end + at_end


PollObserver = Callable[["SimulatedRun", str, dict[str, int]], None]


class GlueRunSimulator:
    def __init__(self) -> None:
        # Told of every poll: the run, the status and the statistics answered.
        self.on_poll: PollObserver | None = None
        self._lock = threading.RLock()
        # Held from the concurrency check of a start or resume until its run is recorded.
        self._starting = threading.Lock()
        self._scripts: dict[str, deque[RunOutcome]] = defaultdict(deque)
        self._job_runners: dict[str, tuple[JobRunner, Callable[[SimulatedRun], None] | None]] = {}
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self.runs: list[SimulatedRun] = []
        self.calls: list[str] = []
        # Runs started while another run of the same workflow had not finished.
        self.overlapping_starts: list[str] = []
        self._random_faults: tuple[random.Random, float, tuple[Fault, ...]] | None = None
        # Status lag of runs ended by finish() without a lag of their own.
        self.status_lag_seconds = 0.0
        # How long after its start a run is left out of GetWorkflowRuns: AWS does not say how soon
        # a listing shows a new run.
        self.listing_lag_seconds = 0.0

    # --- scripting ---

    def script(self, workflow: str, *outcomes: RunOutcome) -> None:
        """Queue how the next runs of ``workflow`` end; unscripted runs never end."""
        with self._lock:
            self._scripts[workflow].extend(outcomes)

    def run_jobs_with(
        self, workflow: str, runner: JobRunner, on_end: Callable[[SimulatedRun], None] | None = None
    ) -> None:
        """Runs of ``workflow`` with no scripted outcome run their jobs with ``runner``, in the order the
        trigger graph fires them, on a thread of their own as Glue runs them after StartWorkflowRun or
        ResumeWorkflowRun has answered; a job that raises ends FAILED (its downstream follows the
        graph), crawlers succeed. ``on_end(run)`` ends the run once its jobs have (default:
        :meth:`finish`), so a caller can send its job and crawler events as it ends."""
        with self._lock:
            self._job_runners[workflow] = (runner, on_end)

    def _run_jobs(self, run: SimulatedRun, jobs: Mapping[str, Mapping[str, Any]]) -> None:
        runner, on_end = self._job_runners[run.workflow]
        states: dict[str, str] = {}

        class Ran(Mapping[str, str]):
            """Node states as the graph asks for them: a job's by running it, once."""

            def __getitem__(self, name: str) -> str:
                if name not in jobs:
                    raise KeyError(name)
                if name not in states:
                    arguments = {
                        **(jobs[name].get("DefaultArguments") or {}),
                        "--WORKFLOW_NAME": run.workflow,
                        "--WORKFLOW_RUN_ID": run.run_id,
                    }
                    try:
                        runner(name, arguments)
                        states[name] = "SUCCEEDED"
                    except Exception:
                        states[name] = "FAILED"
                return states[name]

            def __iter__(self) -> Iterator[str]:
                return iter(jobs)

            def __len__(self) -> int:
                return len(jobs)

        if run.restarted:
            run.graph.resume(run.resumed_from, run.restarted, Ran())
        else:
            run.graph.run(Ran())
        with self._lock:
            run.outcome = RunOutcome(node_states=dict(states), running_polls=UNTIL_FINISHED)
        (on_end or (lambda ended: self.finish(ended.run_id)))(run)

    def _start_jobs(self, run: SimulatedRun) -> None:
        """Run a new run's jobs, when its workflow runs them and no outcome was scripted for it."""
        if run.outcome is None and run.workflow in self._job_runners:
            threading.Thread(target=self._run_jobs, args=(run, run.graph.jobs), daemon=True).start()

    def fail_next(self, operation: str, *faults: str | Fault) -> None:
        """Make the next calls of ``operation`` answer these Glue errors (codes, or Faults that act
        first): StartWorkflowRun, GetWorkflowRun, GetWorkflowRun+IncludeGraph (graph reads),
        GetWorkflowRuns, GetWorkflow, StopWorkflowRun or ResumeWorkflowRun."""
        with self._lock:
            self._faults[operation].extend(_as_fault(fault) for fault in faults)

    def fail_randomly(self, rng: random.Random, probability: float, *faults: str | Fault) -> None:
        """Make any patched call answer one of these Glue errors with this probability."""
        self._random_faults = (rng, probability, tuple(_as_fault(fault) for fault in faults))

    def finish(self, run_id: str, status_lag: float | None = None) -> SimulatedRun:
        """End a run's last job or crawler now, whatever its running polls: GetWorkflowRun reads
        the run ended ``status_lag`` seconds later (default: ``status_lag_seconds``), RUNNING until then.

        The status lag: AWS does not document when a workflow run's Status turns COMPLETED
        relative to the "Glue Job State Change" or "Glue Crawler State Change" event of its last
        node ("Automating AWS Glue with EventBridge" and the GetWorkflowRun reference say nothing
        of it). The harness takes the less convenient order: the event is sent first, and the
        run still reads RUNNING for a while after it.
        """
        run = self._run(run_id)
        if run is None:
            raise KeyError(run_id)
        lag = self.status_lag_seconds if status_lag is None else status_lag
        with self._lock:
            run.reads_ended_at = time.monotonic() + lag
        return run

    def runs_of(self, workflow: str) -> list[SimulatedRun]:
        with self._lock:
            return [run for run in self.runs if run.workflow == workflow]

    # --- moto patches ---

    @contextmanager
    def installed(self) -> Iterator[GlueRunSimulator]:
        """Lays the simulator over moto's Glue while the context lasts."""
        original_start = GlueBackend.start_workflow_run
        original_stop = GlueBackend.stop_workflow_run
        original_get_workflow = GlueResponse.get_workflow
        simulator = self

        def start_workflow_run(backend: GlueBackend, workflow_name: str, properties: dict[str, str] | None) -> str:
            fault = simulator._record_call("StartWorkflowRun")
            with simulator._starting:
                simulator._refuse_at_concurrency_limit(backend, workflow_name)
                # moto names the workflow's latest run as a started run's PreviousRunId. Glue says
                # only that it is "the ID of the previous workflow run" ("WorkflowRun"), which may be
                # that too, so it is kept: the less convenient reading for a loop that looks for a
                # resume by it.
                run_id: str = original_start(backend, workflow_name, properties)
                with simulator._lock:
                    if any(not run.finished for run in simulator.runs if run.workflow == workflow_name):
                        simulator.overlapping_starts.append(run_id)
                    script = simulator._scripts[workflow_name]
                    started = SimulatedRun(
                        workflow=workflow_name,
                        run_id=run_id,
                        outcome=script.popleft() if script else None,
                        graph=WorkflowGraph.of(backend, workflow_name),
                        properties=dict(properties or {}),
                    )
                    simulator.runs.append(started)
            simulator._start_jobs(started)
            if fault is not None:
                raise fault.answered("StartWorkflowRun")
            return run_id

        def stop_workflow_run(backend: GlueBackend, workflow_name: str, run_id: str) -> None:
            # moto's StopWorkflowRun checks that the run exists and changes nothing; Glue stops
            # the run's running nodes and ends it STOPPED.
            fault = simulator._record_call("StopWorkflowRun")
            original_stop(backend, workflow_name, run_id)
            run = simulator._run(run_id)
            if run is not None:
                with simulator._lock:
                    if run.finished:
                        raise JsonRESTError("IllegalWorkflowStateException", f"Workflow run {run_id} is not running")
                    run.stopped = True
                moto_run = backend.workflows[workflow_name].runs[run_id]
                moto_run.status, moto_run.completed_on = "STOPPED", utcnow()
            if fault is not None:
                raise fault.answered("StopWorkflowRun")

        def get_workflow(response: GlueResponse) -> ActionResult:
            fault = simulator._record_call("GetWorkflow")
            answer = original_get_workflow(response)
            described: dict[str, Any] = answer.result["Workflow"]  # type: ignore[index]
            simulator._last_run_as_listed(response.glue_backend, described)
            if fault is not None:
                raise fault.answered("GetWorkflow")
            return answer

        def get_workflow_run(response: GlueResponse) -> ActionResult:
            include_graph = bool(response._get_param("IncludeGraph"))
            operation = "GetWorkflowRun+IncludeGraph" if include_graph else "GetWorkflowRun"
            fault = simulator._record_call(operation)
            workflow_name, run_id = response._get_param("Name"), response._get_param("RunId")
            answer: dict[str, Any] = response.glue_backend.get_workflow_run(workflow_name, run_id)
            run = simulator._run(run_id)
            if run is not None:
                answer.update(simulator._poll(response.glue_backend, run, include_graph, answered=fault is None))
            if fault is not None:
                raise fault.answered(operation)
            return ActionResult({"Run": answer})

        def get_workflow_runs(response: GlueResponse) -> ActionResult:
            fault = simulator._record_call("GetWorkflowRuns")
            runs, next_token = simulator._list_runs(
                response.glue_backend,
                response._get_param("Name"),
                response._get_int_param("MaxResults"),
                response._get_param("NextToken"),
            )
            if fault is not None:
                raise fault.answered("GetWorkflowRuns")
            return ActionResult({"Runs": runs, **({"NextToken": next_token} if next_token else {})})

        def resume_workflow_run(response: GlueResponse) -> ActionResult:
            # moto routes an action to the GlueResponse method of its snake_case name and answers
            # NotImplementedError without one; boto3 and Step Functions' aws-sdk:glue tasks (whose
            # boto clients call this server) both come through here.
            fault = simulator._record_call("ResumeWorkflowRun")
            run_id, node_ids = simulator._resume(
                response.glue_backend,
                response._get_param("Name"),
                response._get_param("RunId"),
                response._get_param("NodeIds") or [],
            )
            if fault is not None:
                raise fault.answered("ResumeWorkflowRun")
            return ActionResult({"RunId": run_id, "NodeIds": node_ids})

        with (
            patch.object(GlueBackend, "start_workflow_run", start_workflow_run),
            patch.object(GlueBackend, "stop_workflow_run", stop_workflow_run),
            patch.object(GlueResponse, "get_workflow_run", get_workflow_run),
            patch.object(GlueResponse, "get_workflow", get_workflow),
            patch.object(GlueResponse, "get_workflow_runs", get_workflow_runs),
            patch.object(GlueResponse, "resume_workflow_run", resume_workflow_run, create=True),
        ):
            yield self

    def _resume(
        self, backend: GlueBackend, workflow_name: str, run_id: str, node_ids: list[str]
    ) -> tuple[str, list[str]]:
        """ResumeWorkflowRun as Glue documents it ("Repairing and resuming a workflow run",
        https://docs.aws.amazon.com/glue/latest/dg/resuming-workflow.html, "Notes and limitations";
        API reference, "ResumeWorkflowRun",
        https://docs.aws.amazon.com/glue/latest/webapi/API_ResumeWorkflowRun.html). Returns the
        new run's id and the node ids it restarts.

        - "You can resume a workflow run only if it's in the COMPLETED state": a run still
          running, stopped or in error is refused with IllegalWorkflowStateException ("The
          workflow is in an invalid state to perform a requested operation"). A resumed run can
          itself be resumed ("You can resume the same workflow run multiple times").
        - "The nodes that are to be restarted must have a run attempt in the original run", and
          "you can't resume a workflow run from a trigger node": any other node id, or none, is
          InvalidInputException. A node that succeeded may be chosen.
        - "The resumed workflow run is tracked as a separate workflow run with a new run ID", whose
          PreviousRunId ("The ID of the previous workflow run", "WorkflowRun") is the resumed run.
        - Undocumented, so taken the less convenient way: the new run counts against the
          workflow's MaxConcurrentRuns like any run (ConcurrentRunsExceededException, one of the
          operation's errors, when it is reached; the resumed run is COMPLETED, so it never counts);
          its run properties are the workflow's DefaultRunProperties only, not those of the
          resumed run; its Statistics count only the nodes it runs, not the copied ones (the
          graph shows those); and it runs on the resumed run's snapshot of the triggers.
        """
        workflow = backend.workflows.get(workflow_name)
        if workflow is None:
            raise EntityNotFoundException("Entity not found")
        workflow.get_run(run_id)  # EntityNotFoundException for a run the workflow never had
        previous = self._run(run_id)
        with self._lock:
            status = previous.status if previous is not None and previous.finished else "RUNNING"
        if previous is None or status != "COMPLETED":
            raise JsonRESTError(
                "IllegalWorkflowStateException", f"Workflow run {run_id} is {status}: only a COMPLETED run resumes"
            )
        attempted = {_unique_id(node.kind, node.name): node for node in previous.graph_nodes(finished=True)}
        not_attempted = [node_id for node_id in node_ids if node_id not in attempted]
        if not node_ids or not_attempted:
            raise JsonRESTError(
                "InvalidInputException",
                f"Nodes without a run attempt in run {run_id} cannot be restarted: {not_attempted or node_ids}",
            )
        restarted = previous.graph.restarted([attempted[node_id].name for node_id in node_ids])
        with self._starting, self._lock:
            self._refuse_at_concurrency_limit(backend, workflow_name)
            running = [run for run in self.runs if run.workflow == workflow_name and not run.finished]
            moto_run = FakeWorkflowRun(
                workflow_name, previous_run_id=run_id, properties=dict(workflow.default_run_properties or {})
            )
            workflow.runs[moto_run.run_id] = moto_run
            if running:
                self.overlapping_starts.append(moto_run.run_id)
            script = self._scripts[workflow_name]
            resumed = SimulatedRun(
                workflow=workflow_name,
                run_id=moto_run.run_id,
                outcome=script.popleft() if script else None,
                graph=previous.graph,
                properties=dict(moto_run.properties),
                restarted=tuple(restarted),
                resumed_from=tuple(
                    replace(node, run_id=node.run_id or run_id) for node in previous.graph_nodes(finished=True)
                ),
            )
            self.runs.append(resumed)
        self._start_jobs(resumed)
        restarted_ids = [node_id for node_id in dict.fromkeys(node_ids) if attempted[node_id].name in restarted]
        return moto_run.run_id, restarted_ids

    def _poll(self, backend: GlueBackend, run: SimulatedRun, include_graph: bool, answered: bool) -> dict[str, Any]:
        with self._lock:
            # Reading the graph of a run is not polling it.
            run.polls += 0 if include_graph else 1
            finished = run.finished
            # A read that acted and then failed told its caller nothing.
            run.seen_ended |= finished and not include_graph and answered
        answer = self._state(backend, run, finished)
        if include_graph:
            answer["Graph"] = run.graph.graph(run.graph_nodes(finished), run.run_id)
        elif self.on_poll is not None:
            self.on_poll(run, answer.get("Status", "RUNNING"), answer["Statistics"])
        return answer

    def _refuse_at_concurrency_limit(self, backend: GlueBackend, workflow_name: str) -> None:
        """ConcurrentRunsExceededException, one of StartWorkflowRun's and ResumeWorkflowRun's errors,
        when the workflow's runs in this simulator that have not finished reach its MaxConcurrentRuns
        ("CreateWorkflow": "If you leave this parameter blank, there is no limit"); moto's own
        StartWorkflowRun never refuses. Runs of earlier tests, which never end, are not counted."""
        workflow = backend.workflows.get(workflow_name)
        limit = workflow.max_concurrent_runs if workflow is not None else None
        with self._lock:
            running = [run for run in self.runs if run.workflow == workflow_name and not run.finished]
        if limit and len(running) >= limit:
            raise JsonRESTError(
                "ConcurrentRunsExceededException", f"Concurrent runs exceeded for workflow: {workflow_name}"
            )

    def _state(self, backend: GlueBackend, run: SimulatedRun, finished: bool) -> dict[str, Any]:
        """The run's Statistics, and its Status, CompletedOn and the properties its jobs put once it has finished."""
        answer: dict[str, Any] = {"Statistics": run.statistics(finished)}
        if finished:
            moto_run = backend.workflows[run.workflow].runs[run.run_id]
            moto_run.status = run.status
            moto_run.completed_on = moto_run.completed_on or utcnow()
            # Put by its jobs while it ran; a run is read ended only after its last job has.
            moto_run.properties = {**(moto_run.properties or {}), **(run.outcome or CLEAN).put_properties}
            answer.update(Status=run.status, CompletedOn=moto_run.completed_on)
            if moto_run.properties:
                answer["WorkflowRunProperties"] = moto_run.properties
        return answer

    def _last_run_as_listed(self, backend: GlueBackend, described: dict[str, Any]) -> None:
        """GetWorkflow's LastRun ("the information about the last execution of the workflow"), with
        the run's state, under the listing lag too: AWS does not say how soon a new run shows there
        either, so it is taken to show no sooner than in GetWorkflowRuns."""
        listed_since = utcnow() - timedelta(seconds=self.listing_lag_seconds)
        workflow = backend.workflows[described["Name"]]
        listed = [run for run in workflow.runs.values() if run.started_on <= listed_since]
        described.pop("LastRun", None)
        if listed:
            described["LastRun"] = self._as_read(backend, listed[-1])

    def _list_runs(
        self, backend: GlueBackend, workflow_name: str, max_results: int | None, next_token: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """GetWorkflowRuns: a page of the workflow's runs, as GetWorkflowRun answers each (without
        counting a poll), and the token of the next page. Glue documents no order for the runs
        (API reference, "GetWorkflowRuns"), so they come in one that is fixed, so that pages do
        not shift, but follows neither their start nor its reverse; nor does it document a default
        page size, taken to be 100 here."""
        workflow = backend.workflows.get(workflow_name)
        if workflow is None:
            raise EntityNotFoundException("Entity not found")
        listed_since = utcnow() - timedelta(seconds=self.listing_lag_seconds)
        runs = sorted(
            (run for run in workflow.runs.values() if run.started_on <= listed_since),
            key=lambda run: hashlib.sha256(run.run_id.encode()).digest(),
        )
        start = int(next_token or 0)
        end = start + (max_results or 100)
        page = [self._as_read(backend, moto_run) for moto_run in runs[start:end]]
        return page, str(end) if end < len(runs) else None

    def _as_read(self, backend: GlueBackend, moto_run: FakeWorkflowRun) -> dict[str, Any]:
        """A run as GetWorkflowRun answers it, without counting a poll."""
        answer: dict[str, Any] = moto_run.as_dict()
        run = self._run(moto_run.run_id)
        if run is not None:
            with self._lock:
                finished = run.finished
            answer.update(self._state(backend, run, finished))
        return answer

    def _record_call(self, operation: str) -> Fault | None:
        """Record a call and raise the fault due for it, if any, when that fault refuses the call;
        a fault due once the call has acted is returned for the caller to raise when it has."""
        with self._lock:
            self.calls.append(operation)
            faults = self._faults[operation]
            fault = faults.popleft() if faults else None
            if fault is None and self._random_faults is not None:
                rng, probability, choices = self._random_faults
                fault = rng.choice(choices) if rng.random() < probability else None
        if fault is not None and not fault.acted:
            raise fault.error(operation)
        return fault

    def _run(self, run_id: str) -> SimulatedRun | None:
        with self._lock:
            return next((run for run in self.runs if run.run_id == run_id), None)


# --- Graph nodes in full, and workflows of hundreds of nodes ------------------------------------
#
# GetWorkflowRun with IncludeGraph details every node (Glue API reference, "Node",
# https://docs.aws.amazon.com/glue/latest/webapi/API_Node.html): a trigger node carries its whole
# Trigger (TriggerNodeDetails), a job node its job runs (JobNodeDetails, "JobRun"), a crawler node
# its crawls (CrawlerNodeDetails, "Crawl"). The loop reads that graph as one task result, which
# Step Functions caps at 256 KiB, so the nodes carry the fields Glue fills in, not a bare state.

# Glue's own defaults for a job that does not set them: Timeout 2,880 minutes, and a job of
# Glue 2.0 or later gets workers, not DPUs (API reference, "Job": Timeout, WorkerType).
_JOB_DEFAULTS: Mapping[str, Any] = {"Timeout": 2880, "WorkerType": "G.1X", "NumberOfWorkers": 10, "GlueVersion": "4.0"}
# DPUs per worker ("Job": WorkerType); MaxCapacity of a worker-type job is their total.
_DPU_PER_WORKER = {"G.025X": 0.25, "G.1X": 1.0, "G.2X": 2.0, "G.4X": 4.0, "G.8X": 8.0, "Z.2X": 2.0}
# What a job run or crawl that did not succeed says, by the job's Command.Name (a Spark job,
# a Python shell job) or for a crawl. Glue documents no message texts; these have the form of
# the messages it shows: a failed Spark stage, a Python traceback's last line, a crawler's error.
_STOPPED_EARLY = {
    "TIMEOUT": "Job run timed out after the job's timeout",
    "ERROR": "Internal service error: the job run could not be started",
}
_ERROR_MESSAGES: Mapping[str, Mapping[str, str]] = {
    "glueetl": {
        "FAILED": (
            "An error occurred while calling o214.pyWriteDynamicFrame. Job aborted due to stage failure: Task 7 in "
            "stage 12.0 failed 4 times, most recent failure: Lost task 7.3 in stage 12.0 (TID 431) (172.35.80.17 "
            "executor 4): java.io.IOException: Failed to write to s3 after 10 attempts"
        ),
        **_STOPPED_EARLY,
    },
    "pythonshell": {
        "FAILED": (
            "Traceback (most recent call last): ... ValueError: the script raised an error (its traceback is in"
            " the job run's CloudWatch logs)"
        ),
        **_STOPPED_EARLY,
    },
    "crawler": {"FAILED": "Internal Service Exception"},
}
_EXECUTION_SECONDS = 412


def _in_no_fixed_order(name: str, attempts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A node's job runs or crawls (oldest first) in the order of a hash of its name and their
    numbers: Glue documents no order for "JobNodeDetails": JobRuns or "CrawlerNodeDetails": Crawls.
    Fixed for a name, so that a test can pick one whose latest attempt is neither first nor last."""
    numbered = list(enumerate(attempts))
    numbered.sort(key=lambda item: hashlib.sha256(f"{name}/{item[0]}".encode()).hexdigest())
    return [attempt for _, attempt in numbered]


def job_runs(
    graph: WorkflowGraph, name: str, attempts: Sequence[str], states: Mapping[str, str], ran_in: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The JobRuns of job ``name`` in this workflow run, one per attempt (their states, oldest first,
    in ``attempts``), as GetWorkflowRun's graph shows them; ``ran_in`` names the workflow run each job
    ran in (an earlier one for a job a resumed run copied). A retry is a job run of its own, with
    the next "Attempt" and a later StartedOn ("JobRun": Attempt, "The number of the attempt to run
    this job"; Glue names a retry's id after its attempt, jr_<id>_attempt_<n>).

    The arguments are those of the trigger action that started it (Action.Arguments "replace the
    default arguments set in the job definition itself" for that run) and the workflow's own:
    a job in a workflow reads WORKFLOW_NAME and WORKFLOW_RUN_ID from its arguments ("Getting and
    setting workflow run properties",
    https://docs.aws.amazon.com/glue/latest/dg/workflow-run-properties-code.html). Its
    predecessors are the jobs of the predicate of the trigger that started it ("Predecessor").
    """
    nobody: tuple[dict[str, Any], dict[str, Any]] = ({}, {})
    starters = [(trigger, action) for trigger in graph.triggers for action in trigger["Actions"]]
    trigger, action = next(((t, a) for t, a in starters if a.get("JobName") == name), nobody)
    job = {**_JOB_DEFAULTS, **{key: value for key, value in graph.jobs.get(name, {}).items() if value is not None}}
    messages = _ERROR_MESSAGES.get((job.get("Command") or {}).get("Name", "glueetl"), _ERROR_MESSAGES["glueetl"])
    conditions = trigger.get("Predicate", {}).get("Conditions", [])
    run_id = ran_in[name]
    every_attempt: dict[str, Any] = {
        "JobName": name,
        "JobMode": "SCRIPT",
        "Arguments": {
            **action.get("Arguments", {}),
            "--WORKFLOW_NAME": trigger.get("WorkflowName", ""),
            "--WORKFLOW_RUN_ID": run_id,
        },
        "PredecessorRuns": [
            {"JobName": condition["JobName"], "RunId": f"jr_{ran_in[condition['JobName']]}_{condition['JobName']}"}
            for condition in conditions
            if condition.get("JobName") in states
        ],
        "AllocatedCapacity": 0,
        "ExecutionTime": _EXECUTION_SECONDS,
        "Timeout": action.get("Timeout", job["Timeout"]),
        "MaxCapacity": _DPU_PER_WORKER.get(job["WorkerType"], 1.0) * job["NumberOfWorkers"],
        "WorkerType": job["WorkerType"],
        "NumberOfWorkers": job["NumberOfWorkers"],
        "LogGroupName": "/aws-glue/jobs",
        "GlueVersion": job["GlueVersion"],
        "ExecutionClass": "STANDARD",
    }
    if trigger:
        every_attempt["TriggerName"] = trigger["Name"]
    runs = [
        {
            "Id": f"jr_{run_id}_{name}" + (f"_attempt_{attempt}" if attempt else ""),
            "Attempt": attempt,
            "JobRunState": state,
            **_times_of_attempt(attempt, len(attempts)),
            **every_attempt,
            **({"ErrorMessage": messages[state]} if state in messages else {}),
        }
        for attempt, state in enumerate(attempts)
    ]
    return _in_no_fixed_order(name, runs)


def _times_of_attempt(attempt: int, attempts: int) -> dict[str, datetime.datetime]:
    """StartedOn, LastModifiedOn and CompletedOn of one of a node's attempts, each after the one
    before, the last ending now."""
    completed_on = utcnow() - timedelta(seconds=_EXECUTION_SECONDS * (attempts - 1 - attempt))
    return {
        "StartedOn": completed_on - timedelta(seconds=_EXECUTION_SECONDS),
        "LastModifiedOn": completed_on,
        "CompletedOn": completed_on,
    }


def crawls(name: str, attempts: Sequence[str]) -> list[dict[str, Any]]:
    """The Crawls of crawler ``name`` in this workflow run, one per state in ``attempts`` (oldest
    first), in no fixed order ("Crawl": its log stream is the crawler's, in the /aws-glue/crawlers
    log group; a crawl has no Attempt, so only StartedOn tells the latest)."""
    runs = []
    for number, state in enumerate(attempts):
        times = _times_of_attempt(number, len(attempts))
        run = {"State": state, "StartedOn": times["StartedOn"], "CompletedOn": times["CompletedOn"]}
        run.update(LogGroup="/aws-glue/crawlers", LogStream=name)
        if state in _ERROR_MESSAGES["crawler"]:
            run["ErrorMessage"] = _ERROR_MESSAGES["crawler"][state]
        runs.append(run)
    return _in_no_fixed_order(name, runs)


def create_fan_out_workflow(glue: Any, workflow: str, branches: int, with_arguments: bool = True) -> list[str]:
    """Create, through the Glue API (``glue`` is a boto3 client), a workflow of 2 + 2 x
    ``branches`` nodes: an on-demand trigger starts the job ``<workflow>-extract``, and on its
    success each branch's conditional trigger starts one load job, by default with the arguments
    a partitioned load is given. Returns the load jobs' names, in branch order.

    The arguments are the size real ones have: S3 paths under bucket names that carry the account
    and region, and the special parameters Glue reads ("Using job parameters in AWS Glue jobs",
    https://docs.aws.amazon.com/glue/latest/dg/aws-glue-programming-etl-glue-arguments.html).
    They show twice in a run's graph (in the trigger's action and in the job run), and they are
    what takes 300 nodes over 256 KiB: without them a 300-node graph is some 216 KiB.
    """
    suffix = f"{ACCOUNT_ID}-{REGION}"
    extract = f"{workflow}-extract"
    loads = [f"{workflow}-load-store-{branch:04d}" for branch in range(branches)]
    glue.create_workflow(Name=workflow, MaxConcurrentRuns=1)
    for job in (extract, *loads):
        glue.create_job(
            Name=job,
            Role=f"arn:aws:iam::{ACCOUNT_ID}:role/service-role/AWSGlueServiceRole-retail",
            Command={"Name": "glueetl", "ScriptLocation": f"s3://aws-glue-assets-{suffix}/scripts/{job}.py"},
            GlueVersion="4.0",
            WorkerType="G.1X",
            NumberOfWorkers=10,
            Timeout=120,
        )
    glue.create_trigger(
        WorkflowName=workflow, Name=f"{workflow}-start", Type="ON_DEMAND", Actions=[{"JobName": extract}]
    )
    for branch, load in enumerate(loads):
        store = f"store={branch:04d}"
        arguments = {
            "--source_path": f"s3://retail-raw-{suffix}/sales/{store}/",
            "--target_path": f"s3://retail-curated-{suffix}/sales/{store}/",
            "--target_database": "retail_curated",
            "--target_table": f"sales_store_{branch:04d}",
            "--partition_keys": "year,month,day",
            "--job-bookmark-option": "job-bookmark-enable",
            "--enable-metrics": "true",
            "--enable-continuous-cloudwatch-log": "true",
            "--enable-spark-ui": "true",
            "--spark-event-logs-path": f"s3://aws-glue-assets-{suffix}/sparkHistoryLogs/",
            "--TempDir": f"s3://aws-glue-assets-{suffix}/temporary/",
            "--extra-py-files": f"s3://retail-artifacts-{suffix}/glue/libs/retail_common-2.4.1-py3-none-any.whl",
        }
        glue.create_trigger(
            WorkflowName=workflow,
            Name=f"{workflow}-extracted-then-load-store-{branch:04d}",
            Type="CONDITIONAL",
            StartOnCreation=True,
            Predicate={
                "Logical": "AND",
                "Conditions": [{"LogicalOperator": "EQUALS", "JobName": extract, "State": "SUCCEEDED"}],
            },
            Actions=[{"JobName": load, "Arguments": arguments} if with_arguments else {"JobName": load}],
        )
    return loads
