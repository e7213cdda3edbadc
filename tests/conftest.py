from __future__ import annotations

import gc
import hashlib
import itertools
import json
import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from filelock import FileLock
from moto.backends import get_backend

from harness import docs
from harness.asl import with_config
from harness.emulator import ACCOUNT_ID, REGION, AwsEmulator
from harness.eventbridge import EventsLoop, create_events_loop
from harness.glue_simulator import GlueRunSimulator
from harness.moto_shims import evaluate_jsonata
from harness.plans import PlanConfig, plan_together, rendered_definition
from harness.service_faults import ServiceFaults
from harness.terraform import REPO_ROOT, TerraformWorkspace
from harness.tf_config import locals_of

WORKFLOW = "nightly-sales"
# Events mode runs against a workflow with a trigger graph, so that runs emit named job and
# crawler events: crawl-sales, then transform-sales once it succeeds, then publish-sales. The
# conditional triggers are created activated, as hashicorp/aws creates enabled ones
# (StartOnCreation): a conditional trigger that is not activated does not fire.
EVENTS_WORKFLOW = "nightly-sales-events"
EVENTS_GRAPH = (
    {"Name": "start-sales", "Type": "ON_DEMAND", "Actions": [{"CrawlerName": "crawl-sales"}]},
    {
        "Name": "crawled-then-transform",
        "Type": "CONDITIONAL",
        "StartOnCreation": True,
        "Predicate": {
            "Logical": "AND",
            "Conditions": [{"LogicalOperator": "EQUALS", "CrawlerName": "crawl-sales", "CrawlState": "SUCCEEDED"}],
        },
        "Actions": [{"JobName": "transform-sales"}],
    },
    {
        "Name": "transformed-then-publish",
        "Type": "CONDITIONAL",
        "StartOnCreation": True,
        "Predicate": {
            "Logical": "AND",
            "Conditions": [{"LogicalOperator": "EQUALS", "JobName": "transform-sales", "State": "SUCCEEDED"}],
        },
        "Actions": [{"JobName": "publish-sales"}],
    },
)
# A workflow whose graph is over GetWorkflowRun's response quota (tests/test_large_graphs.py).
OVER_QUOTA_WORKFLOW = "large-graph-over-quota"

