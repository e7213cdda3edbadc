"""ResumeWorkflowRun in the Glue run simulator, as the Glue developer guide ("Repairing and resuming
a workflow run") and API reference document it, through the emulator's Glue API and through a
Step Functions aws-sdk:glue task."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from harness.emulator import AwsEmulator
from harness.glue_simulator import CLEAN, UNTIL_FINISHED, GlueRunSimulator, RunOutcome, state_change_events
from harness.loop import run_to_end

# crawl, then transform and audit side by side once it succeeds, then publish once transform succeeds.
GRAPH = (
    {"Name": "start", "Type": "ON_DEMAND", "Actions": [{"CrawlerName": "crawl"}]},
    {
        "Name": "crawled",
        "Type": "CONDITIONAL",
        "StartOnCreation": True,
        "Predicate": {
            "Logical": "AND",
            "Conditions": [{"LogicalOperator": "EQUALS", "CrawlerName": "crawl", "CrawlState": "SUCCEEDED"}],
        },
        "Actions": [{"JobName": "transform"}, {"JobName": "audit"}],
    },
    {
        "Name": "transformed",
        "Type": "CONDITIONAL",
        "StartOnCreation": True,
        "Predicate": {
            "Logical": "AND",
            "Conditions": [{"LogicalOperator": "EQUALS", "JobName": "transform", "State": "SUCCEEDED"}],
        },
        "Actions": [{"JobName": "publish"}],
    },
)
TRANSFORM_FAILS = RunOutcome(node_states={"transform": "FAILED"})


@pytest.fixture
def client(emulator: AwsEmulator) -> Any:
    return emulator.client("glue")


def _workflow(client: Any, **settings: Any) -> str:
    name = f"resume-{uuid.uuid4().hex[:12]}"
    client.create_workflow(Name=name, **settings)
    for trigger in GRAPH:
        client.create_trigger(WorkflowName=name, **{**trigger, "Name": f"{name}-{trigger['Name']}"})
    return name


@pytest.fixture
def workflow(client: Any) -> str:
    return _workflow(client, MaxConcurrentRuns=1)


def _completed(client: Any, workflow: str, run_id: str) -> dict[str, Any]:
    """The run read once (a run scripted without running polls has then ended), with its graph."""
    client.get_workflow_run(Name=workflow, RunId=run_id)
    run: dict[str, Any] = client.get_workflow_run(Name=workflow, RunId=run_id, IncludeGraph=True)["Run"]
    return run


def _failed_run(client: Any, glue: GlueRunSimulator, workflow: str, *resumed: RunOutcome) -> str:
    """A COMPLETED run of ``workflow`` whose transform failed; ``resumed`` scripts the next runs."""
    glue.script(workflow, TRANSFORM_FAILS, *resumed)
    run_id: str = client.start_workflow_run(Name=workflow)["RunId"]
    assert _completed(client, workflow, run_id)["Status"] == "COMPLETED"
    return run_id


def _job_runs(run: dict[str, Any]) -> dict[str, list[tuple[str, str, str]]]:
    """Each job node's runs as (state, job run id, workflow run id it names)."""
    return {
        node["Name"]: [
            (job_run["JobRunState"], job_run["Id"], job_run["Arguments"]["--WORKFLOW_RUN_ID"])
            for job_run in node["JobDetails"]["JobRuns"]
        ]
        for node in run["Graph"]["Nodes"]
        if node["Type"] == "JOB"
    }


def _refusal(client: Any, workflow: str, run_id: str, node_ids: list[str]) -> str:
    """The error code of a ResumeWorkflowRun that Glue refuses."""
    with pytest.raises(ClientError) as raised:
        client.resume_workflow_run(Name=workflow, RunId=run_id, NodeIds=node_ids)
    code: str = raised.value.response["Error"]["Code"]
    return code


