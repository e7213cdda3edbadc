"""The sample workflow's job script on the sample data, against moto's in-process S3."""

from __future__ import annotations

import ast
import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import retail_pipeline as pipeline
from moto import mock_aws

from harness.terraform import REPO_ROOT

DATA = REPO_ROOT / "modules" / "sample-glue-workflow" / "data"
BUCKET = "retail-sample"
PREFIX = "retail/"


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        for path in DATA.rglob("*"):
            if path.is_file():
                client.put_object(Bucket=BUCKET, Key=PREFIX + str(path.relative_to(DATA)), Body=path.read_bytes())
        yield client


def read_csv(s3: Any, key: str) -> list[dict[str, str]]:
    body = s3.get_object(Bucket=BUCKET, Key=PREFIX + key)["Body"].read().decode()
    return list(csv.DictReader(io.StringIO(body)))


def read_json(s3: Any, key: str) -> Any:
    return json.loads(s3.get_object(Bucket=BUCKET, Key=PREFIX + key)["Body"].read())


def run(step: str, s3: Any, *extra: str) -> dict[str, Any]:
    return pipeline.main(["--step", step, "--bucket", BUCKET, "--prefix", PREFIX, *extra], s3=s3)


def test_clean_keeps_valid_rows_and_rejects_the_rest_with_reasons(s3: Any) -> None:
    assert run("clean_sales", s3) == {"read": 12, "cleaned": 8, "rejected": 4}

    cleaned = read_csv(s3, pipeline.CLEANED_SALES)
    assert [row["order_id"] for row in cleaned] == [
        "1001",
        "1002",
        "1003",
        "1004",
        "1007",
        "1008",
        "1009",
        "1010",
    ]
    assert {row["store_id"] for row in cleaned} == {"s-01", "s-02", "s-03"}  # "S-01" normalised
    assert {row["order_id"]: row["reason"] for row in read_csv(s3, pipeline.REJECTED_SALES)} == {
        "1004": "duplicate order_id",
        "1005": "missing product",
        "1006": "quantity is not positive",
        "1011": "order_date is not a date",
    }


def test_clean_fails_when_no_row_is_valid(s3: Any) -> None:
    for key in [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX + "raw/sales/")["Contents"]]:
        s3.delete_object(Bucket=BUCKET, Key=key)
    s3.put_object(Bucket=BUCKET, Key=PREFIX + "raw/sales/bad.csv", Body=b"order_id,order_date\n1,yesterday\n")

    with pytest.raises(pipeline.NoValidRows, match="none of 1 rows"):
        run("clean_sales", s3)


def test_aggregate_sums_per_day_and_store_with_the_store_region(s3: Any) -> None:
    run("clean_sales", s3)

    assert run("aggregate_sales", s3) == {"rows": 6}

    rows = read_csv(s3, pipeline.AGGREGATED)
    first_day_s01 = next(row for row in rows if (row["order_date"], row["store_id"]) == ("2026-11-02", "s-01"))
    assert first_day_s01 == {
        "order_date": "2026-11-02",
        "store_id": "s-01",
        "region": "south",
        "orders": "2",
        "units": "8",
        "revenue": "49.60",
    }


def test_dashboard_summarises_each_day_from_the_aggregates(s3: Any) -> None:
    run("clean_sales", s3)
    run("aggregate_sales", s3)

    run("refresh_dashboard", s3)

    summary = read_json(s3, pipeline.DASHBOARD)
    assert summary["status"] == "fresh"
    assert summary["days"] == [
        {"date": "2026-11-02", "revenue": "80.10", "units": 12, "top_store": "s-01"},
        {"date": "2026-11-03", "revenue": "196.20", "units": 19, "top_store": "s-03"},
    ]


def test_dashboard_is_degraded_without_aggregates(s3: Any) -> None:
    assert run("refresh_dashboard", s3)["status"] == "degraded"


def test_error_handler_reports_rejections_for_the_workflow_run(s3: Any) -> None:
    run("clean_sales", s3)

    run("handle_errors", s3, "--WORKFLOW_RUN_ID", "wr_42", "--JOB_NAME", "ignored")

    report = read_json(s3, "errors/wr_42.json")
    assert report["rejected_rows"] == 4
    assert report["rejections_by_reason"]["duplicate order_id"] == 1
    assert report["raw_files"] == [
        f"{PREFIX}raw/sales/sales_2026-11-02.csv",
        f"{PREFIX}raw/sales/sales_2026-11-03.csv",
    ]


def test_script_parses_as_python_3_9_the_glue_python_shell_version() -> None:
    ast.parse(Path(pipeline.__file__).read_text(), feature_version=(3, 9))
