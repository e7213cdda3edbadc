"""A node's outcome is its latest attempt (highest Attempt, then latest StartedOn), whatever order
Glue lists its attempts in, and every unsuccessful state Glue's references list counts. Recovery
resumes only such nodes, and a run that has none stops with an error of its own."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from conftest import WORKFLOW
from harness.glue_simulator import CLEAN, ExecutedNode, GlueRunSimulator, RunOutcome, WorkflowGraph
from harness.loop import wait_until_stopped
from harness.moto_shims import TIMESTAMP_FORMS, as_task_result_timestamp, evaluate_jsonata
from harness.plans import rendered_definition

MakeLoop = Callable[..., str]
# Names whose three attempts the simulator lists with the latest in the middle, so that reading
# either end of the list is wrong (checked in each test).
JOB, CRAWLER = "publish", "extract"
TRIGGERS = ({"Name": "start", "Type": "ON_DEMAND", "Actions": [{"JobName": JOB}, {"CrawlerName": CRAWLER}]},)
# "JobRun": JobRunState and "Crawl": State in Glue's API reference.
UNSUCCESSFUL_JOB_STATES = ["FAILED", "TIMEOUT", "STOPPED", "ERROR", "EXPIRED"]
UNSUCCESSFUL_CRAWL_STATES = ["FAILED", "CANCELLED", "ERROR"]


def graph_nodes(job: tuple[str, ...], crawl: tuple[str, ...], form: str) -> list[dict[str, Any]]:
    """The nodes of a run's graph as GetWorkflowRun gives them to the loop: the job's and the
    crawler's attempts (oldest first), timestamps in ``form``."""
    executed = [
        ExecutedNode(JOB, "JOB", job[-1], earlier_attempts=job[:-1]),
        ExecutedNode(CRAWLER, "CRAWLER", crawl[-1], earlier_attempts=crawl[:-1]),
    ]
    nodes = WorkflowGraph(TRIGGERS).graph(executed, "wr_1")["Nodes"]
    loaded: list[dict[str, Any]] = json.loads(json.dumps(nodes, default=lambda t: as_task_result_timestamp(t, form)))
    return loaded


