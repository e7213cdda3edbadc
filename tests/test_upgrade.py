"""Changing a loop while it runs: the handover format, and each kind of ``terraform apply`` a user makes
mid-run.

A running execution keeps the definition it started with ("Running executions will continue to use the
previous definition and roleArn", UpdateStateMachine, AWS Step Functions API Reference) but starts its
successor on whatever the state machine holds by then, with an input it wrote itself. So each change is
applied while a run is in flight, and the chain must go on: the run in flight judged once, by the
execution that started it; never two runs at once; the new settings from the next execution on.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conftest import WORKFLOW, Notices
from harness.emulator import REGION, AwsEmulator
from harness.eventbridge import RuleDelivery, end_run_with_events, wait_for_token
from harness.glue_simulator import CLEAN, UNTIL_FINISHED, GlueRunSimulator, RunOutcome, SimulatedRun
from harness.loop import Execution, entered_states, history_events, newest_execution_in, wait_for, wait_until_stopped
from harness.terraform import TerraformWorkspace

MakeLoop = Callable[..., str]
PREVIOUS_RELEASE = Path(__file__).parent / "fixtures" / "previous-release"
IN_FLIGHT = RunOutcome(running_polls=UNTIL_FINISHED)


def previous_release_handover(run_id: str) -> dict[str, Any]:
    """The input the previous release hands over with its history budget spent, naming ``run_id``."""
    handover: dict[str, Any] = json.loads((PREVIOUS_RELEASE / "handover.json").read_text())
    return {**handover, "resume_run_id": run_id}


def start_run_in_flight(emulator: AwsEmulator, glue: GlueRunSimulator, outcome: RunOutcome) -> SimulatedRun:
    """A run of WORKFLOW started as a predecessor execution would have started it."""
    glue.script(WORKFLOW, outcome)
    emulator.client("glue").start_workflow_run(Name=WORKFLOW)
    return glue.runs_of(WORKFLOW)[-1]


def test_a_handover_written_by_the_previous_release_resumes_its_run_in_flight(
    emulator: AwsEmulator, sfn: Any, make_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    run = start_run_in_flight(emulator, glue, RunOutcome(running_polls=1))
    loop = make_loop(max_runs=1)

    sfn.start_execution(stateMachineArn=loop, input=json.dumps(previous_release_handover(run.run_id)))
    (execution,) = wait_until_stopped(sfn, loop)

    assert execution.status == "SUCCEEDED", execution.cause
    assert glue.runs_of(WORKFLOW) == [run], "the handover's run in flight was not the one the loop watched"
    assert run.polls == 2
    assert execution.output is not None
    assert execution.output["stop_reason"] == "max_runs"
    assert execution.output["loop"]["run_properties"] == {"source": "recorded"}
    assert execution.output["loop"]["chain_id"] == previous_release_handover(run.run_id)["chain_id"]


def test_the_loop_hands_over_in_its_own_format_after_a_spent_budget_and_after_a_clean_run(
    sfn: Any, make_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    loop = make_loop(max_polls_per_execution=1, max_runs=2)
    glue.script(WORKFLOW, RunOutcome(running_polls=1), CLEAN)
    sfn.start_execution(stateMachineArn=loop, input="{}")

    chain = wait_until_stopped(sfn, loop)

    assert [execution.status for execution in chain] == ["SUCCEEDED"] * 3
    resumed, next_run = chain[1].input, chain[2].input
    assert (resumed["resume_run_id"], next_run["resume_run_id"]) == (glue.runs_of(WORKFLOW)[0].run_id, "")
    assert [execution.input.get("handover_format") for execution in chain] == [None, 2, 2]


@pytest.mark.parametrize("handover_format", [3, "2", None], ids=["newer", "a-string", "null"])
def test_an_unknown_handover_format_stops_the_loop_naming_the_format_and_the_unwatched_run(
    emulator: AwsEmulator,
    sfn: Any,
    make_loop: MakeLoop,
    glue: GlueRunSimulator,
    notices: Notices,
    handover_format: Any,
) -> None:
    run = start_run_in_flight(emulator, glue, IN_FLIGHT)
    loop = make_loop(sns_topic_arn=notices.topic_arn)
    handover = {**previous_release_handover(run.run_id), "run_number": 4, "handover_format": handover_format}

    sfn.start_execution(stateMachineArn=loop, input=json.dumps(handover))
    (execution,) = wait_until_stopped(sfn, loop)

    assert (execution.status, execution.error) == ("FAILED", "UnknownHandoverFormat")
    assert f"handed over in format {json.dumps(handover_format)}, " in execution.cause
    assert "it reads formats 1 and 2" in execution.cause
    assert f"run {run.run_id} (run number 4) was in flight and is no longer watched" in execution.cause
    assert glue.calls.count("StartWorkflowRun") == 1 and run.polls == 0, "the loop called Glue"
    (notice,) = notices.received()
    assert (notice["error"], notice["cause"]) == ("UnknownHandoverFormat", execution.cause)


# --- terraform apply while a chain runs -----------------------------------------------------------

# One root module stack, applied again for each change, serves every test below: they share a worker.
UPGRADE_WORKFLOW = "upgrade-sales"
FAILING_NODE = "upgrade-transform"
GRAPH = (
    {"Name": "upgrade-start", "Type": "ON_DEMAND", "Actions": [{"CrawlerName": "upgrade-crawl"}]},
    {
        "Name": "upgrade-crawled-then-transform",
        "Type": "CONDITIONAL",
        "StartOnCreation": True,
        "Predicate": {
            "Logical": "AND",
            "Conditions": [{"LogicalOperator": "EQUALS", "CrawlerName": "upgrade-crawl", "CrawlState": "SUCCEEDED"}],
        },
        "Actions": [{"JobName": FAILING_NODE}],
    },
)
BASE: dict[str, Any] = {
    "name": "upgrade-loop",
    "glue_workflow_name": UPGRADE_WORKFLOW,
    "poll_interval_seconds": 1,
    "completion_events": {"job_names": [FAILING_NODE], "crawler_names": ["upgrade-crawl"], "safety_poll_seconds": 3},
    # Each queue costs an apply some 30 s of the provider's waiting; tests/test_validators.py applies one.
    "create_event_dead_letter_queue": False,
}
RECOVERY = {"enabled": True, "max_attempts": 1, "backoff_seconds": 1}
# The settings the first test changes, where the later ones start from (one apply each, none to go back).
CHANGED = {"poll_interval_seconds": 2, "stop_policy": {"stop_on_stopped_actions": False}}
FAILS = RunOutcome(node_states={FAILING_NODE: "FAILED"}, running_polls=UNTIL_FINISHED)


@dataclass
class Stack:
    """The root module applied to the emulator, and the variables it was last applied with."""

    workspace: TerraformWorkspace
    emulator: AwsEmulator
    variables: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)

    def apply(self, **changes: Any) -> None:
        """Apply BASE with these changes (nothing to do when the stack has them already)."""
        variables = {**BASE, **changes}
        if variables != self.variables:
            # Nothing but these applies changes the stack's resources (the pause flag's value is
            # ignored by the module), so there is nothing to read back.
            self.outputs = self.workspace.apply(variables, refresh=False)
            self.variables = variables

    def reapply(self) -> None:
        """Apply the same variables again: what a new module version with them does. With the
        refresh, which finds the definition the test put in place out of band."""
        self.outputs = self.workspace.apply(self.variables)

    @property
    def arn(self) -> str:
        return str(self.outputs["state_machine_arn"])

    def set_paused(self, paused: bool) -> None:
        ssm = self.emulator.client("ssm")
        ssm.put_parameter(Name=self.outputs["pause_parameter_name"], Value=str(paused).lower(), Overwrite=True)


@pytest.fixture(scope="session")
def stack(emulator: AwsEmulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    glue = emulator.client("glue")
    glue.create_workflow(Name=UPGRADE_WORKFLOW, MaxConcurrentRuns=1)
    for trigger in GRAPH:
        glue.create_trigger(WorkflowName=UPGRADE_WORKFLOW, **trigger)
    workspace = TerraformWorkspace(tmp_path_factory.mktemp("upgrade"), ".", emulator.endpoint_url, REGION)
    workspace.init()
    applied = Stack(workspace, emulator)
    with workspace.serving_provider():
        applied.apply()
        # Nothing reads the stack after its tests: it goes with the emulator (a destroy proves nothing
        # here that the examples' destroys do not).
        yield applied


@pytest.fixture
def chain(stack: Stack, sfn: Any, glue: GlueRunSimulator) -> Iterator[Chain]:
    started = Chain(
        stack,
        sfn,
        glue,
        {item["executionArn"] for item in sfn.list_executions(stateMachineArn=stack.arn)["executions"]},
    )
    yield started
    stack.set_paused(False)
    for execution in sfn.list_executions(stateMachineArn=stack.arn, statusFilter="RUNNING")["executions"]:
        sfn.stop_execution(executionArn=execution["executionArn"])


@dataclass
class Chain:
    """One chain of the stack's loop, driven run by run."""

    stack: Stack
    sfn: Any
    glue: GlueRunSimulator
    earlier: set[str]

    def start(self, *outcomes: RunOutcome) -> None:
        self.glue.script(UPGRADE_WORKFLOW, *outcomes)
        self.sfn.start_execution(stateMachineArn=self.stack.arn, input=json.dumps({"run_properties": {}}))

    def run(self, number: int) -> SimulatedRun:
        """The chain's run ``number`` (from 1), once it has started."""
        wait_for(lambda: len(self.glue.runs_of(UPGRADE_WORKFLOW)) >= number)
        return self.glue.runs_of(UPGRADE_WORKFLOW)[number - 1]

    def end(self, run: SimulatedRun) -> None:
        """End a run that a poll mode execution watches."""
        self.glue.finish(run.run_id)

    def end_with_events(self, run: SimulatedRun) -> None:
        """End a run with its job and crawler events as EventBridge delivers them, once the events
        mode execution watching it has left its token."""
        outputs, dynamodb = self.stack.outputs, self.stack.emulator.client("dynamodb")
        number = [each.run_id for each in self.glue.runs_of(UPGRADE_WORKFLOW)].index(run.run_id) + 1
        wait_for_token(dynamodb, outputs["token_table_name"], self.glue, UPGRADE_WORKFLOW, number)
        events = self.stack.emulator.client("events")
        end_run_with_events(
            self.glue,
            RuleDelivery.of_applied_rule(events, self.sfn, outputs["event_rule_name"]),
            UPGRADE_WORKFLOW,
            run.run_id,
        )

    def pause_and_end(self, run: SimulatedRun, with_events: bool = False) -> list[Execution]:
        """Pause the loop, end its last run, and return the chain once it has ended."""
        self.stack.set_paused(True)
        (self.end_with_events if with_events else self.end)(run)
        return self.ended()

    def ended(self) -> list[Execution]:
        return wait_until_stopped(self.sfn, self.stack.arn, ignore=self.earlier)