def test_a_resumed_run_has_a_new_run_id_whose_previous_run_id_is_the_resumed_run(
    client: Any, glue: GlueRunSimulator, workflow: str
) -> None:
    original = _failed_run(client, glue, workflow, CLEAN)

    resumed = client.resume_workflow_run(Name=workflow, RunId=original, NodeIds=["job-transform"])

    assert resumed["RunId"] not in (original, None)
    assert resumed["NodeIds"] == ["job-transform"]
    run = client.get_workflow_run(Name=workflow, RunId=resumed["RunId"])["Run"]
    assert (run["WorkflowRunId"], run["PreviousRunId"]) == (resumed["RunId"], original)


def test_a_resumed_run_runs_the_chosen_nodes_and_those_downstream_and_copies_the_others_from_the_resumed_run(
    client: Any, glue: GlueRunSimulator, workflow: str
) -> None:
    original = _failed_run(client, glue, workflow, CLEAN)
    resumed = client.resume_workflow_run(Name=workflow, RunId=original, NodeIds=["job-transform"])["RunId"]

    run = _completed(client, workflow, resumed)

    assert [node.name for node in glue.runs_of(workflow)[1].executed] == ["transform", "publish"]
    assert _job_runs(run) == {
        "transform": [("SUCCEEDED", f"jr_{resumed}_transform", resumed)],
        "audit": [("SUCCEEDED", f"jr_{original}_audit", original)],
        "publish": [("SUCCEEDED", f"jr_{resumed}_publish", resumed)],
    }
    (crawler,) = [node for node in run["Graph"]["Nodes"] if node["Type"] == "CRAWLER"]
    assert [crawl["State"] for crawl in crawler["CrawlerDetails"]["Crawls"]] == ["SUCCEEDED"]


def test_a_resumed_run_counts_only_the_nodes_it_runs_in_its_statistics(
    client: Any, glue: GlueRunSimulator, workflow: str
) -> None:
    original = _failed_run(client, glue, workflow, CLEAN)
    resumed = client.resume_workflow_run(Name=workflow, RunId=original, NodeIds=["job-transform"])["RunId"]

    statistics = _completed(client, workflow, resumed)["Statistics"]

    assert (statistics["TotalActions"], statistics["SucceededActions"], statistics["FailedActions"]) == (2, 2, 0)


def test_a_node_that_fails_again_leaves_its_downstream_nodes_as_the_resumed_run_left_them(
    client: Any, glue: GlueRunSimulator, workflow: str
) -> None:
    original = _failed_run(client, glue, workflow, TRANSFORM_FAILS)
    resumed = client.resume_workflow_run(Name=workflow, RunId=original, NodeIds=["job-transform"])["RunId"]

    run = _completed(client, workflow, resumed)

    assert (run["Status"], run["Statistics"]["TotalActions"], run["Statistics"]["FailedActions"]) == ("COMPLETED", 1, 1)
    assert _job_runs(run)["transform"] == [("FAILED", f"jr_{resumed}_transform", resumed)]
    assert _job_runs(run)["publish"] == []


def test_a_resumed_run_can_itself_be_resumed_and_keeps_the_first_runs_copied_nodes(
    client: Any, glue: GlueRunSimulator, workflow: str
) -> None:
    original = _failed_run(client, glue, workflow, TRANSFORM_FAILS, CLEAN)
    first = client.resume_workflow_run(Name=workflow, RunId=original, NodeIds=["job-transform"])["RunId"]
    _completed(client, workflow, first)

    second = client.resume_workflow_run(Name=workflow, RunId=first, NodeIds=["job-transform"])["RunId"]

    run = _completed(client, workflow, second)
    assert run["PreviousRunId"] == first
    assert _job_runs(run) == {
        "transform": [("SUCCEEDED", f"jr_{second}_transform", second)],
        "audit": [("SUCCEEDED", f"jr_{original}_audit", original)],
        "publish": [("SUCCEEDED", f"jr_{second}_publish", second)],
    }


