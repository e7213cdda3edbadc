"""Following a chain of loop executions in the emulator."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Execution:
    arn: str
    name: str
    status: str
    input: dict[str, Any]
    output: dict[str, Any] | None
    error: str | None
    cause: str  # "" when Step Functions reports none


def executions(sfn: Any, state_machine_arn: str, ignore: Collection[str] = ()) -> list[Execution]:
    """Every execution of the state machine but those in ``ignore`` (ARNs), oldest first."""
    listed = [
        item
        for item in sfn.list_executions(stateMachineArn=state_machine_arn, maxResults=1000)["executions"]
        if item["executionArn"] not in ignore
    ]
    described = [
        sfn.describe_execution(executionArn=item["executionArn"])
        for item in sorted(listed, key=lambda item: item["startDate"])
    ]
    return [
        Execution(
            arn=item["executionArn"],
            name=item["name"],
            status=item["status"],
            input=json.loads(item["input"]),
            output=json.loads(item["output"]) if "output" in item else None,
            error=item.get("error"),
            cause=item.get("cause", ""),
        )
        for item in described
    ]


def has_ended(chain: list[Execution]) -> bool:
    """Whether a chain of executions (oldest first) can grow no more.

    An execution starts its successor before it succeeds (its output then names it), and a new
    execution is listed (briefly with no status) before it runs: the chain has ended when every
    execution has a final status and the newest started no successor.
    """
    final = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
    if not chain or any(execution.status not in final for execution in chain):
        return False
    return "next" not in (chain[-1].output or {})


def wait_until_stopped(
    sfn: Any, state_machine_arn: str, timeout: float = 120, ignore: Collection[str] = ()
) -> list[Execution]:
    """Wait until the chain has ended and return its executions, oldest first, leaving out the
    ARNs in ``ignore`` (earlier chains)."""
    deadline = time.monotonic() + timeout
    statuses: list[str] = []
    while time.monotonic() < deadline:
        listed = sfn.list_executions(stateMachineArn=state_machine_arn, maxResults=1000)["executions"]
        statuses = [item.get("status", "") for item in listed if item["executionArn"] not in ignore]
        # Describing every execution is costly in long chains: only once nothing is running.
        if statuses and "RUNNING" not in statuses and has_ended(chain := executions(sfn, state_machine_arn, ignore)):
            return chain
        time.sleep(0.2)
    raise TimeoutError(f"loop still running after {timeout} s: {statuses}")


def wait_for(condition: Callable[[], object], timeout: float = 30) -> None:
    """Wait until ``condition()`` is true; TimeoutError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise TimeoutError(f"still not true after {timeout} s")
        time.sleep(0.1)


def history_events(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    # The largest page GetExecutionHistory gives: the fewest calls for a long history.
    pages = sfn.get_paginator("get_execution_history").paginate(
        executionArn=execution_arn, PaginationConfig={"PageSize": 1000}
    )
    return [event for page in pages for event in page["events"]]


def entered_states(sfn: Any, execution_arn: str) -> list[str]:
    """Names of the states the execution entered, in order."""
    return [
        event["stateEnteredEventDetails"]["name"]
        for event in history_events(sfn, execution_arn)
        if "stateEnteredEventDetails" in event
    ]


def newest_execution(sfn: Any, state_machine_arn: str) -> dict[str, Any] | None:
    """The state machine's newest execution as ListExecutions lists it, None before its first."""
    listed = sfn.list_executions(stateMachineArn=state_machine_arn)["executions"]
    return max(listed, key=lambda item: item["startDate"]) if listed else None


def newest_execution_in(sfn: Any, state_machine_arn: str, state: str) -> Callable[[], bool]:
    """For wait_for: whether the state machine's newest execution runs and last entered ``state``
    (a wait before a run, say)."""

    def check() -> bool:
        newest = newest_execution(sfn, state_machine_arn)
        if newest is None:
            return False
        return newest["status"] == "RUNNING" and entered_states(sfn, newest["executionArn"])[-1:] == [state]

    return check


def failed_tasks(sfn: Any, execution_arn: str) -> list[str]:
    """Error names of the execution's failed task attempts, retried ones included, in order."""
    return [
        event["taskFailedEventDetails"]["error"]
        for event in history_events(sfn, execution_arn)
        if event["type"] == "TaskFailed"
    ]


def transitions(history: list[dict[str, Any]]) -> int:
    """Billed state transitions of a history: one per state entered."""
    return sum(1 for event in history if event["type"].endswith("StateEntered"))


def run_to_end(sfn: Any, state_machine_arn: str, execution_input: dict[str, Any] | None = None) -> dict[str, Any]:
    """Start one execution and return its description once it has ended (within 30 s)."""
    execution = sfn.start_execution(stateMachineArn=state_machine_arn, input=json.dumps(execution_input or {}))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution["executionArn"])
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.1)
    raise TimeoutError(execution["executionArn"])


def histories_of_two_chains(sfn: Any, state_machine_arn: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Start the loop twice, each time until it stops after one execution (the caller scripts
    the runs), and return both executions' histories: the difference between two runs polled a
    different number of times is what the extra polls cost."""
    histories = []
    ignore: set[str] = set()
    for _ in range(2):
        sfn.start_execution(stateMachineArn=state_machine_arn, input="{}")
        (execution,) = wait_until_stopped(sfn, state_machine_arn, ignore=ignore)
        ignore.add(execution.arn)
        histories.append(history_events(sfn, execution.arn))
    return histories[0], histories[1]


def judged_at(sfn: Any, execution_arn: str) -> datetime:
    """When the execution last entered JudgeRun: when it learnt how its run ended."""
    return max(
        event["timestamp"]
        for event in history_events(sfn, execution_arn)
        if event.get("stateEnteredEventDetails", {}).get("name") == "JudgeRun"
    )