def config_of(sfn: Any, execution: Execution) -> dict[str, Any]:
    """The settings an execution ran with: the config its definition gave ApplyDefaults."""
    for event in history_events(sfn, execution.arn):
        details = event.get("stateExitedEventDetails", {})
        if details.get("name") == "ApplyDefaults":
            config: dict[str, Any] = json.loads(details["output"])["config"]
            return config
    raise AssertionError(f"{execution.name} never left ApplyDefaults")


def assert_each_run_judged_once_and_alone(chain: list[Execution], glue: GlueRunSimulator) -> None:
    """Each run was judged by one execution, which started the next run's execution; no run overlapped another."""
    runs = [run.run_id for run in glue.runs_of(UPGRADE_WORKFLOW)]
    judged = [execution.input["previous_run"]["id"] for execution in chain[1:]]
    assert judged == runs, "a run was judged twice, or not at all"
    assert glue.overlapping_starts == []
    assert [execution.status for execution in chain[:-1]] == ["SUCCEEDED"] * (len(chain) - 1)


@pytest.mark.long
@pytest.mark.xdist_group("upgrade")
def test_a_setting_changed_mid_run_holds_from_the_next_execution(stack: Stack, chain: Chain, sfn: Any) -> None:
    stack.apply()
    chain.start(IN_FLIGHT, IN_FLIGHT)
    first = chain.run(1)

    stack.apply(**CHANGED)
    chain.end(first)
    executions = chain.pause_and_end(chain.run(2))

    assert_each_run_judged_once_and_alone(executions, chain.glue)
    before, after, paused = (config_of(sfn, execution) for execution in executions)
    assert (before["poll_interval_seconds"], before["tolerated"]["stopped"]) == (1, 0)
    assert (after["poll_interval_seconds"], after["tolerated"]["stopped"]) == (2, 2147483647)
    assert paused == after
    assert executions[-1].output is not None and executions[-1].output["stop_reason"] == "paused"


