"""Graph checks of an Amazon States Language definition (top-level states)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

TERMINAL_TYPES = {"Succeed", "Fail"}


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    via: Literal["Choice", "Default", "Next", "Catch"]
    # The Choice rule or the Catcher taken, so that a diagram can say when the transition happens.
    rule: dict[str, Any] | None = None


def all_transitions(definition: dict[str, Any]) -> Iterator[Transition]:
    """Every transition of every state, in the order the state lists them."""
    for name, state in definition["States"].items():
        for rule in state.get("Choices", []):
            yield Transition(name, rule["Next"], "Choice", rule)
        if "Default" in state:
            yield Transition(name, state["Default"], "Default")
        if "Next" in state:
            yield Transition(name, state["Next"], "Next")
        for catcher in state.get("Catch", []):
            yield Transition(name, catcher["Next"], "Catch", catcher)


def transitions(definition: dict[str, Any]) -> dict[str, set[str]]:
    """Every state's possible next states: Next, Choice rules and Default, Catch targets."""
    edges: dict[str, set[str]] = {name: set() for name in definition["States"]}
    for transition in all_transitions(definition):
        edges[transition.source].add(transition.target)
    return edges


def reachable(definition: dict[str, Any]) -> set[str]:
    start = definition["StartAt"]
    return {start} | _reachable_from(transitions(definition), start)


def dangling_targets(definition: dict[str, Any]) -> set[str]:
    """Names used as transition targets that are not states."""
    states = definition["States"]
    return {target for targets in transitions(definition).values() for target in targets} - set(states)


def dead_ends(definition: dict[str, Any]) -> set[str]:
    """Non-terminal states that have nowhere to go."""
    return {
        name
        for name, state in definition["States"].items()
        if state["Type"] not in TERMINAL_TYPES and not state.get("End", False) and not transitions(definition)[name]
    }


def choices_without_default(definition: dict[str, Any]) -> set[str]:
    return {
        name for name, state in definition["States"].items() if state["Type"] == "Choice" and "Default" not in state
    }


def trapped(definition: dict[str, Any]) -> set[str]:
    """States from which no terminal state can be reached: an execution there never ends."""
    states = definition["States"]
    terminal = {name for name, state in states.items() if state["Type"] in TERMINAL_TYPES or state.get("End", False)}
    edges = transitions(definition)
    return {name for name in states if name not in terminal and not (_reachable_from(edges, name) & terminal)}


def _reachable_from(edges: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    frontier = list(edges[start])
    while frontier:
        name = frontier.pop()
        if name not in seen and name in edges:
            seen.add(name)
            frontier.extend(edges[name])
    return seen


def with_config(definition: dict[str, Any], **values: bool | int | str) -> dict[str, Any]:
    """A copy of the definition with settings that Terraform renders into ApplyDefaults replaced,
    e.g. ``with_config(d, max_runs=2, tolerated_failed=1, recovery_enabled=True, sns_topic_arn="arn:...")``:
    a tolerated_, metrics_, recovery_ or pacing_ prefix names a field of that group."""
    changed = copy.deepcopy(definition)
    config = changed["States"]["ApplyDefaults"]["Parameters"]["config"]
    for key, value in values.items():
        group, _, rest = key.partition("_")
        target, field = (
            (config[group], rest) if group in ("tolerated", "metrics", "recovery", "pacing") else (config, key)
        )
        if type(target.get(field)) is not type(value):
            raise KeyError(f"{key}={value!r} is not a setting of the definition")
        target[field] = value
    return changed


# --- The longest an execution can last ----------------------------------------------------------


@dataclass(frozen=True)
class Gate:
    """What bounds a loop through a Choice state: its first rule, the one that loops, is taken at
    most ``times`` times and only before ``until`` seconds into the execution; its Default always
    may be."""

    times: int | None = None
    until: float | None = None


def task_worst_seconds(state: dict[str, Any]) -> float:
    """The longest a Task state can take, every retry taken: each attempt up to its TimeoutSeconds,
    and each retrier's backoffs at their nominal length (FULL jitter only shortens them; ASL's
    defaults: IntervalSeconds 1, BackoffRate 2, MaxAttempts 3). Retriers count apart, as each
    keeps its own count of attempts."""
    if not isinstance(state.get("TimeoutSeconds"), int):
        raise ValueError("a task without a fixed TimeoutSeconds may wait as long as the execution lasts")
    attempts, waits = 1, 0.0
    for retrier in state.get("Retry", []):
        interval, rate = retrier.get("IntervalSeconds", 1), retrier.get("BackoffRate", 2.0)
        cap = retrier.get("MaxDelaySeconds", float("inf"))
        retries = retrier.get("MaxAttempts", 3)
        attempts += retries
        waits += sum(min(interval * rate**number, cap) for number in range(retries))
    return float(attempts * state["TimeoutSeconds"] + waits)


def longest_execution_seconds(definition: dict[str, Any], waits: dict[str, float], gates: dict[str, Gate]) -> float:
    """The longest path through the definition in seconds: Tasks at task_worst_seconds, whether they
    succeed or are caught, Wait states at their Seconds or at ``waits`` (for a SecondsPath), and
    every branch of a Choice possible but as ``gates`` bounds the loops. Pass, Succeed and Fail
    take no time. Every loop must pass a gate or a Wait or Task, or this never ends."""
    states = definition["States"]

    def longest(name: str, clock: float, taken: tuple[tuple[str, int], ...]) -> float:
        state = states[name]
        kind = state["Type"]
        if kind in TERMINAL_TYPES or state.get("End"):
            return clock + (task_worst_seconds(state) if kind == "Task" else 0.0)
        if kind == "Choice":
            counts = dict(taken)
            gate = gates.get(name)
            looping, *others = [rule["Next"] for rule in state["Choices"]]
            branches = [*others, state["Default"]]
            loops = counts.get(name, 0)
            if gate is None or (
                (gate.times is None or loops < gate.times) and (gate.until is None or clock < gate.until)
            ):
                counts[name] = loops + 1
                return max(
                    longest(looping, clock, tuple(sorted(counts.items()))),
                    *(longest(branch, clock, taken) for branch in branches),
                )
            return max(longest(branch, clock, taken) for branch in branches)
        if kind == "Wait":
            seconds = state["Seconds"] if "Seconds" in state else waits[name]
            return longest(state["Next"], clock + seconds, taken)
        if kind == "Task":
            after = clock + task_worst_seconds(state)
            targets = {state["Next"], *(catcher["Next"] for catcher in state.get("Catch", []))}
            return max(longest(target, after, taken) for target in targets)
        return longest(state["Next"], clock, taken)

    return longest(definition["StartAt"], 0.0, ())