def test_a_chosen_node_downstream_of_another_chosen_node_is_not_restarted_itself(
    client: Any, glue: GlueRunSimulator, workflow: str
) -> None:
    glue.script(workflow, RunOutcome(node_states={"publish": "FAILED"}), CLEAN)
    original = client.start_workflow_run(Name=workflow)["RunId"]
    _completed(client, workflow, original)

    resumed = client.resume_workflow_run(Name=workflow, RunId=original, NodeIds=["job-publish", "job-transform"])

    assert resumed["NodeIds"] == ["job-transform"]
    assert [node.name for node in glue.runs_of(workflow)[1].executed] == ["transform", "publish"]


def test_a_resumed_run_sends_state_change_events_for_the_nodes_it_runs_only(
    client: Any, glue: GlueRunSimulator, workflow: str
) -> None:
    original = _failed_run(client, glue, workflow, CLEAN)
    resumed = client.resume_workflow_run(Name=workflow, RunId=original, NodeIds=["job-transform"])["RunId"]

    events = state_change_events(glue.runs_of(workflow)[1])

    assert [(event["detail-type"], event["detail"].get("jobName"), event["detail"]["state"]) for event in events] == [
        ("Glue Job State Change", "transform", "SUCCEEDED"),
        ("Glue Job State Change", "publish", "SUCCEEDED"),
    ]
    assert {event["detail"]["jobRunId"] for event in events} == {f"jr_{resumed}_transform", f"jr_{resumed}_publish"}


def test_a_workflow_without_triggers_resumes_the_failed_actions_of_its_graph(
    client: Any, glue: GlueRunSimulator
) -> None:
    workflow = f"resume-{uuid.uuid4().hex[:12]}"
    client.create_workflow(Name=workflow)
    glue.script(workflow, RunOutcome(failed=1), CLEAN)
    original = client.start_workflow_run(Name=workflow)["RunId"]
    failed = [
        node["UniqueId"]
        for node in _completed(client, workflow, original)["Graph"]["Nodes"]
        if node["JobDetails"]["JobRuns"][0]["JobRunState"] == "FAILED"
    ]

    resumed = client.resume_workflow_run(Name=workflow, RunId=original, NodeIds=failed)

    statistics = _completed(client, workflow, resumed["RunId"])["Statistics"]
    assert (resumed["NodeIds"], statistics["TotalActions"], statistics["SucceededActions"]) == (failed, 1, 1)


def test_a_resumed_run_has_the_workflows_default_run_properties_not_those_of_the_resumed_run(
    client: Any, glue: GlueRunSimulator
) -> None:
    workflow = _workflow(client, DefaultRunProperties={"tier": "bronze"})
    glue.script(workflow, TRANSFORM_FAILS)
    original = client.start_workflow_run(Name=workflow, RunProperties={"since": "2024-01-01"})["RunId"]
    _completed(client, workflow, original)

    resumed = client.resume_workflow_run(Name=workflow, RunId=original, NodeIds=["job-transform"])["RunId"]

    assert client.get_workflow_run_properties(Name=workflow, RunId=resumed)["RunProperties"] == {"tier": "bronze"}


def test_only_a_completed_run_can_be_resumed_not_a_running_or_stopped_one(
    client: Any, glue: GlueRunSimulator, workflow: str
) -> None:
    glue.script(workflow, RunOutcome(running_polls=UNTIL_FINISHED), RunOutcome(running_polls=UNTIL_FINISHED))
    stopped = client.start_workflow_run(Name=workflow)["RunId"]
    client.stop_workflow_run(Name=workflow, RunId=stopped)
    running = client.start_workflow_run(Name=workflow)["RunId"]

    errors = [_refusal(client, workflow, run_id, ["crawler-crawl"]) for run_id in (running, stopped)]

    assert errors == ["IllegalWorkflowStateException"] * 2
    assert len(glue.runs_of(workflow)) == 2


def test_resuming_a_run_the_workflow_never_had_is_entity_not_found(
    client: Any, glue: GlueRunSimulator, workflow: str
) -> None:
    unknown = f"wr_{'0' * 64}"

    error = _refusal(client, workflow, unknown, ["job-transform"])

    assert error == "EntityNotFoundException"


