"""Large workflows: Step Functions' 256 KiB task result quota, the Glue graphs that exceed it, and a
loop that still stops saying why and announces it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from conftest import OVER_QUOTA_WORKFLOW, Notices
from harness.asl import with_config
from harness.emulator import AwsEmulator
from harness.glue_simulator import GlueRunSimulator, RunOutcome, create_fan_out_workflow
from harness.loop import Execution, failed_tasks, history_events, wait_until_stopped
from harness.plans import rendered_definition

QUOTA = 256 * 1024
TABLE = "task-result-quota"
# A 300-node workflow whose graph is over the quota; a smaller one whose graph fits, for
# failed-node lists longer than the loop names.
MANY_FAILURES_WORKFLOW = "many-failures"

CreateMachine = Callable[..., str]


def compact_size(value: Any) -> int:
    """UTF-8 bytes of the compact JSON, timestamps as the ISO strings a state machine sees."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=lambda t: t.isoformat()).encode())


# --- The quota, on a task of its own -------------------------------------------------------------


@pytest.fixture(scope="module")
def dynamodb(emulator: AwsEmulator) -> Any:
    client = emulator.client("dynamodb")
    if TABLE not in client.list_tables()["TableNames"]:
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    return client


def item_answering(dynamodb: Any, size: int) -> str:
    """Store an item whose GetItem answer is ``size`` bytes of compact UTF-8 JSON, mostly in a
    two-byte character, and return its key."""
    key = uuid.uuid4().hex
    room = size - compact_size({"Item": {"pk": {"S": key}, "blob": {"S": ""}}})
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": key}, "blob": {"S": "é" * (room // 2) + "x" * (room % 2)}})
    answer = dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": key}})
    answer.pop("ResponseMetadata")  # boto3's, not the service's: the task result leaves it out
    assert compact_size(answer) == size
    return key


