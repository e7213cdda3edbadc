"""EventBridge's part in events mode, played by the harness: moto matches patterns
(TestEventPattern) but does not start Step Functions targets."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.emulator import AwsEmulator
from harness.glue_simulator import GlueRunSimulator, state_change_events
from harness.plans import planned_resources, rendered_definition

# Creates a state machine in the emulator (name, definition, type) and returns its ARN.
CreateMachine = Callable[[str, dict[str, Any], str], str]


def pattern_matches(events: Any, event_pattern: str, event: dict[str, Any]) -> bool:
    """EventBridge's own verdict (TestEventPattern) on whether the pattern matches the event."""
    return bool(events.test_event_pattern(EventPattern=event_pattern, Event=json.dumps(event))["Result"])


class RuleDelivery:
    """Delivers events to a rule's state machine target as EventBridge does: an event that
    matches the rule's pattern starts one execution with the whole event as its input."""

    def __init__(self, events: Any, sfn: Any, event_pattern: str, target_arn: str) -> None:
        self._events, self._sfn = events, sfn
        self.event_pattern, self.target_arn = event_pattern, target_arn

    def deliver(self, event: dict[str, Any]) -> str | None:
        """Start the target for a matching event; return its execution ARN (None: no match)."""
        if not pattern_matches(self._events, self.event_pattern, event):
            return None
        return str(self._sfn.start_execution(stateMachineArn=self.target_arn, input=json.dumps(event))["executionArn"])

    def deliver_and_wait(self, event: dict[str, Any], timeout: float = 30) -> dict[str, Any] | None:
        """Deliver, then wait for the target's execution to end and return its description."""
        arn = self.deliver(event)
        return None if arn is None else self.wait(arn, timeout)

    def wait(self, execution_arn: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            described: dict[str, Any] = self._sfn.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                return described
            time.sleep(0.05)
        raise TimeoutError(f"{execution_arn} still running after {timeout} s")


def waiting_token(dynamodb: Any, table: str, workflow: str) -> dict[str, str] | None:
    """The token a loop left for ``workflow`` (its run_id, token, execution and expires_at, all
    as strings), if any."""
    item = dynamodb.get_item(TableName=table, Key={"workflow": {"S": workflow}}).get("Item")
    return None if item is None else {name: next(iter(value.values())) for name, value in item.items()}


def wait_for_token(dynamodb: Any, table: str, glue: GlueRunSimulator, workflow: str, run_number: int) -> str:
    """Wait until the loop waits on its run_number-th run of ``workflow``; return that run's id."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        runs = glue.runs_of(workflow)
        token = waiting_token(dynamodb, table, workflow)
        if len(runs) >= run_number and token and token["run_id"] == runs[run_number - 1].run_id:
            return token["run_id"]
        time.sleep(0.05)
    raise TimeoutError(f"the loop left no token for run {run_number} of {workflow}")


def end_run_with_events(
    glue: GlueRunSimulator, delivery: RuleDelivery, workflow: str, run_id: str
) -> list[dict[str, Any] | None]:
    """Deliver a run's job and crawler events as its nodes end: all but the last while the run
    is still running, then the last once it has ended. Returns the callback executions."""
    run = next(run for run in glue.runs_of(workflow) if run.run_id == run_id)
    *earlier, last = state_change_events(run)
    callbacks = [delivery.deliver_and_wait(event) for event in earlier]
    glue.finish(run_id)
    return [*callbacks, delivery.deliver_and_wait(last)]


@dataclass(frozen=True)
class EventsLoop:
    """An events mode loop in the emulator: its state machine, its token table and its rule's
    delivery to the callback state machine."""

    arn: str
    token_table: str
    delivery: RuleDelivery


def create_events_loop(
    emulator: AwsEmulator, planned: dict[str, Any], name: str, definition: dict[str, Any], create: CreateMachine
) -> EventsLoop:
    """The events mode loop of a plan, created under ``name`` with the loop definition given
    (the planned one, settings changed as needed): a token table of its own, and the planned
    callback state machine, both definitions pointed at that table."""
    resources = planned_resources(planned)
    planned_table = resources["aws_dynamodb_table.tokens[0]"]["name"]
    table = f"{name}-tokens"

    def with_table(machine: dict[str, Any]) -> dict[str, Any]:
        return dict(json.loads(json.dumps(machine).replace(f'"{planned_table}"', f'"{table}"')))

    emulator.client("dynamodb").create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "workflow", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "workflow", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    loop = create(name, with_table(definition), "STANDARD")
    callback_definition = with_table(rendered_definition(planned, "aws_sfn_state_machine.callback[0]"))
    callback = create(f"{name}-callback", callback_definition, "EXPRESS")
    event_pattern = resources["aws_cloudwatch_event_rule.glue_events[0]"]["event_pattern"]
    delivery = RuleDelivery(emulator.client("events"), emulator.client("stepfunctions"), event_pattern, callback)
    return EventsLoop(loop, table, delivery)
