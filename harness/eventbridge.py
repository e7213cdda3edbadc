"""EventBridge's part in events mode, played by the harness: moto matches patterns
(TestEventPattern) but does not start Step Functions targets."""

from __future__ import annotations

import datetime
import json
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from harness.emulator import ACCOUNT_ID, REGION, AwsEmulator
from harness.glue_simulator import GlueRunSimulator, events_until_and_at_run_end
from harness.loop import entered_states
from harness.plans import planned_resources, rendered_definition

# Creates a state machine in the emulator (name, definition, type) and returns its ARN.
CreateMachine = Callable[[str, dict[str, Any], str], str]
Delivered = TypeVar("Delivered")


def pattern_matches(events: Any, event_pattern: str, event: dict[str, Any]) -> bool:
    """EventBridge's own verdict (TestEventPattern) on whether the pattern matches the event."""
    return bool(events.test_event_pattern(EventPattern=event_pattern, Event=json.dumps(event))["Result"])


class RuleDelivery:
    """Delivers events to a rule's state machine target as EventBridge does: an event that
    matches the rule's pattern starts one execution with the whole event as its input."""

    def __init__(
        self,
        events: Any,
        sfn: Any,
        event_pattern: str,
        target_arn: str,
        input_transformer: dict[str, Any] | None = None,
    ) -> None:
        self._events, self._sfn = events, sfn
        self.event_pattern, self.target_arn = event_pattern, target_arn
        self.input_transformer = input_transformer

    @classmethod
    def of_applied_rule(cls, events: Any, sfn: Any, rule: str) -> RuleDelivery:
        """The delivery of an applied rule with one Step Functions target (moto starts no such target)."""
        pattern = events.describe_rule(Name=rule)["EventPattern"]
        (target,) = events.list_targets_by_rule(Rule=rule)["Targets"]
        transformer = target.get("InputTransformer")
        as_planned = (
            {"input_paths": transformer["InputPathsMap"], "input_template": transformer["InputTemplate"]}
            if transformer
            else None
        )
        return cls(events, sfn, pattern, target["Arn"], as_planned)

    def deliver(self, event: dict[str, Any]) -> str | None:
        """Start the target for a matching event; return its execution ARN (None: no match)."""
        if not pattern_matches(self._events, self.event_pattern, event):
            return None
        target_input = (
            json.dumps(event) if self.input_transformer is None else transformed(self.input_transformer, event)
        )
        return str(self._sfn.start_execution(stateMachineArn=self.target_arn, input=target_input)["executionArn"])

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
        last = entered_states(self._sfn, execution_arn)[-3:]
        raise TimeoutError(f"{execution_arn} still running after {timeout} s; the last states it entered: {last}")


def transformed(input_transformer: dict[str, Any], event: dict[str, Any]) -> str:
    """A target's input transformer applied to an event, for a JSON template whose placeholders
    stand outside quotes: each takes its value as JSON ("Amazon EventBridge input transformation",
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html; the
    InputTransformer reference's example '{"myInstance": <instance>, ...}'). Paths are dot notation
    from the event's root, the one form the module uses."""
    text: str = input_transformer["input_template"]
    for name, path in input_transformer["input_paths"].items():
        value: Any = event
        for field in path.removeprefix("$.").split("."):
            value = value[field]
        text = text.replace(f"<{name}>", json.dumps(value))
    return text


