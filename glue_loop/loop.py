"""A loop's executions, the runs of its Glue workflow and its pause flag, through botocore."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import botocore.loaders
import botocore.session
from botocore.config import Config

from glue_loop.definition import DefinitionError, LoopDefinition, parse

FINAL_STATUSES = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
OPERATOR_STOP = "OperatorStop"


@dataclass(frozen=True)
class Execution:
    arn: str
    name: str
    status: str  # "" while Step Functions lists an execution it has not started yet
    started: datetime
    stopped: datetime | None
    run_number: int | None
    sequence: int | None
    error: str | None
    cause: str | None
    stop_reason: str | None  # set by the loop when it ends without failing, e.g. "paused"
    started_successor: bool

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES


@dataclass(frozen=True)
class Position:
    state: str | None  # the state entered last; None when the history shows none
    data: dict[str, Any]  # the state data at the latest state event ({} when none is in sight)
    entered: datetime | None = None  # when that state was entered


@dataclass(frozen=True)
class Node:
    name: str
    kind: str  # JOB or CRAWLER
    state: str | None  # None: not run (yet) in this workflow run
    error: str | None
    # In a run the loop resumed: True for a node Glue did not run again, whose results it copied
    # from the resumed run. None in any other run.
    copied: bool | None = None


@dataclass(frozen=True)
class GlueRun:
    run_id: str
    status: str
    started: datetime | None
    completed: datetime | None
    statistics: dict[str, int]
    nodes: list[Node]
    error: str | None
    # In a run the loop resumed, the run it resumed, as the loop recorded it. Not GetWorkflowRun's
    # PreviousRunId: "the ID of the previous workflow run" ("WorkflowRun", AWS Glue API reference) may
    # name the run before a run that resumes nothing, as moto's does.
    resumes_run_id: str | None = None
    # The graph's edges by name, triggers included: each node's successors.
    successors: dict[str, list[str]] = field(default_factory=dict)


@functools.cache
def _service_models() -> botocore.loaders.Loader:
    """botocore's service models and endpoints, read from disk once per process: a session reading
    them for itself spends about 0.3 s of CPU on every connect."""
    return botocore.loaders.create_loader()


class Loop:
    def __init__(self, state_machine_arn: str, definition: LoopDefinition, clients: dict[str, Any]) -> None:
        self.arn = state_machine_arn
        self.definition = definition
        self._sfn, self._glue, self._ssm = clients["stepfunctions"], clients["glue"], clients["ssm"]

    @classmethod
    def connect(cls, state_machine_arn: str, endpoint_url: str | None = None, region: str | None = None) -> Loop:
        """Reads the state machine's definition; raises botocore's errors for a wrong ARN,
        missing credentials or an unreachable endpoint."""
        arn_fields = state_machine_arn.split(":")
        # The state machine's own region unless told otherwise: a profile's default region may differ.
        region = region or (arn_fields[3] if len(arn_fields) > 3 and arn_fields[3] else None)
        config = Config(connect_timeout=5, read_timeout=30, retries={"mode": "standard", "max_attempts": 3})
        # A session of its own (a default one keeps the credentials it found first), sharing the models.
        session = botocore.session.get_session()
        session.register_component("data_loader", _service_models())
        clients: dict[str, Any] = {
            service: session.create_client(service, region_name=region, endpoint_url=endpoint_url, config=config)
            for service in ("stepfunctions", "glue", "ssm")
        }
        machine = clients["stepfunctions"].describe_state_machine(stateMachineArn=state_machine_arn)
        return cls(state_machine_arn, parse(machine["definition"]), clients)

    @property
    def workflow(self) -> str:
        return self.definition.workflow_name

    # --- executions ---

    def executions(self, limit: int = 1000, status: str | None = None) -> list[Execution]:
        """The newest ``limit`` executions (only those with ``status`` if given), newest first."""
        filters = {"statusFilter": status} if status else {}
        listed = self._sfn.list_executions(stateMachineArn=self.arn, maxResults=limit, **filters)["executions"]
        return [self._describe(item["executionArn"]) for item in listed]

    def _describe(self, execution_arn: str) -> Execution:
        item = self._sfn.describe_execution(executionArn=execution_arn)
        execution_input = json.loads(item.get("input") or "{}")
        output = json.loads(item.get("output") or "{}")
        return Execution(
            arn=execution_arn,
            name=item["name"],
            status=item.get("status", ""),
            started=item["startDate"],
            stopped=item.get("stopDate"),
            run_number=execution_input.get("run_number"),
            sequence=execution_input.get("sequence"),
            error=item.get("error") or None,
            cause=item.get("cause") or None,
            stop_reason=output.get("stop_reason"),
            started_successor="next" in output,
        )

    def has_ended(self) -> bool:
        """Whether no execution runs nor is about to: the newest ended without starting a successor."""
        if self.executions(status="RUNNING"):
            return False
        newest = self.executions(limit=1)
        return not newest or (newest[0].final and not newest[0].started_successor)

    def current_state(self, execution_arn: str) -> str | None:
        return self.position(execution_arn).state

    def position(self, execution_arn: str) -> Position:
        """Where the execution is, from the end of its history: a running one's state and data, or
        an ended one's last (a Fail state's input, which is all that is left of its data:
        DescribeExecution gives no output for an execution that failed, API reference,
        "DescribeExecution")."""
        # 40: a Task retried 6 times (3 events a try) still leaves its entered event in sight.
        events = self._sfn.get_execution_history(executionArn=execution_arn, reverseOrder=True, maxResults=40)
        # Taken by event id, not position: some emulators ignore reverseOrder.
        latest = sorted(events["events"], key=lambda event: event["id"], reverse=True)
        entered = next((event for event in latest if "stateEnteredEventDetails" in event), None)
        return Position(
            str(entered["stateEnteredEventDetails"]["name"]) if entered else None,
            next(filter(None, map(_state_data, latest)), {}),
            entered["timestamp"] if entered else None,
        )

    def start(self, execution_input: str) -> str:
        return str(self._sfn.start_execution(stateMachineArn=self.arn, input=execution_input)["executionArn"])

    def stop(self, execution_arn: str, cause: str) -> None:
        self._sfn.stop_execution(executionArn=execution_arn, error=OPERATOR_STOP, cause=cause)

    # --- Glue ---

    def glue_run(self) -> GlueRun | None:
        """The workflow's current or last run, None when it has none or does not exist."""
        try:
            workflow = self._glue.get_workflow(Name=self.workflow, IncludeGraph=False)["Workflow"]
        except self._glue.exceptions.EntityNotFoundException:
            return None
        last_run = workflow.get("LastRun")
        if last_run is None:
            return None
        run = self._glue.get_workflow_run(Name=self.workflow, RunId=last_run["WorkflowRunId"], IncludeGraph=True)["Run"]
        graph = run.get("Graph", {})
        names = {node["UniqueId"]: node["Name"] for node in graph.get("Nodes", [])}
        successors: dict[str, list[str]] = {}
        for edge in graph.get("Edges", []):
            successors.setdefault(names[edge["SourceId"]], []).append(names[edge["DestinationId"]])
        return GlueRun(
            run_id=run["WorkflowRunId"],
            status=run["Status"],
            started=run.get("StartedOn"),
            completed=run.get("CompletedOn"),
            statistics=run.get("Statistics", {}),
            nodes=[_node(node) for node in graph.get("Nodes", []) if node["Type"] != "TRIGGER"],
            error=run.get("ErrorMessage"),
            successors=successors,
        )

    def stop_glue_run(self, run_id: str) -> None:
        self._glue.stop_workflow_run(Name=self.workflow, RunId=run_id)

    # --- pause flag ---

    @property
    def pause_parameter(self) -> str:
        if self.definition.pause_parameter is None:
            raise DefinitionError("this loop reads no pause parameter (create_pause_parameter = false): use stop")
        return self.definition.pause_parameter

    def pause_flag(self) -> str | None:
        """The pause parameter's value, None when the parameter does not exist."""
        try:
            return str(self._ssm.get_parameter(Name=self.pause_parameter)["Parameter"]["Value"])
        except self._ssm.exceptions.ParameterNotFound:
            return None

    def set_pause_flag(self, paused: bool) -> None:
        self._ssm.put_parameter(Name=self.pause_parameter, Value=str(paused).lower(), Overwrite=True)


