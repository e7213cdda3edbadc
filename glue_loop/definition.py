"""What the CLI needs from a loop's state machine definition, found by task Resource, not by
state name, so that new states and renamed ones do not break it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

START_WORKFLOW_RUN = "aws-sdk:glue:startWorkflowRun"
GET_PARAMETER = "aws-sdk:ssm:getParameter"


class DefinitionError(Exception):
    pass


@dataclass(frozen=True)
class LoopDefinition:
    workflow_name: str
    pause_parameter: str | None  # None: the loop reads no pause flag


def parse(definition: str) -> LoopDefinition:
    document: dict[str, Any] = json.loads(definition)
    states = list(_states(document["States"]))
    workflow_name = _task_parameter(states, START_WORKFLOW_RUN, "Name")
    if not workflow_name:
        raise DefinitionError("the definition starts no Glue workflow run: is this a glue workflow loop?")
    return LoopDefinition(workflow_name, _task_parameter(states, GET_PARAMETER, "Name") or None)


def _states(states: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every state, those inside Parallel branches and Map processors included."""
    for state in states.values():
        yield state
        nested = [*state.get("Branches", []), *(state[key] for key in ("ItemProcessor", "Iterator") if key in state)]
        for machine in nested:
            yield from _states(machine["States"])


def _task_parameter(states: list[dict[str, Any]], action: str, key: str) -> str | None:
    """The literal value of parameter ``key`` of the first task calling ``action``.

    A value given as a path (``Name.$: $.config.pause_parameter``) is looked up where the
    definition writes a literal at that path into its data (the module renders its settings
    into a Pass state's Parameters).
    """
    for state in states:
        # Service integration ARNs look like arn:aws:states:::aws-sdk:glue:startWorkflowRun[.waitForTaskToken].
        if str(state.get("Resource", "")).rpartition(":::")[2].split(".")[0] != action:
            continue
        parameters = state.get("Parameters", {})
        if isinstance(parameters.get(key), str):
            return str(parameters[key])
        path = parameters.get(f"{key}.$")
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
