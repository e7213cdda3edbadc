"""The sample workflow's job script on the sample data, against the session's emulator.

Not moto's in-process mock_aws: starting one resets every moto backend of the process, the
threaded emulator's included, which wiped the stacks other tests in the same worker had applied."""

from __future__ import annotations

import ast
import csv
import datetime
import io
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import retail_pipeline as pipeline
from jsonata.jexception import JException
from moto.core import DEFAULT_ACCOUNT_ID
from moto.glue.models import FakeWorkflowRun, glue_backends

from harness.emulator import AwsEmulator
from harness.moto_shims import evaluate_jsonata
from harness.plans import rendered_definition
from harness.terraform import REPO_ROOT

DATA = REPO_ROOT / "modules" / "sample-glue-workflow" / "data"
# Not the names examples/complete deploys: a worker may hold that stack in the same emulator.
BUCKET = "retail-pipeline-test"
PREFIX = "retail/"
WORKFLOW = "retail-pipeline-test"


@pytest.fixture
def s3(emulator: AwsEmulator) -> Iterator[Any]:
    client = emulator.client("s3")
    client.create_bucket(Bucket=BUCKET)
    for path in DATA.rglob("*"):
        if path.is_file():
            client.put_object(Bucket=BUCKET, Key=PREFIX + str(path.relative_to(DATA)), Body=path.read_bytes())
    yield client
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


@pytest.fixture
def glue(emulator: AwsEmulator, s3: Any) -> Iterator[Any]:
    """Glue in the same account as ``s3``, with the sample workflow to start runs of."""
    client = emulator.client("glue")
    client.create_workflow(Name=WORKFLOW)
    yield client
    client.delete_workflow(Name=WORKFLOW)


def read_csv(s3: Any, key: str) -> list[dict[str, str]]:
    body = s3.get_object(Bucket=BUCKET, Key=PREFIX + key)["Body"].read().decode()
    return list(csv.DictReader(io.StringIO(body)))


def read_json(s3: Any, key: str) -> Any:
    return json.loads(s3.get_object(Bucket=BUCKET, Key=PREFIX + key)["Body"].read())


def run(step: str, s3: Any, *extra: str, glue: Any = None) -> dict[str, Any]:
    return pipeline.main(["--step", step, "--bucket", BUCKET, "--prefix", PREFIX, *extra], s3=s3, glue=glue)


def workflow_run(glue: Any, **run_properties: str) -> list[str]:
    """The arguments Glue gives a job that a trigger of a new run of the workflow starts."""
    run_id = glue.start_workflow_run(Name=WORKFLOW, RunProperties=run_properties)["RunId"]
    return ["--WORKFLOW_NAME", WORKFLOW, "--WORKFLOW_RUN_ID", run_id, "--JOB_NAME", "retail-sample-clean-sales"]


def resumed_run(glue: Any, arguments: list[str], **default_run_properties: str) -> list[str]:
    """The arguments of a job in a run that glue:ResumeWorkflowRun made of the run ``arguments``
    name: a new run whose PreviousRunId is that run, with only the workflow's default run
    properties (the less convenient case, see harness.glue_simulator's GlueRunSimulator._resume). moto has no
    ResumeWorkflowRun, so the run is added to its Glue backend as the simulator adds it."""
    previous_run_id = arguments[arguments.index("--WORKFLOW_RUN_ID") + 1]
    workflow = glue_backends[DEFAULT_ACCOUNT_ID][glue.meta.region_name].workflows[WORKFLOW]
    run = FakeWorkflowRun(WORKFLOW, previous_run_id=previous_run_id, properties=default_run_properties)
    workflow.runs[run.run_id] = run
    return ["--WORKFLOW_NAME", WORKFLOW, "--WORKFLOW_RUN_ID", run.run_id, "--JOB_NAME", "retail-sample-clean-sales"]