def wait_type(sfn: Any, execution: Execution) -> str:
    """How an execution waited for its run: "Wait" (poll mode) or "Task" (events mode's token)."""
    for event in history_events(sfn, execution.arn):
        if event.get("stateEnteredEventDetails", {}).get("name") == "WaitForRun":
            return str(event["type"]).removesuffix("StateEntered")
    raise AssertionError(f"{execution.name} never waited for a run")


@pytest.mark.long
@pytest.mark.xdist_group("upgrade")
def test_recovery_switched_on_mid_run_resumes_the_next_runs_failure(stack: Stack, chain: Chain, sfn: Any) -> None:
    stack.apply(**CHANGED)
    chain.start(IN_FLIGHT, FAILS, CLEAN)
    first = chain.run(1)

    stack.apply(**CHANGED, recovery=RECOVERY)
    chain.end(first)
    executions = chain.pause_and_end(chain.run(2))

    first_run, failed, resumed = chain.glue.runs_of(UPGRADE_WORKFLOW)
    assert resumed.resumed_from and {node.run_id for node in resumed.resumed_from} == {failed.run_id}
    assert [execution.status for execution in executions] == ["SUCCEEDED"] * 3
    assert [execution.input.get("previous_run", {}).get("id") for execution in executions] == [
        None,
        first_run.run_id,
        resumed.run_id,
    ]
    assert [config_of(sfn, execution)["recovery"]["enabled"] for execution in executions] == [False, True, True]
    assert chain.glue.overlapping_starts == []


