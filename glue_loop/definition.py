"""What the CLI needs from a loop's state machine definition, found by task Resource, not by
state name, so that new states and renamed ones do not break it. Only how the loop waits for
its run is read from a named state: WaitForRun, the state the CLI sees a running loop in."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

START_WORKFLOW_RUN = "aws-sdk:glue:startWorkflowRun"
GET_PARAMETER = "aws-sdk:ssm:getParameter"
WAIT_FOR_RUN = "WaitForRun"
# A JSONata field that reads the state's input: "{% $states.input.config.safety_poll_seconds %}".
_JSONATA_INPUT = re.compile(r"\{%\s*\$states\.input\.([A-Za-z0-9_.]+)\s*%\}")


class DefinitionError(Exception):
    pass


@dataclass(frozen=True)
class RunWait:
    """How the loop waits in WaitForRun for its Glue run to end."""

    events: bool  # True: on a task token that a Glue event returns (events mode); False: a Wait before each poll
    seconds: int | None  # the safety poll (events) or the poll interval; None: not found in the definition


@dataclass(frozen=True)
class LoopDefinition:
    workflow_name: str
    pause_parameter: str | None  # None: the loop reads no pause flag
    run_wait: RunWait | None = None  # None: the definition has no WaitForRun state


def parse(definition: str) -> LoopDefinition:
    document: dict[str, Any] = json.loads(definition)
    states = list(_states(document["States"]))
    workflow_name = _task_parameter(states, START_WORKFLOW_RUN, "Name")
    if not workflow_name:
        raise DefinitionError("the definition starts no Glue workflow run: is this a glue workflow loop?")
    return LoopDefinition(
        workflow_name,
        _task_parameter(states, GET_PARAMETER, "Name") or None,
        _run_wait(states, document["States"].get(WAIT_FOR_RUN)),
    )


def _run_wait(states: list[dict[str, Any]], wait: dict[str, Any] | None) -> RunWait | None:
    """Events mode's WaitForRun is a task waiting for its token, whose timeout is the safety
    poll; poll mode's is a Wait of the poll interval."""
    if wait is None:
        return None
    events = wait.get("Type") == "Task" and str(wait.get("Resource", "")).endswith(".waitForTaskToken")
    key = "TimeoutSeconds" if events else "Seconds"
    seconds = wait.get(key)
    if not isinstance(seconds, int):
        # A JSONPath state names the path in <key>Path; a JSONata one reads it from $states.input.
        jsonata = _JSONATA_INPUT.match(seconds) if isinstance(seconds, str) else None
        path = f"$.{jsonata.group(1)}" if jsonata else wait.get(f"{key}Path")
        seconds = _number_at(states, path.removeprefix("$.").split(".")) if isinstance(path, str) else None
    return RunWait(events, seconds)


def _states(states: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every state, those inside Parallel branches and Map processors included."""
    for state in states.values():
        yield state
        nested = [*state.get("Branches", []), *(state[key] for key in ("ItemProcessor", "Iterator") if key in state)]
        for machine in nested:
            yield from _states(machine["States"])


def _task_parameter(states: list[dict[str, Any]], action: str, key: str) -> str | None:
    """The literal value of parameter ``key`` of the first task calling ``action``.

    A JSONPath task's Parameters or a JSONata task's Arguments. A value given as a path
    (``Name.$: $.config.pause_parameter``, or ``{% $states.input.config.pause_parameter %}`` in
    JSONata) is looked up where the definition writes a literal at that path into its data (the
    module renders its settings into a Pass state's Parameters).
    """
    for state in states:
        # Service integration ARNs look like arn:aws:states:::aws-sdk:glue:startWorkflowRun[.waitForTaskToken].
        if str(state.get("Resource", "")).rpartition(":::")[2].split(".")[0] != action:
            continue
        parameters = state.get("Parameters", state.get("Arguments", {}))
        jsonata = _JSONATA_INPUT.match(parameters[key]) if isinstance(parameters.get(key), str) else None
        if isinstance(parameters.get(key), str) and jsonata is None:
            return str(parameters[key])
        path = f"$.{jsonata.group(1)}" if jsonata else parameters.get(f"{key}.$")
        if isinstance(path, str) and path.startswith("$."):
            return _literal_at(states, path.removeprefix("$.").split("."))
    return None


def _literal_at(states: list[dict[str, Any]], keys: list[str]) -> str | None:
    for state in states:
        value: Any = state.get("Parameters", {})
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str):
            return value
    return None


def _number_at(states: list[dict[str, Any]], keys: list[str]) -> int | None:
    """The number a state's Parameters write at that path (the module renders its settings there)."""
    for state in states:
        value: Any = state.get("Parameters", {})
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None