def read_item(sfn: Any, create_machine: CreateMachine, key: str, catching: str) -> Execution:
    """Run a machine whose one task reads the item, selecting only its key, with a catcher of
    ``catching``."""
    definition = {
        "StartAt": "ReadItem",
        "States": {
            "ReadItem": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:dynamodb:getItem",
                "Parameters": {"TableName": TABLE, "Key": {"pk": {"S.$": "$.key"}}},
                "ResultSelector": {"key.$": "$.Item.pk.S"},
                "Catch": [{"ErrorEquals": [catching], "ResultPath": "$.error", "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    arn = create_machine(f"quota-{uuid.uuid4().hex[:12]}", definition)
    sfn.start_execution(stateMachineArn=arn, input=json.dumps({"key": key}))
    (execution,) = wait_until_stopped(sfn, arn)
    return execution


def test_task_result_over_256_kib_fails_the_task_with_data_limit_exceeded_which_states_all_does_not_catch(
    sfn: Any, dynamodb: Any, create_machine: CreateMachine
) -> None:
    execution = read_item(sfn, create_machine, item_answering(dynamodb, QUOTA + 1), "States.ALL")

    assert (execution.status, execution.error) == ("FAILED", "States.DataLimitExceeded")


def test_data_limit_exceeded_is_caught_by_a_catcher_that_names_it(
    sfn: Any, dynamodb: Any, create_machine: CreateMachine
) -> None:
    execution = read_item(sfn, create_machine, item_answering(dynamodb, QUOTA + 1), "States.DataLimitExceeded")

    assert execution.status == "SUCCEEDED"
    assert execution.output is not None and execution.output["error"]["Error"] == "States.DataLimitExceeded"


def test_task_result_of_exactly_256_kib_of_compact_utf8_json_is_taken(
    sfn: Any, dynamodb: Any, create_machine: CreateMachine
) -> None:
    execution = read_item(sfn, create_machine, key := item_answering(dynamodb, QUOTA), "States.ALL")

    assert execution.status == "SUCCEEDED"
    assert execution.output == {"key": key}


# --- Glue graphs of hundreds of nodes, and the loop on them --------------------------------------


@pytest.fixture(scope="module")
def over_quota_loads(emulator: AwsEmulator) -> list[str]:
    """The load jobs of a 300-node workflow with the arguments real loads carry."""
    return create_fan_out_workflow(emulator.client("glue"), OVER_QUOTA_WORKFLOW, branches=149)


@pytest.fixture(scope="module")
def many_failures_loads(emulator: AwsEmulator) -> list[str]:
    """The load jobs of a 222-node workflow without arguments: its graph fits the quota (some
    227 KiB) even with 105 failed loads."""
    return create_fan_out_workflow(emulator.client("glue"), MANY_FAILURES_WORKFLOW, branches=110, with_arguments=False)


@pytest.fixture(scope="module")
def loop_definition(plan: Callable[[str], dict[str, Any]]) -> Callable[[str], dict[str, Any]]:
    """The loop Terraform renders for a workflow (1 s polls). Planned once, for OVER_QUOTA_WORKFLOW
    (conftest.PLAN_CONFIGS["large_graph"]): the workflow's name enters the definition only through
    the template's ${glue_workflow_name}, so putting another name in its place renders the
    definition for that workflow, as the module's rendering would."""
    planned = json.dumps(rendered_definition(plan("large_graph")))

    def render(workflow: str) -> dict[str, Any]:
        definition: dict[str, Any] = json.loads(planned.replace(OVER_QUOTA_WORKFLOW, workflow))
        return definition

    return render


def run_loop(
    emulator: AwsEmulator, sfn: Any, create_machine: CreateMachine, definition: dict[str, Any], topic: str
) -> Execution:
    """Run the loop, announcing its stop on ``topic``, until it stops after one run."""
    name = f"loop-{uuid.uuid4().hex[:12]}"
    pause_parameter = f"/test/{name}/paused"
    emulator.client("ssm").put_parameter(Name=pause_parameter, Value="false", Type="String")
    arn = create_machine(name, with_config(definition, pause_parameter=pause_parameter, sns_topic_arn=topic))
    sfn.start_execution(stateMachineArn=arn, input="{}")
    (execution,) = wait_until_stopped(sfn, arn)
    return execution


def test_graph_of_a_300_node_workflow_details_its_nodes_as_glue_does_and_is_over_256_kib(
    emulator: AwsEmulator, glue: GlueRunSimulator, over_quota_loads: list[str]
) -> None:
    client = emulator.client("glue")
    failed = over_quota_loads[0]
    glue.script(OVER_QUOTA_WORKFLOW, RunOutcome(node_states={failed: "FAILED"}))
    run_id = client.start_workflow_run(Name=OVER_QUOTA_WORKFLOW)["RunId"]
    client.get_workflow_run(Name=OVER_QUOTA_WORKFLOW, RunId=run_id)  # the poll that sees it end

    answer = client.get_workflow_run(Name=OVER_QUOTA_WORKFLOW, RunId=run_id, IncludeGraph=True)
    answer.pop("ResponseMetadata")

    nodes = {node["Name"]: node for node in answer["Run"]["Graph"]["Nodes"]}
    assert len(nodes) == 300
    assert compact_size(answer) > QUOTA
    (job_run,) = nodes[failed]["JobDetails"]["JobRuns"]
    assert job_run.keys() >= {
        *("Id", "Attempt", "TriggerName", "JobName", "StartedOn", "LastModifiedOn", "CompletedOn", "JobRunState"),
        *("Arguments", "ErrorMessage", "PredecessorRuns", "ExecutionTime", "Timeout", "MaxCapacity", "WorkerType"),
        *("NumberOfWorkers", "LogGroupName", "GlueVersion"),
    }
    assert job_run["JobRunState"] == "FAILED"
    (extract_run,) = nodes[f"{OVER_QUOTA_WORKFLOW}-extract"]["JobDetails"]["JobRuns"]
    assert job_run["PredecessorRuns"] == [{"JobName": extract_run["JobName"], "RunId": extract_run["Id"]}]
    trigger = nodes[job_run["TriggerName"]]["TriggerDetails"]["Trigger"]
    assert trigger == client.get_trigger(Name=job_run["TriggerName"])["Trigger"]
    workflow_arguments = {"--WORKFLOW_NAME": OVER_QUOTA_WORKFLOW, "--WORKFLOW_RUN_ID": run_id}
    assert job_run["Arguments"] == {**trigger["Actions"][0]["Arguments"], **workflow_arguments}


def test_graph_details_a_crawler_node_with_its_crawl_and_trigger_nodes_with_their_trigger(
    emulator: AwsEmulator, glue: GlueRunSimulator
) -> None:
    client = emulator.client("glue")
    workflow, crawler = f"crawl-{uuid.uuid4().hex[:8]}", f"crawl-raw-{uuid.uuid4().hex[:8]}"
    client.create_workflow(Name=workflow)
    client.create_crawler(
        Name=crawler,
        Role="arn:aws:iam::123456789012:role/service-role/AWSGlueServiceRole-retail",
        DatabaseName="retail_raw",
        Targets={"S3Targets": [{"Path": "s3://retail-raw/sales/"}]},
    )
    client.create_trigger(
        WorkflowName=workflow, Name=f"{workflow}-start", Type="ON_DEMAND", Actions=[{"CrawlerName": crawler}]
    )
    glue.script(workflow, RunOutcome(node_states={crawler: "FAILED"}))
    run_id = client.start_workflow_run(Name=workflow)["RunId"]
    client.get_workflow_run(Name=workflow, RunId=run_id)

    nodes = {
        node["Name"]: node
        for node in client.get_workflow_run(Name=workflow, RunId=run_id, IncludeGraph=True)["Run"]["Graph"]["Nodes"]
    }

    (crawl,) = nodes[crawler]["CrawlerDetails"]["Crawls"]
    assert crawl.keys() == {"State", "StartedOn", "CompletedOn", "ErrorMessage", "LogGroup", "LogStream"}
    assert (crawl["State"], crawl["LogGroup"], crawl["LogStream"]) == ("FAILED", "/aws-glue/crawlers", crawler)
    assert crawl["StartedOn"] < crawl["CompletedOn"]
    trigger = nodes[f"{workflow}-start"]["TriggerDetails"]["Trigger"]
    assert trigger == client.get_trigger(Name=f"{workflow}-start")["Trigger"]


def test_loop_stops_with_its_verdict_and_announces_it_when_the_run_graph_is_over_256_kib(
    emulator: AwsEmulator,
    sfn: Any,
    glue: GlueRunSimulator,
    create_machine: CreateMachine,
    loop_definition: Callable[[str], dict[str, Any]],
    notices: Notices,
    over_quota_loads: list[str],
) -> None:
    glue.script(OVER_QUOTA_WORKFLOW, RunOutcome(node_states=dict.fromkeys(over_quota_loads[::10], "FAILED")))

    stopped = run_loop(emulator, sfn, create_machine, loop_definition(OVER_QUOTA_WORKFLOW), notices.topic_arn)

    (notice,) = notices.received()
    assert failed_tasks(sfn, stopped.arn) == ["States.DataLimitExceeded"]
    assert stopped.error == notice["error"] == "GlueWorkflowActionsFailed"
    assert stopped.cause == notice["cause"]
    assert ": 135 of 150 actions succeeded, 15 failed," in stopped.cause
    assert notice["failed_nodes"] == [
        "unknown: failed nodes could not be listed, the run's graph is over the 256 KiB a task result may hold"
    ]
    assert stopped.cause.endswith(f"failed nodes: [{notice['failed_nodes'][0]}]")


def test_loop_names_the_first_100_of_more_failed_nodes_so_that_its_stop_fits_step_functions_limits(
    emulator: AwsEmulator,
    sfn: Any,
    glue: GlueRunSimulator,
    create_machine: CreateMachine,
    loop_definition: Callable[[str], dict[str, Any]],
    notices: Notices,
    many_failures_loads: list[str],
) -> None:
    failed = many_failures_loads[:105]
    glue.script(MANY_FAILURES_WORKFLOW, RunOutcome(node_states=dict.fromkeys(failed, "FAILED")))

    stopped = run_loop(emulator, sfn, create_machine, loop_definition(MANY_FAILURES_WORKFLOW), notices.topic_arn)

    (notice,) = notices.received()
    assert failed_tasks(sfn, stopped.arn) == [], "the graph was read"
    assert stopped.error == notice["error"] == "GlueWorkflowActionsFailed"
    assert notice["failed_nodes"] == [*failed[:100], "and 5 more"]
    assert stopped.cause == notice["cause"]
    assert stopped.cause.endswith(f"failed nodes: [{', '.join(failed[:100])}, and 5 more]")


# --- The largest stop the inputs allow -----------------------------------------------------------

CAUSE_LIMIT = 32_768  # ExecutionFailedEventDetails: cause
SNS_MESSAGE_LIMIT = 262_144  # Publish: Message, in bytes
LONGEST_NAME = 255  # Glue's job and crawler names ("Job": Name)
GLUE_RUN_ID = "wr_" + "0" * 64


def test_the_largest_stop_keeps_every_limit_through_build_stop_notify_and_the_fail_state(
    sfn: Any,
    create_machine: CreateMachine,
    loop_definition: Callable[[str], dict[str, Any]],
    notices: Notices,
) -> None:
    """100 failed nodes of Glue's longest names, resumed 9 times, then a 10th resume refused with
    the longest error a cause can carry: RecordRecoveryAttempt, BuildStop, ShouldNotify, Notify
    and StopLoop as Terraform renders them, after states that set what the loop would have."""
    workflow = "w" * LONGEST_NAME
    loop = with_config(loop_definition(workflow), sns_topic_arn=notices.topic_arn, recovery_max_attempts=10)
    names = [f"{number:03d}".ljust(LONGEST_NAME, "n") for number in range(100)]
    longest_error = "e" * CAUSE_LIMIT
    states = {name: loop["States"][name] for name in ("RecordRecoveryAttempt", "BuildStop", "ShouldNotify", "Notify")}
    definition = {
        "StartAt": "FailedAgain",
        "States": {
            "FailedAgain": {
                "Type": "Pass",
                "QueryLanguage": "JSONata",
                "Assign": {
                    "verdict": {"failed_nodes": names},
                    "resumed": {"run_id": GLUE_RUN_ID},
                    "notified": False,
                    "call_failures": 0,
                    "polls": 0,
                },
                "Next": "RecordRecoveryAttempt",
            },
            **states,
            "RecordRecoveryAttempt": {**states["RecordRecoveryAttempt"], "Next": "ResumeAgain"},
            "ResumeAgain": {
                "Type": "Choice",
                "QueryLanguage": "JSONata",
                "Choices": [
                    {"Condition": "{% $count($states.input.loop.recovery_attempts) < 9 %}", "Next": "FailedAgain"}
                ],
                "Default": "ResumeRefused",
            },
            "ResumeRefused": {
                "Type": "Pass",
                "QueryLanguage": "JSONata",
                "Assign": {"verdict": {"error": "GlueWorkflowRunNotResumed", "unresumed_nodes": names}},
                "Output": "{% $merge([$states.input, {'error': {'Error': 'Glue.InternalServiceException', 'Cause': '"
                + longest_error
                + "'}}]) %}",
                "Next": "BuildStop",
            },
            "StopLoop": loop["States"]["StopLoop"],
        },
    }
    config = loop["States"]["ApplyDefaults"]["Parameters"]["config"]
    arn = create_machine(f"largest-stop-{uuid.uuid4().hex[:8]}", definition)
    state = {"config": config, "run": {"id": GLUE_RUN_ID}, "loop": {"run_number": 1, "recovery_attempts": []}}
    sfn.start_execution(stateMachineArn=arn, input=json.dumps(state))

    (stopped,) = wait_until_stopped(sfn, arn)

    (notice,) = notices.received()
    fail_input = json.loads(
        next(
            event["stateEnteredEventDetails"]["input"]
            for event in history_events(sfn, stopped.arn)
            if event.get("stateEnteredEventDetails", {}).get("name") == "StopLoop"
        )
    )
    assert stopped.error == "GlueWorkflowRunNotResumed"
    assert len(stopped.cause) <= CAUSE_LIMIT
    assert stopped.cause == notice["cause"]
    assert f"[{', '.join(names[:31])}, and 69 more]" in stopped.cause
    assert f"Glue.InternalServiceException: {'e' * 4000}... ({CAUSE_LIMIT - 4000} more characters)" in stopped.cause
    assert "resumed 9 times before: " in stopped.cause
    assert len(json.dumps(notice).encode()) <= SNS_MESSAGE_LIMIT
    assert compact_size(fail_input) <= QUOTA
    assert fail_input["loop"]["recovery_attempts"] == [], "the attempts are carried once, in the stop"
    assert [attempt["failed_nodes"] for attempt in fail_input["stop"]["recovery_attempts"]] == [
        [*names[:3], "and 97 more"]
    ] * 9