def wait_before_run(loop: dict[str, Any], config: dict[str, Any]) -> tuple[bool, int]:
    """The loop's own wait before its next run (Cooldown, and WaitForData's back-off): whether it
    is an idle back-off, and its seconds. The same rule as loop.tf's jsonata_wait_before_run,
    which tests/test_glue_loop_cli.py holds it to."""
    pacing = config.get("pacing") or {}
    idle_runs, run_number = int(loop.get("idle_runs", 0)), int(loop.get("run_number", 1))
    idle = run_number > 1 and bool(pacing.get("enabled")) and idle_runs > 0
    if run_number == 1:
        return False, 0
    if not idle:
        return False, int(config.get("cooldown_seconds", 0))
    growth = pacing["multiplier"] ** min(idle_runs - 1, pacing["growth_steps"])
    return True, int(min(pacing["max_seconds"], round(pacing["initial_seconds"] * growth)))


def reads_as_paused(flag: str | None) -> bool:
    """The loop's own reading of its pause flag (IsPaused): "true" in any case, spaces around it
    ignored; a missing parameter is not a pause."""
    return flag is not None and flag.strip().lower() == "true"


def _state_data(event: dict[str, Any]) -> dict[str, Any] | None:
    """A state's input as it entered or its output as it left; None for other events. In full:
    "truncated" is "Always false for API calls" (API reference, "HistoryEventExecutionDataDetails")."""
    entered, exited = event.get("stateEnteredEventDetails", {}), event.get("stateExitedEventDetails", {})
    text = entered.get("input") or exited.get("output")
    data = json.loads(text) if text else None
    return data if isinstance(data, dict) else None


def _node(node: dict[str, Any]) -> Node:
    """A job or crawler with the state of its latest run in the workflow run."""
    if node["Type"] == "JOB":
        latest: dict[str, Any] = next(iter(node.get("JobDetails", {}).get("JobRuns", [])), {})
        return Node(node["Name"], "JOB", latest.get("JobRunState"), latest.get("ErrorMessage"))
    latest = next(iter(node.get("CrawlerDetails", {}).get("Crawls", [])), {})
    return Node(node["Name"], node["Type"], latest.get("State"), latest.get("ErrorMessage"))
