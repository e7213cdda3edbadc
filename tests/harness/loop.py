"""Following a chain of loop executions in the emulator."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Execution:
    arn: str
    name: str
    status: str
    input: dict[str, Any]
    output: dict[str, Any] | None
    error: str | None
    cause: str | None


def executions(sfn: Any, state_machine_arn: str) -> list[Execution]:
    """Every execution of the state machine, oldest first."""
    listed = sfn.list_executions(stateMachineArn=state_machine_arn, maxResults=1000)["executions"]
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
            cause=item.get("cause"),
        )
        for item in described
    ]


def wait_until_stopped(sfn: Any, state_machine_arn: str, timeout: float = 120) -> list[Execution]:
    """Wait until the chain has ended (no execution running) and return all its executions.

    A clean execution starts its successor before it succeeds, so once nothing runs the chain
    cannot grow any more.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = sfn.list_executions(stateMachineArn=state_machine_arn)["executions"]
        if listed and all(item["status"] != "RUNNING" for item in listed):
            return executions(sfn, state_machine_arn)
        time.sleep(0.2)
    statuses = [
        item["status"] for item in sfn.list_executions(stateMachineArn=state_machine_arn)["executions"]
    ]
    raise TimeoutError(f"loop still running after {timeout} s: {statuses}")


def history_events(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    return sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