def attempts_listed(nodes: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    (node,) = [node for node in nodes if node["Name"] == name]
    listed: list[dict[str, Any]] = node.get("JobDetails", {}).get("JobRuns") or node["CrawlerDetails"]["Crawls"]
    return listed


@pytest.fixture(scope="module")
def failed_nodes(plan: Callable[[str], dict[str, Any]]) -> Callable[[list[dict[str, Any]]], list[str]]:
    """FindFailedNodes' verdict on a graph, by the expression Terraform renders."""
    expression = rendered_definition(plan("default"))["States"]["FindFailedNodes"]["Assign"]["verdict"]

    def judge(nodes: list[dict[str, Any]]) -> list[str]:
        bindings = {"states": {"result": {"Run": {"Graph": {"Nodes": nodes}}}}, "verdict": {}}
        names: list[str] = evaluate_jsonata(expression, bindings)["failed_nodes"]
        return names

    return judge


@pytest.mark.parametrize("state", UNSUCCESSFUL_JOB_STATES)
def test_every_unsuccessful_job_state_counts(state: str, failed_nodes: Callable[..., list[str]]) -> None:
    assert failed_nodes(graph_nodes((state,), ("SUCCEEDED",), "isoformat")) == [JOB]


@pytest.mark.parametrize("state", UNSUCCESSFUL_CRAWL_STATES)
def test_every_unsuccessful_crawl_state_counts(state: str, failed_nodes: Callable[..., list[str]]) -> None:
    assert failed_nodes(graph_nodes(("SUCCEEDED",), (state,), "isoformat")) == [CRAWLER]


@pytest.mark.parametrize(
    ("job", "crawl", "failed"),
    [
        (("FAILED", "FAILED", "SUCCEEDED"), ("FAILED", "FAILED", "SUCCEEDED"), []),
        (("SUCCEEDED", "SUCCEEDED", "FAILED"), ("SUCCEEDED", "SUCCEEDED", "CANCELLED"), [JOB, CRAWLER]),
    ],
    ids=["failed-then-succeeded", "succeeded-then-failed"],
)
@pytest.mark.parametrize("form", TIMESTAMP_FORMS)
def test_a_node_is_judged_by_its_latest_attempt_whatever_order_they_are_listed_in(
    job: tuple[str, ...], crawl: tuple[str, ...], failed: list[str], form: str, failed_nodes: Callable[..., list[str]]
) -> None:
    """A crawl has no Attempt, so the crawler's latest is told by StartedOn, in each form a
    timestamp may take."""
    nodes = graph_nodes(job, crawl, form)
    for name, attempts in ((JOB, job), (CRAWLER, crawl)):
        listed = [attempt.get("JobRunState") or attempt["State"] for attempt in attempts_listed(nodes, name)]
        assert listed[0] != attempts[-1] and listed[-1] != attempts[-1], "the latest must be listed in the middle"

    assert failed_nodes(nodes) == failed


def test_a_job_that_failed_then_succeeded_on_retry_is_not_resumed_and_one_that_succeeded_then_failed_is(
    sfn: Any, make_loop: MakeLoop, glue: GlueRunSimulator
) -> None:
    # action-0 and action-1 list four attempts with the latest neither first nor last.
    retried = RunOutcome(
        node_states={
            "action-0": ("FAILED", "FAILED", "FAILED", "SUCCEEDED"),
            "action-1": ("SUCCEEDED",) * 3 + ("FAILED",),
        }
    )
    loop = make_loop(max_runs=1, recovery_enabled=True, recovery_backoff_seconds=0)
    glue.script(WORKFLOW, retried, CLEAN)
    sfn.start_execution(stateMachineArn=loop, input="{}")

    (only,) = wait_until_stopped(sfn, loop)

    first, resumed = glue.runs_of(WORKFLOW)
    graph = first.graph.graph(first.graph_nodes(finished=True), first.run_id)["Nodes"]
    for name, latest in (("action-0", "SUCCEEDED"), ("action-1", "FAILED")):
        states = [run["JobRunState"] for run in attempts_listed(graph, name)]
        assert states[0] != latest and states[-1] != latest, "the latest must be listed in the middle"
    assert resumed.restarted == ("action-1",)
    assert only.status == "SUCCEEDED"
    assert [attempt["failed_nodes"] for attempt in (only.output or {})["loop"]["recovery_attempts"]] == [["action-1"]]


@pytest.mark.parametrize("when_exhausted", ["stop", "continue"])
def test_a_run_with_unsuccessful_actions_but_no_node_to_resume_stops_as_not_recoverable(
    sfn: Any, make_loop: MakeLoop, glue: GlueRunSimulator, when_exhausted: str
) -> None:
    """Statistics that count a retried job's failed attempt (AWS does not say they do not) judge the
    run failed, yet every node's latest attempt succeeded: nothing to resume, and no pretence that
    recovery was tried or spent."""
    retried = RunOutcome(node_states={"action-0": ("FAILED", "SUCCEEDED")}, statistics_count_attempts=True)
    loop = make_loop(max_runs=2, recovery_enabled=True, recovery_when_exhausted=when_exhausted)
    glue.script(WORKFLOW, retried, CLEAN)
    sfn.start_execution(stateMachineArn=loop, input="{}")

    (only,) = wait_until_stopped(sfn, loop)

    (run,) = glue.runs_of(WORKFLOW)
    assert "ResumeWorkflowRun" not in glue.calls
    assert only.error == "GlueWorkflowRunNotRecoverable"
    assert only.cause.startswith(f"Glue workflow {WORKFLOW} run {run.run_id} (run number 1) ended COMPLETED: ")
    assert only.cause.endswith(
        "; recovery is on, but no job or crawler of the run ended unsuccessful in its latest attempt, "
        "so there is no node to resume"
    )
    assert "recovery is spent" not in only.cause