def loop_run_properties(previous_run_started_on: str) -> dict[str, str]:
    return {
        "glue_loop_run_number": "2",
        "glue_loop_chain_id": "chain-1",
        "glue_loop_previous_run_id": "wr_1",
        "glue_loop_previous_run_started_on": previous_run_started_on,
        "glue_loop_previous_run_completed_on": "2026-11-03T10:20:00Z",
    }


def put_after_the_existing_files(s3: Any, name: str, body: bytes) -> datetime.datetime:
    """Puts raw/sales/<name> in a later whole second than every file already there (S3 stamps
    LastModified to the second) and returns its LastModified."""
    existing = s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX + "raw/sales/")["Contents"]
    newest = max(item["LastModified"] for item in existing)
    while datetime.datetime.now(datetime.UTC).replace(microsecond=0) <= newest:
        time.sleep(0.05)
    s3.put_object(Bucket=BUCKET, Key=PREFIX + "raw/sales/" + name, Body=body)
    (new,) = s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX + "raw/sales/" + name)["Contents"]
    return new["LastModified"]


def keys_under(s3: Any, area: str) -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX + area).get("Contents", [])]


def test_clean_keeps_valid_rows_and_rejects_the_rest_with_reasons(s3: Any) -> None:
    assert run("clean_sales", s3) == {"since": None, "files": 2, "read": 12, "cleaned": 8, "rejected": 4}

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

    with pytest.raises(pipeline.NoValidRows, match="none of 1 rows in 1 files"):
        run("clean_sales", s3)


@pytest.mark.parametrize(
    "started_on",
    [
        "2026-11-03T10:00:00Z",
        "2026-11-03T10:00:00.5Z",
        "2026-11-03T10:00:00.999999+00:00",
        "2026-11-03T10:00:00.1234567Z",
    ],
)
def test_watermark_is_the_previous_runs_start_cut_to_the_second_in_either_utc_spelling(started_on: str) -> None:
    assert pipeline.watermark(loop_run_properties(started_on)) == datetime.datetime(
        2026, 11, 3, 10, 0, 0, tzinfo=datetime.UTC
    )


@pytest.mark.parametrize(
    "run_properties",
    [
        {},
        {"glue_loop_run_number": "1", "glue_loop_chain_id": "chain-1"},
        loop_run_properties(previous_run_started_on=""),
    ],
    ids=["outside-the-loop", "first-run-without-previous", "first-run-with-empty-previous"],
)
def test_no_watermark_without_a_previous_run(run_properties: dict[str, str]) -> None:
    assert pipeline.watermark(run_properties) is None


def test_a_previous_start_without_a_utc_offset_is_refused() -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        pipeline.watermark(loop_run_properties("2026-11-03T10:00:00"))


def test_files_at_or_after_the_watermark_are_taken_and_older_ones_skipped() -> None:
    since = datetime.datetime(2026, 11, 3, 10, 0, 0, tzinfo=datetime.UTC)
    objects = [
        ("before.csv", since - datetime.timedelta(seconds=1)),
        ("at.csv", since),
        ("after.csv", since + datetime.timedelta(minutes=5)),
    ]

    assert pipeline.arrived_since(objects, since) == ["after.csv", "at.csv"]
    assert pipeline.arrived_since(objects, None) == ["after.csv", "at.csv", "before.csv"]


def test_clean_in_a_loop_run_cleans_only_the_files_since_the_previous_run_started(s3: Any, glue: Any) -> None:
    new_file_stamp = put_after_the_existing_files(
        s3,
        "sales_2026-11-04.csv",
        b"order_id,order_date,store_id,product,quantity,unit_price\n2001,2026-11-04,S-02,tea,2,3.50\n",
    )
    # Another run of the workflow whose watermark excludes every file: reading its properties
    # instead of those of the job's own run would clean nothing.
    workflow_run(glue, **loop_run_properties("2999-01-01T00:00:00Z"))
    # The previous run started later in the new file's second than S3's whole-second stamp says.
    started_on = new_file_stamp.strftime("%Y-%m-%dT%H:%M:%S") + ".750Z"

    result = run("clean_sales", s3, *workflow_run(glue, **loop_run_properties(started_on)), glue=glue)

    assert result == {"since": new_file_stamp.isoformat(), "files": 1, "read": 1, "cleaned": 1, "rejected": 0}
    assert [row["order_id"] for row in read_csv(s3, pipeline.CLEANED_SALES)] == ["2001"]


