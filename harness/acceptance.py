"""Acceptance of examples/complete in an account: the account, its clock, and ``make test-aws``'s checks.

tests/test_acceptance.py runs the same test against the emulator (in ``make test``) and, with
``--aws``, against the account that the usual credentials name (``make test-aws``). Only the
endpoint and the clock differ: in AWS, Glue runs the sample's jobs and sends their events; in the
emulator, the Glue simulator runs the same deployed job script and the harness delivers the events.

``python -m harness.acceptance`` is ``make test-aws``'s first step: it prints what the test creates
and what it may cost, and refuses (exit 1) unless AWS credentials and a region are set and
``GLUE_LOOP_ACCEPTANCE`` says ``create-and-destroy``.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import boto3

CONFIRMATION_VARIABLE = "GLUE_LOOP_ACCEPTANCE"
CONFIRMATION = "create-and-destroy"
# Every resource the test creates carries this tag, valued with its name prefix, so that what a
# destroy left behind can be found (Resource Groups Tagging API).
TAG = "glue-loop-acceptance"

WHAT_IT_CREATES = """\
make test-aws applies examples/complete under the name prefix {prefix} in account {account}, {region}:
  - an S3 bucket with the sample data and the job script, a Glue catalog database, 2 crawlers,
    4 Python shell jobs (0.0625 DPU), 5 triggers and the workflow, and their IAM roles;
  - the loop's state machine, its role, log group, pause parameter (SSM), SNS topic, alarm and
    dashboard; then, for its events mode run, a DynamoDB table, an EventBridge rule with its
    dead-letter queue (SQS, with a KMS key) and the callback state machine; and an SQS queue
    subscribed to the topic, to read the stop notice.
It drives 8 to 10 workflow runs (two clean, one that fails and is recovered, one that fails and
stops the loop, one in events mode: about 40 minutes), then destroys everything, also when a check
fails or on Ctrl-C, and lists any resource it could not delete.
"""

# us-east-1 list prices (https://aws.amazon.com/glue/pricing/, /step-functions/pricing/,
# /cloudwatch/pricing/), December 2026. A Glue crawler run bills at least 10 minutes of DPUs; AWS
# does not say how many DPUs a crawler uses, so 2 is assumed (the less convenient reading).
GLUE_DPU_HOUR = 0.44
CRAWLER_DPUS, CRAWLER_MINIMUM_HOURS = 2, 10 / 60
PYTHON_SHELL_DPU, PYTHON_SHELL_MINIMUM_HOURS = 0.0625, 1 / 60
RUNS, CRAWLERS_PER_RUN, JOBS_PER_RUN = 10, 2, 3


def cost_estimate() -> list[tuple[str, float]]:
    """What the test may cost, item by item, in US dollars (list prices, an upper bound)."""
    crawls = RUNS * CRAWLERS_PER_RUN * CRAWLER_DPUS * CRAWLER_MINIMUM_HOURS * GLUE_DPU_HOUR
    jobs = RUNS * JOBS_PER_RUN * PYTHON_SHELL_DPU * PYTHON_SHELL_MINIMUM_HOURS * GLUE_DPU_HOUR
    return [
        (f"Glue crawler runs ({RUNS * CRAWLERS_PER_RUN}, 10-minute minimum, {CRAWLER_DPUS} DPUs assumed)", crawls),
        (f"Glue Python shell job runs ({RUNS * JOBS_PER_RUN}, 1-minute minimum)", jobs),
        ("Step Functions, CloudWatch (dashboard and alarm for an hour), S3, SNS, SQS, DynamoDB", 0.05),
    ]


@dataclass(frozen=True)
class Clock:
    """How fast the account goes: the loop's poll and recovery back-off, and how long a chain may take."""

    poll_interval_seconds: int
    recovery_backoff_seconds: int
    chain_timeout_seconds: float
    # How long CloudWatch may take to answer a metric the loop has put.
    metrics_timeout_seconds: float


EMULATOR_CLOCK = Clock(
    poll_interval_seconds=1, recovery_backoff_seconds=3, chain_timeout_seconds=120, metrics_timeout_seconds=10
)
# A sample run takes minutes in Glue (crawlers start slowly); a recovery back-off of a minute leaves
# the test time to mend the data between the failure and the resume.
AWS_CLOCK = Clock(
    poll_interval_seconds=20, recovery_backoff_seconds=60, chain_timeout_seconds=3600, metrics_timeout_seconds=600
)


@dataclass(frozen=True)
class Account:
    """Where the test runs: a region, an endpoint (None: AWS itself) and a clock."""

    region: str
    endpoint_url: str | None
    clock: Clock
    client: Callable[[str], Any]
    prefix: str

    @property
    def tags(self) -> dict[str, str]:
        return {TAG: self.prefix}


def new_prefix() -> str:
    """A name prefix no earlier run used: the sample's bucket name derives from it, and S3 bucket names are global."""
    return f"gla-{uuid.uuid4().hex[:8]}"


def aws_account() -> Account:
    session = boto3.Session()
    if session.region_name is None:
        raise RuntimeError("no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or a profile's region)")
    return Account(
        session.region_name, None, AWS_CLOCK, lambda service: session.client(cast(Any, service)), new_prefix()
    )


def leftovers(account: Account) -> list[str]:
    """ARNs of resources that still carry the test's tag, but KMS keys pending deletion: a destroy
    schedules a key's deletion, which AWS carries out after its waiting period
    ("Deleting AWS KMS keys", https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html)."""
    tagging, kms = account.client("resourcegroupstaggingapi"), account.client("kms")
    pages = tagging.get_paginator("get_resources").paginate(TagFilters=[{"Key": TAG, "Values": [account.prefix]}])
    tagged = [mapping["ResourceARN"] for page in pages for mapping in page["ResourceTagMappingList"]]
    return [
        arn
        for arn in tagged
        if ":kms:" not in arn or kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] != "PendingDeletion"
    ]


def refusals(environment: dict[str, str], session: Any) -> list[str]:
    """Why ``make test-aws`` must not run, if it must not."""
    reasons = []
    if environment.get(CONFIRMATION_VARIABLE) != CONFIRMATION:
        reasons.append(
            f"{CONFIRMATION_VARIABLE} is not {CONFIRMATION}: set it to confirm that the test may create"
            " the resources above in your account, and bill them"
        )
    if session.get_credentials() is None:
        reasons.append(
            "no AWS credentials: set AWS_PROFILE, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or log in with SSO"
        )
    if session.region_name is None:
        reasons.append("no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION, or a profile's region)")
    return reasons


def main() -> int:
    session = boto3.Session()
    reasons = refusals(dict(os.environ), session)
    account = "(unknown)"
    if not reasons:
        try:
            account = session.client("sts").get_caller_identity()["Account"]
        except Exception as error:  # any failure to name the account means the credentials do not work
            reasons.append(f"the AWS credentials do not work: {error}")
    print(
        WHAT_IT_CREATES.format(
            prefix="gla-<8 hex digits>", account=account, region=session.region_name or "(no region)"
        )
    )
    estimate = cost_estimate()
    print("Cost estimate (us-east-1 list prices, an upper bound):")
    for item, dollars in estimate:
        print(f"  {item}: ${dollars:.2f}")
    print(f"  total: under ${sum(dollars for _, dollars in estimate):.2f}\n")
    for reason in reasons:
        print(f"make test-aws refused: {reason}", file=sys.stderr)
    return 1 if reasons else 0


if __name__ == "__main__":
    sys.exit(main())