@pytest.mark.long
@pytest.mark.xdist_group("upgrade")
def test_recovery_switched_off_mid_run_still_resumes_the_run_in_flight_and_not_the_next(
    stack: Stack, chain: Chain, sfn: Any
) -> None:
    stack.apply(**CHANGED, recovery=RECOVERY)
    chain.start(FAILS, CLEAN, RunOutcome(node_states={FAILING_NODE: "FAILED"}))
    first = chain.run(1)

    stack.apply(**CHANGED)
    chain.end(first)
    executions = chain.ended()

    runs = chain.glue.runs_of(UPGRADE_WORKFLOW)
    assert len(runs) == 3 and chain.glue.calls.count("ResumeWorkflowRun") == 1
    assert [execution.status for execution in executions] == ["SUCCEEDED", "FAILED"]
    assert executions[1].input["previous_run"]["id"] == runs[1].run_id
    assert executions[1].error == "GlueWorkflowActionsFailed"
    assert f"run {runs[2].run_id} (run number 2)" in executions[1].cause
    assert [config_of(sfn, execution)["recovery"]["enabled"] for execution in executions] == [True, False]
    assert chain.glue.overlapping_starts == []


@pytest.mark.long
@pytest.mark.xdist_group("upgrade")
def test_poll_to_events_mid_run_polls_the_run_in_flight_and_waits_on_events_from_the_next(
    stack: Stack, chain: Chain, sfn: Any
) -> None:
    stack.apply(**CHANGED)
    chain.start(IN_FLIGHT, IN_FLIGHT)
    first = chain.run(1)

    stack.apply(**CHANGED, completion_mode="events")
    chain.end(first)
    executions = chain.pause_and_end(chain.run(2), with_events=True)

    assert_each_run_judged_once_and_alone(executions, chain.glue)
    assert [wait_type(sfn, execution) for execution in executions[:2]] == ["Wait", "Task"]


@pytest.mark.long
@pytest.mark.xdist_group("upgrade")
def test_events_to_poll_mid_wait_falls_back_to_polling_once_the_token_table_is_gone(
    stack: Stack, chain: Chain, sfn: Any
) -> None:
    stack.apply(**CHANGED, completion_mode="events")
    chain.start(IN_FLIGHT, IN_FLIGHT)
    first = chain.run(1)
    tokens = stack.outputs["token_table_name"]
    wait_for_token(stack.emulator.client("dynamodb"), tokens, chain.glue, UPGRADE_WORKFLOW, 1)

    stack.apply(**CHANGED)
    # The token's wait times out (the safety poll); the run still going, the next token has no table.
    wait_for(newest_execution_in(sfn, stack.arn, "PollInstead"), timeout=60)
    chain.end(first)
    executions = chain.pause_and_end(chain.run(2))

    assert_each_run_judged_once_and_alone(executions, chain.glue)
    assert [wait_type(sfn, execution) for execution in executions[:2]] == ["Task", "Wait"]
    assert tokens not in stack.emulator.client("dynamodb").list_tables()["TableNames"]


@pytest.mark.long
@pytest.mark.xdist_group("upgrade")
def test_the_next_module_version_takes_over_a_chain_the_previous_release_runs(
    stack: Stack, chain: Chain, sfn: Any
) -> None:
    stack.apply(**CHANGED)
    previous = (PREVIOUS_RELEASE / "loop.asl.json").read_text()
    renamed = previous.replace("nightly-sales-loop", "upgrade-loop").replace("nightly-sales", UPGRADE_WORKFLOW)
    assert f'"{stack.outputs["pause_parameter_name"]}"' in renamed
    sfn.update_state_machine(stateMachineArn=stack.arn, definition=renamed)
    chain.start(IN_FLIGHT, IN_FLIGHT)
    first = chain.run(1)

    stack.reapply()
    chain.end(first)
    executions = chain.pause_and_end(chain.run(2))

    assert_each_run_judged_once_and_alone(executions, chain.glue)
    assert "handover_format" not in executions[1].input
    assert executions[2].input["handover_format"] == 2
    assert ["CheckHandoverFormat" in entered_states(sfn, execution.arn) for execution in executions] == [
        False,
        True,
        True,
    ]
