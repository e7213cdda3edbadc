"""The events mode rule's pattern beyond names listed one by one: name prefixes, and the quota on its size.

EventBridge's verdict on a pattern comes from TestEventPattern, whose prefix filter moto implements
as AWS documents it (a string value that starts with the prefix):
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html
"""

from __future__ import annotations

import json

import pytest

from conftest import EVENTS_WORKFLOW
from harness.emulator import AwsEmulator
from harness.eventbridge import pattern_matches
from harness.glue_simulator import glue_event
from harness.plans import planned_resources
from harness.terraform import TerraformWorkspace

EVENTS = {"name": "nightly-sales-loop", "glue_workflow_name": EVENTS_WORKFLOW, "completion_mode": "events"}
JOB_RUN = {"severity": "INFO", "jobRunId": "jr_0123456789abcdef", "message": "Job run succeeded"}
CRAWL = {"message": "Crawler Succeeded", "tablesCreated": "0", "tablesUpdated": "1", "accountId": "123456789012"}


@pytest.fixture(scope="module")
def prefix_pattern(root_module: TerraformWorkspace) -> str:
    plan = root_module.plan(
        {
            **EVENTS,
            "completion_events": {
                "job_names": ["publish-report"],
                "job_name_prefixes": ["sales-"],
                "crawler_name_prefixes": ["crawl-"],
            },
        }
    )
    return str(planned_resources(plan)["aws_cloudwatch_event_rule.glue_events[0]"]["event_pattern"])


@pytest.mark.parametrize(
    ("detail_type", "detail", "matches"),
    [
        ("Glue Job State Change", {**JOB_RUN, "jobName": "sales-clean", "state": "SUCCEEDED"}, True),
        ("Glue Job State Change", {**JOB_RUN, "jobName": "sales-load", "state": "FAILED"}, True),
        ("Glue Job State Change", {**JOB_RUN, "jobName": "sales-load", "state": "TIMEOUT"}, True),
        ("Glue Job State Change", {**JOB_RUN, "jobName": "sales-load", "state": "STOPPED"}, True),
        ("Glue Job State Change", {**JOB_RUN, "jobName": "publish-report", "state": "SUCCEEDED"}, True),
        ("Glue Crawler State Change", {**CRAWL, "crawlerName": "crawl-stores", "state": "Succeeded"}, True),
        ("Glue Crawler State Change", {**CRAWL, "crawlerName": "crawl-stores", "state": "Failed"}, True),
        ("Glue Job State Change", {**JOB_RUN, "jobName": "sales-clean", "state": "RUNNING"}, False),
        ("Glue Job State Change", {**JOB_RUN, "jobName": "eu-sales-clean", "state": "SUCCEEDED"}, False),
        ("Glue Job State Change", {**JOB_RUN, "jobName": "publish-report-eu", "state": "SUCCEEDED"}, False),
        ("Glue Job State Change", {**JOB_RUN, "jobName": "crawl-stores", "state": "SUCCEEDED"}, False),
        ("Glue Crawler State Change", {**CRAWL, "crawlerName": "sales-crawler", "state": "Succeeded"}, False),
        ("Glue Crawler State Change", {**CRAWL, "crawlerName": "crawl-stores", "state": "Started"}, False),
    ],
)
def test_prefix_pattern_matches_terminal_states_of_names_with_the_prefix_only(
    emulator: AwsEmulator, prefix_pattern: str, detail_type: str, detail: dict[str, str], matches: bool
) -> None:
    assert pattern_matches(emulator.client("events"), prefix_pattern, glue_event(detail_type, detail)) is matches


def test_pattern_over_the_quota_is_refused_with_its_length_and_the_prefix_remedy(
    root_module: TerraformWorkspace,
) -> None:
    names = [f"nightly-sales-job-{number:03d}" for number in range(100)]
    # Terraform's jsonencode: keys sorted, no whitespace.
    pattern = {
        "source": ["aws.glue"],
        "detail-type": ["Glue Job State Change"],
        "detail": {"jobName": names, "state": ["SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED"]},
    }
    length = len(json.dumps(pattern, separators=(",", ":"), sort_keys=True))

    error = root_module.plan_error({**EVENTS, "completion_events": {"job_names": names}})

    assert length > 2048
    assert f"The rule's event pattern would be {length} characters, over EventBridge's default quota of 2048" in error
    assert "completion_events.job_name_prefixes and crawler_name_prefixes" in error