def s3_object_created(bucket: str, key: str, at: datetime.datetime, size: int = 1024) -> dict[str, Any]:
    """The event S3 sends to EventBridge for a new object ("EventBridge event message structure",
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html, "Object created"): its
    time in whole seconds, as the example shows. S3 delivers an event "at least once", typically
    within seconds but "sometimes ... a minute or longer" ("Amazon S3 Event Notifications",
    https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventNotifications.html), so tests send
    some twice and some late."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": ACCOUNT_ID,
        "time": at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {"key": key, "size": size, "etag": uuid.uuid4().hex, "sequencer": uuid.uuid4().hex[:18].upper()},
            "request-id": uuid.uuid4().hex[:16].upper(),
            "requester": ACCOUNT_ID,
            "source-ip-address": "203.0.113.15",
            "reason": "PutObject",
        },
    }


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


def at_least_once(events: Sequence[Delivered], rng: random.Random) -> list[Delivered]:
    """EventBridge's delivery of these events to a rule's target: each once or twice, in any order.

    EventBridge retries a delivery it did not see succeed ("How EventBridge retries delivering
    events", https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html),
    and an asynchronous Express execution it starts is itself "at-least-once" ("Execution
    guarantees", https://docs.aws.amazon.com/step-functions/latest/dg/express-at-least-once-execution.html),
    so the callback may run twice for one event. EventBridge promises no order: a rule's target
    gets events as they come, in parallel (AWS's own answer, https://repost.aws/questions/QUDxAa0fS4TNus4mLxZpUjEw:
    "Amazon EventBridge does not guarantee the order of the events"; only a FIFO subscriber of a
    custom event bus keeps one, "Ordering and deduplicating events on a Custom Event Bus").
    """
    copies = [event for event in events for _ in range(rng.choice((1, 2)))]
    rng.shuffle(copies)
    return copies


def end_run_with_events(
    glue: GlueRunSimulator,
    delivery: RuleDelivery,
    workflow: str,
    run_id: str,
    status_lag: float | None = None,
    rng: random.Random | None = None,
) -> list[str]:
    """Deliver a run's job and crawler events as its nodes end, and end the run as its last node
    ends (its status ``status_lag`` seconds later, see GlueRunSimulator.finish). In order and
    once each without ``rng``; with it, as EventBridge may (:func:`at_least_once`): duplicated
    and shuffled, the last node's events still after its end. Returns the callback executions
    started, without waiting for them."""
    run = next(run for run in glue.runs_of(workflow) if run.run_id == run_id)
    until_end, at_end = events_until_and_at_run_end(run)
    sent = [(event, False) for event in until_end] + [(event, True) for event in at_end]
    ended = False
    callbacks = []
    for event, sent_as_the_run_ends in sent if rng is None else at_least_once(sent, rng):
        if sent_as_the_run_ends and not ended:
            glue.finish(run_id, status_lag)
            ended = True
        callbacks.append(delivery.deliver(event))
    if not ended:  # the run's last node sends no event as it ends
        glue.finish(run_id, status_lag)
    return [arn for arn in callbacks if arn is not None]


@dataclass(frozen=True)
class EventsLoop:
    """An events mode loop in the emulator: its state machine, its token table and its rule's
    delivery to the callback state machine."""

    arn: str
    token_table: str
    delivery: RuleDelivery
    # wake_on_data: the data rule's delivery of new data's events to the callback.
    data_delivery: RuleDelivery | None = None


def with_callback_watch(callback: dict[str, Any], seconds: int) -> dict[str, Any]:
    """The callback definition watching a running run for ``seconds`` (completion_events.callback_watch_seconds)."""
    changed: dict[str, Any] = json.loads(json.dumps(callback))
    changed["States"]["Begin"]["Parameters"]["watch"]["limit"] = seconds
    return changed


def create_events_loop(
    emulator: AwsEmulator,
    planned: dict[str, Any],
    name: str,
    definition: dict[str, Any],
    create: CreateMachine,
    callback_watch_seconds: int | None = None,
) -> EventsLoop:
    """The events mode loop of a plan, created under ``name`` with the loop definition given
    (the planned one, settings changed as needed): a token table of its own, and the planned
    callback state machine (watching a running run for ``callback_watch_seconds`` if given),
    both definitions pointed at that table."""
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
    if callback_watch_seconds is not None:
        callback_definition = with_callback_watch(callback_definition, callback_watch_seconds)
    callback = create(f"{name}-callback", callback_definition, "EXPRESS")
    events, sfn = emulator.client("events"), emulator.client("stepfunctions")
    event_pattern = resources["aws_cloudwatch_event_rule.glue_events[0]"]["event_pattern"]
    delivery = RuleDelivery(events, sfn, event_pattern, callback)
    data_rule = resources.get("aws_cloudwatch_event_rule.data_events[0]")
    if data_rule is None:
        return EventsLoop(loop, table, delivery)
    (transformer,) = resources["aws_cloudwatch_event_target.wake[0]"]["input_transformer"]
    return EventsLoop(
        loop, table, delivery, RuleDelivery(events, sfn, data_rule["event_pattern"], callback, transformer)
    )
