"""The events mode rule's pattern beyond names listed one by one: name prefixes. (The quota on its size is
refused at plan: tests/event_pattern.tftest.hcl.)

EventBridge's verdict on a pattern comes from TestEventPattern, whose prefix filter moto implements
as AWS documents it (a string value that starts with the prefix):
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conftest import EVENTS_WORKFLOW
from harness.emulator import AwsEmulator
from harness.eventbridge import pattern_matches
from harness.glue_simulator import glue_event
from harness.plans import planned_resources

EVENTS = {"name": "nightly-sales-loop", "glue_workflow_name": EVENTS_WORKFLOW, "completion_mode": "events"}
JOB_RUN = {"severity": "INFO", "jobRunId": "jr_0123456789abcdef", "message": "Job run succeeded"}
CRAWL = {"message": "Crawler Succeeded", "tablesCreated": "0", "tablesUpdated": "1", "accountId": "123456789012"}


@pytest.fixture(scope="module")
def prefix_pattern(plan: Callable[[str], dict[str, Any]]) -> str:
    """The rule's pattern for job_names ["publish-report"], job_name_prefixes ["sales-"] and
    crawler_name_prefixes ["crawl-"] (conftest.PLAN_CONFIGS)."""
    return str(planned_resources(plan("prefix_pattern"))["aws_cloudwatch_event_rule.glue_events[0]"]["event_pattern"])


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