def test_clean_in_the_first_run_of_a_chain_cleans_every_file(s3: Any, glue: Any) -> None:
    first_run = workflow_run(glue, glue_loop_run_number="1", glue_loop_chain_id="chain-1")

    assert run("clean_sales", s3, *first_run, glue=glue)["files"] == 2


def test_clean_in_a_resumed_run_cleans_the_slice_of_the_loop_run_it_resumes(
    s3: Any, glue: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    new_file_stamp = put_after_the_existing_files(
        s3,
        "sales_2026-11-04.csv",
        b"order_id,order_date,store_id,product,quantity,unit_price\n2001,2026-11-04,S-02,tea,2,3.50\n",
    )
    context = loop_run_properties(new_file_stamp.isoformat())
    resumed = resumed_run(glue, workflow_run(glue, **context), owner="retail")

    result = run("clean_sales", s3, *resumed, glue=glue)

    assert result == {"since": new_file_stamp.isoformat(), "files": 1, "read": 1, "cleaned": 1, "rejected": 0}
    assert json.loads(capsys.readouterr().out)["loop_run"] == context


def test_clean_in_a_run_resumed_twice_finds_the_run_context_two_runs_back(s3: Any, glue: Any) -> None:
    loop_run = workflow_run(glue, **loop_run_properties("2999-01-01T00:00:00Z"))

    result = run("clean_sales", s3, *resumed_run(glue, resumed_run(glue, loop_run)), glue=glue)

    assert result["since"] == "2999-01-01T00:00:00+00:00"
    assert result["files"] == 0


def test_clean_in_a_resumed_run_the_loop_did_not_start_cleans_every_file(s3: Any, glue: Any) -> None:
    started_by_hand = workflow_run(glue, owner="retail")

    assert run("clean_sales", s3, *resumed_run(glue, started_by_hand), glue=glue)["files"] == 2


def test_a_loop_run_without_new_files_succeeds_writes_nothing_and_the_run_completes(s3: Any, glue: Any) -> None:
    nothing_new = workflow_run(glue, **loop_run_properties("2999-01-01T00:00:00Z"))

    result = run("clean_sales", s3, *nothing_new, glue=glue)

    assert result == {"since": "2999-01-01T00:00:00+00:00", "files": 0, "read": 0, "cleaned": 0, "rejected": 0}
    assert keys_under(s3, "cleaned/") == keys_under(s3, "rejected/") == []
    # The success path goes on: with no slice cleaned yet there is nothing to aggregate.
    assert run("aggregate_sales", s3) == {"rows": 0}
    assert run("refresh_dashboard", s3)["status"] == "degraded"


def run_id_of(arguments: list[str]) -> str:
    return arguments[arguments.index("--WORKFLOW_RUN_ID") + 1]


def test_a_loop_run_without_new_files_marks_its_workflow_run_idle(s3: Any, glue: Any) -> None:
    nothing_new = workflow_run(glue, **loop_run_properties("2999-01-01T00:00:00Z"))

    run("clean_sales", s3, *nothing_new, "--idle_property", "found_nothing", glue=glue)

    properties = glue.get_workflow_run_properties(Name=WORKFLOW, RunId=run_id_of(nothing_new))["RunProperties"]
    assert properties["found_nothing"] == "true"
    assert properties["glue_loop_run_number"] == "2", "the run context stays"


@pytest.mark.parametrize("since", [None, "2000-01-01T00:00:00Z"], ids=["chain-first-run", "new-files"])
def test_a_run_that_cleans_files_is_not_marked_idle(s3: Any, glue: Any, since: str | None) -> None:
    context = loop_run_properties(since) if since else {"glue_loop_run_number": "1", "glue_loop_chain_id": "c"}
    busy = workflow_run(glue, **context)

    assert run("clean_sales", s3, *busy, glue=glue)["files"] == 2

    properties = glue.get_workflow_run_properties(Name=WORKFLOW, RunId=run_id_of(busy))["RunProperties"]
    assert "glue_loop_idle" not in properties


def test_after_a_run_without_new_files_the_last_slice_still_aggregates(s3: Any, glue: Any) -> None:
    run("clean_sales", s3)

    run("clean_sales", s3, *workflow_run(glue, **loop_run_properties("2999-01-01T00:00:00Z")), glue=glue)

    assert run("aggregate_sales", s3) == {"rows": 6}


def test_new_files_without_a_valid_row_still_fail_the_clean(s3: Any, glue: Any) -> None:
    bad_file_stamp = put_after_the_existing_files(s3, "bad.csv", b"order_id,order_date\n1,yesterday\n")

    with pytest.raises(pipeline.NoValidRows, match="none of 1 rows in 1 files"):
        run("clean_sales", s3, *workflow_run(glue, **loop_run_properties(bad_file_stamp.isoformat())), glue=glue)


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


INSTANT = datetime.datetime(2026, 12, 5, 1, 2, 3, 123456, tzinfo=datetime.UTC)
WRITTEN_FORMS = pytest.mark.parametrize(
    ("written", "instant"),
    [
        ("2026-12-05T01:02:03Z", INSTANT.replace(microsecond=0)),
        ("2026-12-05T01:02:03.123456Z", INSTANT),
        ("2026-12-05T01:02:03.1234567Z", INSTANT),
        ("2026-12-05T01:02:03.123+00:00", INSTANT.replace(microsecond=123000)),
        ("2026-12-05T01:02:03.123456+0000", INSTANT),
        ("2026-12-05 01:02:03.123456+00:00", INSTANT),
        ("2026-12-05T03:02:03.123456+02:00", INSTANT),
        ("2026-12-05T03:02:03.123456+0200", INSTANT),
        (1796432523.123456, INSTANT),
        (1796432523, INSTANT.replace(microsecond=0)),
        ("1796432523.123456", INSTANT),
    ],
)


@WRITTEN_FORMS
def test_parse_timestamp_reads_every_form_aws_may_write(written: str | float, instant: datetime.datetime) -> None:
    assert pipeline.parse_timestamp(written) == instant


@pytest.fixture(scope="module")
def loop_millis(plan: Callable[[str], dict[str, Any]]) -> Callable[[Any], Any]:
    """$toMillis of a timestamp normalised by the loop's JSONata (loop.tf, jsonata_timestamp), as
    Terraform renders it into the state that reads a run."""
    output = rendered_definition(plan("default"))["States"]["GetWorkflowRun"]["Output"]
    function = output.split("$timestamp := ", 1)[1].split("; $merge(", 1)[0]
    return lambda written: evaluate_jsonata(f"($timestamp := {function}; $toMillis($timestamp($t)))", {"t": written})


@WRITTEN_FORMS
def test_the_loops_jsonata_reads_every_form_the_job_reads_as_the_same_instant(
    written: str | float, instant: datetime.datetime, loop_millis: Callable[[Any], Any]
) -> None:
    assert loop_millis(written) == int(instant.timestamp() * 1000)


def test_a_timestamp_without_an_offset_names_no_instant_for_the_job_nor_the_loop(
    loop_millis: Callable[[Any], Any],
) -> None:
    with pytest.raises(ValueError, match="UTC offset"):
        pipeline.parse_timestamp("2026-12-05T01:02:03.123")
    with pytest.raises(JException, match="ISO 8601"):
        loop_millis("2026-12-05T01:02:03.123")
