"""The root module planned by the real provider in a region of each partition (aws, aws-cn, aws-us-gov).

The provider resolves the partition from the region (data "aws_partition"); every ARN, service
integration, console link and trust condition the plan knows must carry it, and no other. ARNs of
resources the plan creates are unknown until apply; tests/partitions.tftest.hcl covers those in
a mocked aws-cn world.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from conftest import PARTITION_REGIONS
from harness.emulator import ACCOUNT_ID
from harness.plans import planned_resources, rendered_definition

# The console domain AWS documents for each partition: console.aws.amazon.com,
# https://docs.amazonaws.cn/en_us/IAM/latest/UserGuide/id_users_sign-in.html (console.amazonaws.cn),
# https://docs.aws.amazon.com/govcloud-us/latest/UserGuide/configure-account.html (console.amazonaws-us-gov.com).
CONSOLE_DOMAINS = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}
NAME = "nightly-sales-loop"


@pytest.fixture(scope="module", params=list(PARTITION_REGIONS))
def partition_plan(request: pytest.FixtureRequest, plan: Callable[[str], dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """Events mode with the sample workflow and an existing topic (conftest.PLAN_CONFIGS), planned by a
    provider in a region of the partition: every definition is known at plan."""
    partition: str = request.param
    return partition, plan(f"partition_{partition.replace('-', '_')}")


def test_every_arn_in_the_plan_is_in_the_regions_partition(partition_plan: tuple[str, dict[str, Any]]) -> None:
    partition, plan = partition_plan
    text = json.dumps(plan)

    assert set(re.findall(r"arn:([a-z-]+):", text)) == {partition}
    if partition != "aws":
        assert "arn:aws:" not in text


def test_service_integrations_and_console_link_follow_the_partition(
    partition_plan: tuple[str, dict[str, Any]],
) -> None:
    partition, plan = partition_plan
    console_domain = CONSOLE_DOMAINS[partition]
    loop = rendered_definition(plan)
    callback = rendered_definition(plan, "aws_sfn_state_machine.callback[0]")

    resources = {
        state["Resource"]
        for definition in (loop, callback)
        for state in definition["States"].values()
        if "Resource" in state
    }
    assert resources
    assert {resource.split(":::")[0] for resource in resources} == {f"arn:{partition}:states"}
    links = re.findall(r"https://([a-z.-]+)/states/home\?region=", json.dumps(loop))
    assert links
    assert set(links) == {console_domain}


def test_each_state_machine_role_trusts_step_functions_for_its_own_state_machine_only(
    partition_plan: tuple[str, dict[str, Any]],
) -> None:
    partition, plan = partition_plan
    resources = planned_resources(plan)

    for role, state_machine in (("aws_iam_role.this[0]", NAME), ("aws_iam_role.callback[0]", f"{NAME}-callback")):
        (statement,) = json.loads(resources[role]["assume_role_policy"])["Statement"]
        assert statement["Principal"] == {"Service": "states.amazonaws.com"}
        assert statement["Condition"] == {
            "ArnLike": {"aws:SourceArn": f"arn:{partition}:states:*:{ACCOUNT_ID}:stateMachine:{state_machine}"},
            "StringEquals": {"aws:SourceAccount": ACCOUNT_ID},
        }
    assert resources["aws_sfn_state_machine.callback[0]"]["name"] == f"{NAME}-callback"


def test_sample_glue_role_trusts_glue_only_for_this_account(partition_plan: tuple[str, dict[str, Any]]) -> None:
    _, plan = partition_plan
    role = planned_resources(plan)["module.sample_workflow[0].aws_iam_role.glue[0]"]
    (statement,) = json.loads(role["assume_role_policy"])["Statement"]

    assert statement["Principal"] == {"Service": "glue.amazonaws.com"}
    assert statement["Condition"] == {"StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT_ID}}