@pytest.mark.parametrize(
    ("node_id", "in_graph"),
    [("job-publish", True), ("trigger-{workflow}-start", True), ("job-no-such-job", False)],
    ids=["node-not-attempted", "trigger-node", "node-not-in-graph"],
)
def test_only_job_and_crawler_nodes_the_run_attempted_can_be_restarted(
    client: Any, glue: GlueRunSimulator, workflow: str, node_id: str, in_graph: bool
) -> None:
    original = _failed_run(client, glue, workflow)
    node_id = node_id.format(workflow=workflow)
    graph = {node["UniqueId"] for node in _completed(client, workflow, original)["Graph"]["Nodes"]}
    assert (node_id in graph) == in_graph

    error = _refusal(client, workflow, original, [node_id])

    assert error == "InvalidInputException"
    assert len(glue.runs_of(workflow)) == 1


def test_a_resume_past_the_workflows_max_concurrent_runs_is_refused(
    client: Any, glue: GlueRunSimulator, workflow: str
) -> None:
    original = _failed_run(client, glue, workflow)
    client.start_workflow_run(Name=workflow)  # unscripted: it runs on

    error = _refusal(client, workflow, original, ["job-transform"])

    assert error == "ConcurrentRunsExceededException"
    assert len(glue.runs_of(workflow)) == 2


def test_a_resumed_run_counts_as_a_run_of_its_workflow_in_overlap_detection(
    client: Any, glue: GlueRunSimulator
) -> None:
    workflow = _workflow(client)  # no MaxConcurrentRuns: Glue lets runs overlap
    original = _failed_run(client, glue, workflow)
    resumed = client.resume_workflow_run(Name=workflow, RunId=original, NodeIds=["job-transform"])["RunId"]
    assert glue.overlapping_starts == []

    started = client.start_workflow_run(Name=workflow)["RunId"]
    also_resumed = client.resume_workflow_run(Name=workflow, RunId=original, NodeIds=["job-transform"])["RunId"]

    assert glue.overlapping_starts == [started, also_resumed]
    assert resumed not in glue.overlapping_starts


def test_an_injected_refusal_fails_one_resume_and_creates_no_run(
    client: Any, glue: GlueRunSimulator, workflow: str
) -> None:
    original = _failed_run(client, glue, workflow, CLEAN)
    # Not InternalServiceException: boto3 retries an HTTP 500 and would hide the refusal.
    glue.fail_next("ResumeWorkflowRun", "OperationTimeoutException")

    error = _refusal(client, workflow, original, ["job-transform"])

    assert error == "OperationTimeoutException"
    assert len(glue.runs_of(workflow)) == 1
    assert client.resume_workflow_run(Name=workflow, RunId=original, NodeIds=["job-transform"])["RunId"]


def test_a_step_functions_aws_sdk_task_resumes_a_run_and_is_told_glues_refusal(
    emulator: AwsEmulator, client: Any, glue: GlueRunSimulator, workflow: str, create_machine: Callable[..., str]
) -> None:
    machine = create_machine(
        f"resume-{uuid.uuid4().hex[:12]}",
        {
            "StartAt": "Resume",
            "States": {
                "Resume": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::aws-sdk:glue:resumeWorkflowRun",
                    "Parameters": {"Name.$": "$.workflow", "RunId.$": "$.run_id", "NodeIds.$": "$.node_ids"},
                    "End": True,
                }
            },
        },
    )
    sfn = emulator.client("stepfunctions")
    original = _failed_run(client, glue, workflow, CLEAN)
    state = {"workflow": workflow, "run_id": original, "node_ids": ["job-transform"]}

    resumed = run_to_end(sfn, machine, state)
    glue.fail_next("ResumeWorkflowRun", "ConcurrentRunsExceededException")
    refused = run_to_end(sfn, machine, state)

    assert json.loads(resumed["output"]) == {"RunId": glue.runs_of(workflow)[1].run_id, "NodeIds": ["job-transform"]}
    assert (refused["status"], refused["error"]) == ("FAILED", "Glue.ConcurrentRunsExceededException")