# A region of each partition (aws, aws-cn, aws-us-gov).
PARTITION_REGIONS = {"aws": REGION, "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}
MODULE_VARIABLES = docs.module_variables()
# Events mode with a dashboard: every name that derives from `name` is used (tests/test_plan.py).
DOCUMENTED_BASE: dict[str, Any] = {
    "name": "documented",
    "glue_workflow_name": EVENTS_WORKFLOW,
    "completion_mode": "events",
    "completion_events": {"job_names": ["publish-sales"]},
    "create_dashboard": True,
}


def with_documented_values(base: dict[str, Any]) -> dict[str, Any]:
    """``base`` with every other input, and every other attribute of an object input, set to the value
    its documentation says it has when unset."""
    documented = docs.documented_values(MODULE_VARIABLES, base["name"])
    return {
        **documented,
        **{
            name: {**documented[name], **value} if isinstance(documented.get(name), dict) else value
            for name, value in base.items()
        },
    }


# The examples of good values that the variables' validation messages give, each planned on DOCUMENTED_BASE.
DOCUMENTED_EXAMPLES = {
    f"example_{variable}_{number}": (variable, value)
    for variable, values in docs.documented_examples(MODULE_VARIABLES).items()
    for number, value in enumerate(values)
}
# Every configuration of the root module that a test plans, by name: all planned together, by one
# terraform plan (harness.plans.plan_together), the first time a test asks for one.
PLAN_CONFIGS: dict[str, dict[str, Any]] = {
    "default": {
        "name": "nightly-sales-loop",
        "glue_workflow_name": WORKFLOW,
        "tags": {"team": "data", "tier": "bronze"},
        "state_machine_tags": {"tier": "gold"},
    },
    "fast_poll": {"name": "nightly-sales-loop", "glue_workflow_name": WORKFLOW, "poll_interval_seconds": 1},
    "sample": {"name": "retail-sample", "create_sample_workflow": True},
    "notify": {
        "name": "nightly-sales-loop",
        "glue_workflow_name": WORKFLOW,
        "create_sns_topic": True,
        "create_alarm": True,
    },
    "events": {
        "name": "nightly-sales-loop",
        "glue_workflow_name": EVENTS_WORKFLOW,
        "poll_interval_seconds": 1,
        "completion_mode": "events",
        "completion_events": {"job_names": ["transform-sales", "publish-sales"], "crawler_names": ["crawl-sales"]},
    },
    # Events mode with pacing and wake on data: new files under raw/ in DATA_BUCKET end an idle wait.
    "wake": {
        "name": "nightly-sales-loop",
        "glue_workflow_name": EVENTS_WORKFLOW,
        "poll_interval_seconds": 1,
        "completion_mode": "events",
        "completion_events": {"job_names": ["transform-sales", "publish-sales"], "crawler_names": ["crawl-sales"]},
        "pacing": {"enabled": True},
        "wake_on_data": {"enabled": True, "bucket_name": "landing-sales", "prefixes": ["raw/"]},
    },
    "policy": {
        "name": "nightly-sales-loop",
        "glue_workflow_name": WORKFLOW,
        "stop_policy": {"stop_on_failed_actions": False, "tolerated_actions": 2},
        "max_runs": 5,
        "cooldown_seconds": 30,
        "max_polls_per_execution": 10,
        "adopt_run_in_flight": False,
    },
    # Configurations that single tests read.
    "prefix_pattern": {
        "name": "nightly-sales-loop",
        "glue_workflow_name": EVENTS_WORKFLOW,
        "completion_mode": "events",
        "completion_events": {
            "job_names": ["publish-report"],
            "job_name_prefixes": ["sales-"],
            "crawler_name_prefixes": ["crawl-"],
        },
    },
    "longest_callback_watch": {
        "name": "nightly-sales-loop",
        "glue_workflow_name": EVENTS_WORKFLOW,
        "poll_interval_seconds": 1,
        "completion_mode": "events",
        "completion_events": {
            "job_names": ["transform-sales", "publish-sales"],
            "crawler_names": ["crawl-sales"],
            "callback_watch_seconds": 180,
        },
    },
    "large_graph": {
        "name": "large-graph-loop",
        "glue_workflow_name": OVER_QUOTA_WORKFLOW,
        "poll_interval_seconds": 1,
    },
    **{f"docs_{name}": config for name, config in docs.PLAN_CONFIGS.items()},
    "documented_base": DOCUMENTED_BASE,
    "documented_values": with_documented_values(DOCUMENTED_BASE),
    **{name: {**DOCUMENTED_BASE, variable: value} for name, (variable, value) in DOCUMENTED_EXAMPLES.items()},
    # Events mode with the sample workflow and an existing topic, in a region of each partition
    # (PARTITION_REGIONS): every definition is known at plan.
    **{
        f"partition_{partition.replace('-', '_')}": {
            "name": "nightly-sales-loop",
            "create_sample_workflow": True,
            "completion_mode": "events",
            "sns_topic_arn": f"arn:{partition}:sns:{region}:{ACCOUNT_ID}:loop-stops",
            "create_alarm": True,
        }
        for partition, region in PARTITION_REGIONS.items()
    },
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--aws",
        action="store_true",
        help="run tests/test_acceptance.py in the AWS account the usual credentials name (make test-aws)",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long tests first, so that parallel workers finish together."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)
    # The emulator's parsers and botocore make many small objects that live for the session, which Python's
    # collector would otherwise walk again at every 700th allocation, and the modules imported by now it
    # need never walk (collection was a tenth of the tests' Python CPU in a profile; this saved a twentieth).
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Fail a grouped test that --dist loadgroup did not group: each worker would then apply every
    session-scoped stack of its group itself, which doubles the slowest setups without failing a test.
    pytest-xdist names the group in the node id, which pytest 9.2 no longer lets it change
    (pytest-dev/pytest-xdist#1386)."""
    if item.config.getoption("loadgroup", False) and item.get_closest_marker("xdist_group") and "@" not in item.nodeid:
        pytest.fail(f"--dist loadgroup did not group {item.nodeid} (pytest-dev/pytest-xdist#1386)")


@pytest.fixture(scope="session")
def emulator() -> Iterator[AwsEmulator]:
    aws = AwsEmulator()
    yield aws
    aws.stop()


@pytest.fixture(scope="session")
def root_module(emulator: AwsEmulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TerraformWorkspace]:
    workspace = TerraformWorkspace(tmp_path_factory.mktemp("root"), ".", emulator.endpoint_url, REGION)
    workspace.init()
    with workspace.serving_provider():
        yield workspace


@pytest.fixture(scope="session")
def example_workspace(emulator: AwsEmulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TerraformWorkspace]:
    workspace = TerraformWorkspace(
        tmp_path_factory.mktemp("example"), "examples/existing-workflow", emulator.endpoint_url, REGION
    )
    workspace.init()
    with workspace.serving_provider():
        yield workspace


def _plan_region(config: str) -> str | None:
    partition = config.removeprefix("partition_").replace("_", "-")
    return PARTITION_REGIONS[partition] if config.startswith("partition_") else None


@pytest.fixture(scope="session")
def plan(emulator: AwsEmulator, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], dict[str, Any]]:
    """Plan JSON of a named configuration in PLAN_CONFIGS, as a plan of the root module with it alone
    would show it. The first call plans them all, once per session; under xdist one worker plans
    and the others read its plans (a plan reads nothing from the emulator but the account and region)."""
    cache: dict[str, dict[str, Any]] = {}
    shared = tmp_path_factory.getbasetemp().parent if os.environ.get("PYTEST_XDIST_WORKER") else None

    # make test-fast plans only the configurations its tests read (PLAN_ONLY, comma-separated).
    only = os.environ.get("PLAN_ONLY")
    planned_configs = {name: PLAN_CONFIGS[name] for name in only.split(",")} if only else PLAN_CONFIGS

    def plan_all() -> dict[str, dict[str, Any]]:
        configs = {name: PlanConfig(variables, _plan_region(name)) for name, variables in planned_configs.items()}
        return plan_together(tmp_path_factory.mktemp("plans"), configs, emulator.endpoint_url, REGION)

    def planned(config: str) -> dict[str, Any]:
        if not cache:
            if shared is None:
                cache.update(plan_all())
            else:
                with FileLock(shared / "plans.lock"):
                    saved = shared / "plans.json"
                    if not saved.exists():
                        saved.write_text(json.dumps(plan_all()))
                    cache.update(json.loads(saved.read_text()))
        if config not in cache:
            raise KeyError(f"configuration {config} is not planned: PLAN_ONLY={only} leaves it out")
        return cache[config]

    return planned


@pytest.fixture(scope="session")
def loop_locals() -> dict[str, Any]:
    """loop.tf's locals as python-hcl2 reads them: the history budget's figures the tests measure."""
    return locals_of(REPO_ROOT / "loop.tf")


@pytest.fixture(scope="session")
def sfn(emulator: AwsEmulator) -> Any:
    return emulator.client("stepfunctions")


@pytest.fixture
def glue(emulator: AwsEmulator) -> Iterator[GlueRunSimulator]:
    """A Glue run simulator laid over the emulator for one test, with the workflow WORKFLOW."""
    client = emulator.client("glue")
    if WORKFLOW not in client.list_workflows()["Workflows"]:
        client.create_workflow(Name=WORKFLOW, MaxConcurrentRuns=1)
    with GlueRunSimulator().installed() as simulator:
        yield simulator


@pytest.fixture(params=[1, None], ids=["limit-1", "no-limit"])
def concurrency_limit(glue: GlueRunSimulator, request: pytest.FixtureRequest) -> Iterator[int | None]:
    """WORKFLOW's MaxConcurrentRuns for one test, 1 and then unset: Glue refuses a run past a limit
    of 1 and lets runs overlap without one. Set on moto's workflow itself, as UpdateWorkflow
    cannot unset it, and set back afterwards."""
    workflow = get_backend("glue")[ACCOUNT_ID][REGION].workflows[WORKFLOW]
    original, workflow.max_concurrent_runs = workflow.max_concurrent_runs, request.param
    yield request.param
    workflow.max_concurrent_runs = original


@dataclass(frozen=True)
class Notices:
    """A topic for the loop's stop notices, subscribed by a queue that collects them."""

    topic_arn: str
    queue_url: str
    sqs: Any

    def received(self) -> list[dict[str, Any]]:
        """The notices the queue holds, waiting up to 5 s for the first."""
        messages = self.sqs.receive_message(QueueUrl=self.queue_url, WaitTimeSeconds=5, MaxNumberOfMessages=10)
        return [json.loads(message["Body"]) for message in messages.get("Messages", [])]


@pytest.fixture
def notices(emulator: AwsEmulator) -> Iterator[Notices]:
    sns, sqs = emulator.client("sns"), emulator.client("sqs")
    name = f"loop-notices-{uuid.uuid4().hex[:12]}"
    topic = sns.create_topic(Name=name)["TopicArn"]
    queue = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    yield Notices(topic, queue, sqs)
    sns.delete_topic(TopicArn=topic)
    sqs.delete_queue(QueueUrl=queue)


@pytest.fixture
def faults() -> Iterator[ServiceFaults]:
    """IAM denials and throttling injected into the emulator's task integrations for one test."""
    with ServiceFaults().installed() as injected:
        yield injected


@pytest.fixture(scope="session")
def loops_wait_before_run(plan: Callable[[str], dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """The loop's own rule for the wait before its next run (loop.tf's jsonata_wait_before_run),
    taken from its Cooldown state as Terraform renders it: ``(loop, config) -> {idle, seconds}``."""
    cooldown = rendered_definition(plan("default"))["States"]["Cooldown"]
    expression = cooldown["Assign"]["idle_wait"].removeprefix("{%").removesuffix("%}")
    function = expression[expression.index("(function") + 1 : expression.index(")($states.input.loop")]

    def wait(loop: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = evaluate_jsonata(f"({function})($loop, $config)", {"loop": loop, "config": config})
        return result

    return wait


def status_labels(text: str) -> set[str]:
    """The labels of glue-loop status text: each unindented line's text before its first wide gap or
    parenthesis ("Executions (newest 2, * running)")."""
    return {re.split(r"\s{2,}| \(", line)[0] for line in text.splitlines() if line[:1].isalnum()}


def status_headers(text: str) -> list[list[str]]:
    """The header rows of glue-loop status text's tables (nodes, resumes, executions)."""
    rows = [line.split() for line in text.splitlines() if line.startswith("  ")]
    return [row for row in rows if row[:1] in (["node"], ["resume"], ["name"])]


def pause_parameter_of(state_machine_arn: str) -> str:
    """The pause flag of a state machine made by make_loop."""
    return f"/test/{state_machine_arn.rsplit(':', 1)[1]}/paused"


@pytest.fixture
def create_machine(sfn: Any) -> Iterator[Callable[..., str]]:
    """Creates state machines in the emulator; stops what they leave running."""
    created: list[str] = []

    def create(name: str, definition: dict[str, Any], machine_type: str = "STANDARD") -> str:
        arn: str = sfn.create_state_machine(
            name=name,
            definition=json.dumps(definition),
            roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/loop",
            type=machine_type,
        )["stateMachineArn"]
        created.append(arn)
        return arn

    yield create
    for arn in created:
        for execution in sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]:
            sfn.stop_execution(executionArn=execution["executionArn"])


def _loop_definition(
    emulator: AwsEmulator, planned: dict[str, Any], name: str, **settings: int | str
) -> dict[str, Any]:
    """The rendered loop with its own pause flag (set to false) and settings changed as asked."""
    pause_parameter = f"/test/{name}/paused"
    emulator.client("ssm").put_parameter(Name=pause_parameter, Value="false", Type="String")
    return with_config(rendered_definition(planned), **{"pause_parameter": pause_parameter, **settings})


@pytest.fixture
def make_loop(
    emulator: AwsEmulator,
    plan: Callable[[str], dict[str, Any]],
    glue: GlueRunSimulator,
    create_machine: Callable[..., str],
    stable_name: Callable[..., str],
) -> Callable[..., str]:
    """Creates state machines running the definition Terraform renders (1 s polls), each with
    its own pause flag and settings changed as asked (harness.asl.with_config), on WORKFLOW or
    on ``workflow``: its name enters the definition only where the template and the settings put
    the workflow's name, so putting another in its place renders the loop for that workflow."""

    def make(workflow: str = WORKFLOW, **settings: int | str) -> str:
        name = stable_name("loop")
        definition = _loop_definition(emulator, plan("fast_poll"), name, **settings)
        renamed = json.dumps(definition).replace(json.dumps(WORKFLOW), json.dumps(workflow))
        return create_machine(name, json.loads(renamed))

    return make


@pytest.fixture
def stable_name(request: pytest.FixtureRequest) -> Callable[..., str]:
    """Names for what a test creates in its worker's emulator: unique there, and the same in every run, so
    that a definition holding them is the same text each run, which the emulator builds from the program it
    kept on disk instead of parsing it again (harness.emulator; most events mode tests: 0.2-1.3 CPU-s each)."""
    made = itertools.count()

    def name(prefix: str, digits: int = 12) -> str:
        digest = hashlib.sha256(f"{request.node.nodeid}\0{prefix}\0{next(made)}".encode()).hexdigest()
        return f"{prefix}-{digest[:digits]}"

    return name


@pytest.fixture
def loop_machine(make_loop: Callable[..., str]) -> str:
    return make_loop()


@pytest.fixture
def events_workflow(emulator: AwsEmulator) -> str:
    """EVENTS_WORKFLOW with its trigger graph (EVENTS_GRAPH)."""
    glue_client = emulator.client("glue")
    if EVENTS_WORKFLOW not in glue_client.list_workflows()["Workflows"]:
        glue_client.create_workflow(Name=EVENTS_WORKFLOW, MaxConcurrentRuns=1)
        for trigger in EVENTS_GRAPH:
            glue_client.create_trigger(WorkflowName=EVENTS_WORKFLOW, **trigger)
    return EVENTS_WORKFLOW


@pytest.fixture
def make_events_loop(
    emulator: AwsEmulator,
    plan: Callable[[str], dict[str, Any]],
    glue: GlueRunSimulator,
    create_machine: Callable[..., str],
    events_workflow: str,
    stable_name: Callable[..., str],
) -> Callable[..., EventsLoop]:
    """Creates events mode loops as Terraform renders them (1 s polls), each with its own pause
    flag and token table and its own callback state machine (its watch of a running run changed
    by callback_watch_seconds), on EVENTS_WORKFLOW's trigger graph."""

    def make(callback_watch_seconds: int | None = None, config: str = "events", **settings: int | str) -> EventsLoop:
        name = stable_name("loop")
        definition = _loop_definition(emulator, plan(config), name, **settings)
        return create_events_loop(emulator, plan(config), name, definition, create_machine, callback_watch_seconds)

    return make
