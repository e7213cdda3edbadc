"""The sample retail pipeline's Glue Python shell jobs: one script, one step per job (--step).

clean_sales        raw/sales/*.csv that arrived since the previous loop run started (all of them without
                   one) -> cleaned/sales/sales.csv (+ rejected/sales/rejected.csv); writes nothing when no
                   file is new, and then marks the workflow run idle (--idle_property = "true") so that a
                   loop with pacing backs off; fails when new files hold no valid row, which sends the
                   workflow down its error branch
aggregate_sales    cleaned sales + raw/stores/*.json -> aggregated/daily_store_sales/daily_store_sales.csv
handle_errors      writes errors/<workflow run id>.json describing what clean_sales left behind
refresh_dashboard  aggregated sales -> dashboard/summary.json ("degraded" when there are none)

Runs on Glue's Python 3.9 shell with only the standard library and boto3.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import io
import json
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

SALES_FIELDS = ["order_id", "order_date", "store_id", "product", "quantity", "unit_price"]
AGGREGATE_FIELDS = ["order_date", "store_id", "region", "orders", "units", "revenue"]

RAW_SALES = "raw/sales/"
RAW_STORES = "raw/stores/"
CLEANED_SALES = "cleaned/sales/sales.csv"
REJECTED_SALES = "rejected/sales/rejected.csv"
AGGREGATED = "aggregated/daily_store_sales/daily_store_sales.csv"
ERRORS = "errors/"
DASHBOARD = "dashboard/summary.json"

# The workflow run properties the loop adds to every run it starts share this prefix (the module's
# README lists them); clean_sales reads the previous run's start and logs the rest.
LOOP_PROPERTY_PREFIX = "glue_loop_"
PREVIOUS_RUN_STARTED_ON = LOOP_PROPERTY_PREFIX + "previous_run_started_on"

Row = dict[str, str]


class NoValidRows(RuntimeError):
    """Raised by clean_sales when nothing is left to aggregate."""


# --- pure logic -------------------------------------------------------------------------------


def rejection_reason(row: Row) -> str | None:
    missing = [field for field in SALES_FIELDS if not (row.get(field) or "").strip()]
    if missing:
        return "missing " + ", ".join(missing)
    try:
        datetime.date.fromisoformat(row["order_date"].strip())
    except ValueError:
        return "order_date is not a date"
    try:
        if int(row["quantity"]) <= 0:
            return "quantity is not positive"
    except ValueError:
        return "quantity is not a whole number"
    try:
        if Decimal(row["unit_price"]) < 0:
            return "unit_price is negative"
    except InvalidOperation:
        return "unit_price is not a number"
    return None


def clean_rows(rows: Iterable[Row]) -> tuple[list[Row], list[Row]]:
    """Valid, normalised, de-duplicated rows (first order_id wins) and rejected rows with a reason."""
    cleaned: list[Row] = []
    rejected: list[Row] = []
    seen = set()
    for row in rows:
        reason = rejection_reason(row)
        if reason is None and row["order_id"].strip() in seen:
            reason = "duplicate order_id"
        if reason is not None:
            rejected.append({**{field: row.get(field, "") for field in SALES_FIELDS}, "reason": reason})
            continue
        seen.add(row["order_id"].strip())
        cleaned.append(
            {
                "order_id": row["order_id"].strip(),
                "order_date": row["order_date"].strip(),
                "store_id": row["store_id"].strip().lower(),
                "product": row["product"].strip(),
                "quantity": str(int(row["quantity"])),
                "unit_price": str(Decimal(row["unit_price"]).quantize(Decimal("0.01"))),
            }
        )
    return cleaned, rejected


def aggregate(rows: Iterable[Row], regions: dict[str, str]) -> list[Row]:
    """Orders, units and revenue per day and store, sorted by day then store."""
    totals: dict[tuple[str, str], list[Any]] = defaultdict(lambda: [0, 0, Decimal("0")])
    for row in rows:
        total = totals[(row["order_date"], row["store_id"])]
        total[0] += 1
        total[1] += int(row["quantity"])
        total[2] += int(row["quantity"]) * Decimal(row["unit_price"])
    return [
        {
            "order_date": day,
            "store_id": store,
            "region": regions.get(store, "unknown"),
            "orders": str(orders),
            "units": str(units),
            "revenue": str(revenue.quantize(Decimal("0.01"))),
        }
        for (day, store), (orders, units, revenue) in sorted(totals.items())
    ]


def dashboard_summary(aggregates: list[Row]) -> dict[str, Any]:
    days: dict[str, dict[str, Any]] = {}
    for row in aggregates:
        day = days.setdefault(row["order_date"], {"revenue": Decimal("0"), "units": 0, "top_store": None})
        day["revenue"] += Decimal(row["revenue"])
        day["units"] += int(row["units"])
        best = day["top_store"]
        if best is None or Decimal(row["revenue"]) > best[1]:
            day["top_store"] = (row["store_id"], Decimal(row["revenue"]))
    return {
        "status": "fresh" if days else "degraded",
        "days": [
            {
                "date": date,
                "revenue": str(day["revenue"]),
                "units": day["units"],
                "top_store": day["top_store"][0],
            }
            for date, day in sorted(days.items())
        ],
    }


# Timestamps as AWS may write them, in the forms the loop's JSONata reads too (loop.tf,
# jsonata_timestamp): "T" or a space between date and time, any number of fraction digits, and
# "Z", "+00:00" or "+0000"; or a number of epoch seconds. (Python 3.9's datetime.fromisoformat,
# the shell's, takes neither "Z" nor every fraction length.)
_TIMESTAMP = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<fraction>\d+))?"
    r"(?P<zone>Z|[+-]\d{2}:?\d{2})"
)
_EPOCH_SECONDS = re.compile(r"\d+(?:\.\d+)?")


def parse_timestamp(value: str | float) -> datetime.datetime:
    """An ISO 8601 timestamp with its UTC offset, or epoch seconds (a number, or its text); one
    without an offset is refused, as it names no instant."""
    if isinstance(value, (int, float)) or _EPOCH_SECONDS.fullmatch(value.strip()):
        # datetime.UTC is Python 3.11's; the job runs on 3.9.
        return datetime.datetime.fromtimestamp(float(value), tz=datetime.timezone.utc)  # noqa: UP017
    match = _TIMESTAMP.fullmatch(value.strip())
    if match is None:
        raise ValueError(f"not an ISO 8601 timestamp with a UTC offset, nor epoch seconds: {value!r}")
    microseconds = (match["fraction"] or "").ljust(6, "0")[:6]
    zone = "+00:00" if match["zone"] == "Z" else match["zone"]
    if ":" not in zone:
        zone = f"{zone[:3]}:{zone[3:]}"
    return datetime.datetime.fromisoformat(f"{match['date']}T{match['time']}.{microseconds}{zone}")


def watermark(run_properties: Mapping[str, str]) -> datetime.datetime | None:
    """Where this run's slice of raw sales starts: the previous loop run's start, at whole seconds;
    None for a chain's first run or a run the loop did not start, which then takes every file.

    Whole seconds because S3 documents no finer LastModified than the second (the examples of
    https://docs.aws.amazon.com/AmazonS3/API/API_ListObjectsV2.html show ".000Z"), so it may cut off
    the fraction: a file stamped in the second the previous run started then compares equal and is
    taken again rather than missed.
    """
    started_on = run_properties.get(PREVIOUS_RUN_STARTED_ON, "")
    if not started_on.strip():
        return None
    return parse_timestamp(started_on).replace(microsecond=0)


def arrived_since(objects: Iterable[tuple[str, datetime.datetime]], since: datetime.datetime | None) -> list[str]:
    """Keys of the (key, LastModified) pairs at or after ``since`` (all without it), sorted.

    At or after, not after: the previous run started at ``since`` and cleaned later, so a file
    stamped at the watermark may or may not have been in its listing; reading it twice is safe
    (its rows are cleaned again), skipping it is not. Caveats (README, "Run context and the
    watermark"): S3 stamps LastModified and Glue the run's start, by clocks whose agreement AWS does
    not document; and a multipart upload is stamped when it was initiated, not completed
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html).
    """
    return sorted(key for key, last_modified in objects if since is None or last_modified >= since)


# --- S3 I/O ------------------------------------------------------------------------------------


def _objects(s3: Any, bucket: str, prefix: str, suffix: str) -> list[tuple[str, datetime.datetime]]:
    objects: list[tuple[str, datetime.datetime]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        objects += [(item["Key"], item["LastModified"]) for item in page.get("Contents", [])]
    return sorted((key, last_modified) for key, last_modified in objects if key.endswith(suffix))


def _keys(s3: Any, bucket: str, prefix: str, suffix: str) -> list[str]:
    return [key for key, _ in _objects(s3, bucket, prefix, suffix)]


def _text(s3: Any, bucket: str, key: str) -> str:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")


def _read_csv(s3: Any, bucket: str, key: str) -> list[Row]:
    return list(csv.DictReader(io.StringIO(_text(s3, bucket, key))))


def _write(s3: Any, bucket: str, key: str, body: str, content_type: str) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=body.encode("utf-8"), ContentType=content_type)


def _write_csv(s3: Any, bucket: str, key: str, fields: list[str], rows: list[Row]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    _write(s3, bucket, key, buffer.getvalue(), "text/csv")


def _exists(s3: Any, bucket: str, key: str) -> bool:
    return bool(_keys(s3, bucket, key, ""))


# --- steps -------------------------------------------------------------------------------------


def run_properties(glue: Any, workflow_name: str, workflow_run_id: str) -> dict[str, str]:
    """The job's workflow run properties, with the loop's run context of the run it resumes.

    The loop gives its context only to the runs it starts. A run that glue:ResumeWorkflowRun made
    is a new run whose PreviousRunId is the resumed one ("Repairing and resuming a workflow run",
    https://docs.aws.amazon.com/glue/latest/dg/resuming-workflow.html; "WorkflowRun",
    https://docs.aws.amazon.com/glue/latest/webapi/API_WorkflowRun.html); whether Glue copies the
    resumed run's properties to it is undocumented, so it is taken to carry only the workflow's
    defaults, and the context is read from the first run up its PreviousRunId chain that has one
    (a run can be resumed again). The resumed run then cleans the same slice as the run it repairs.
    """
    response = glue.get_workflow_run_properties(Name=workflow_name, RunId=workflow_run_id)
    properties = dict(response.get("RunProperties", {}))
    if _loop_context(properties):
        return properties
    run = glue.get_workflow_run(Name=workflow_name, RunId=workflow_run_id)["Run"]
    while not _loop_context(properties) and run.get("PreviousRunId"):
        run = glue.get_workflow_run(Name=workflow_name, RunId=run["PreviousRunId"])["Run"]
        properties.update(_loop_context(run.get("WorkflowRunProperties", {})))
    return properties


def _loop_context(properties: Mapping[str, str]) -> dict[str, str]:
    return {key: value for key, value in properties.items() if key.startswith(LOOP_PROPERTY_PREFIX)}


def clean_sales(s3: Any, bucket: str, prefix: str, since: datetime.datetime | None) -> dict[str, Any]:
    """Cleans the raw sales files that arrived since ``since``.

    No new file is a success that writes nothing: a continuous loop runs far more often than data
    arrives, and the outputs of the last slice stay for aggregate_sales to recompute unchanged (an
    empty cleaned file would instead turn the dashboard "degraded" for want of new data).
    """
    keys = arrived_since(_objects(s3, bucket, prefix + RAW_SALES, ".csv"), since)
    summary: dict[str, Any] = {"since": since.isoformat() if since else None, "files": len(keys)}
    if since is not None and not keys:
        return {**summary, "read": 0, "cleaned": 0, "rejected": 0}
    rows = [row for key in keys for row in _read_csv(s3, bucket, key)]
    cleaned, rejected = clean_rows(rows)
    _write_csv(s3, bucket, prefix + REJECTED_SALES, [*SALES_FIELDS, "reason"], rejected)
    if not cleaned:
        raise NoValidRows(
            f"none of {len(rows)} rows in {len(keys)} files under s3://{bucket}/{prefix}{RAW_SALES} is valid"
        )
    _write_csv(s3, bucket, prefix + CLEANED_SALES, SALES_FIELDS, cleaned)
    return {**summary, "read": len(rows), "cleaned": len(cleaned), "rejected": len(rejected)}


def found_nothing(summary: Mapping[str, Any]) -> bool:
    """Whether clean_sales found no file new since the previous loop run started (a run with no
    previous run to compare takes every file, so it never finds nothing)."""
    return summary["since"] is not None and summary["files"] == 0


def mark_idle(glue: Any, workflow_name: str, workflow_run_id: str, idle_property: str) -> None:
    """Tells the loop this run found nothing: a run property, which PutWorkflowRunProperties adds to
    the run's ("If a property already exists for the specified run, then it overrides the value
    otherwise adds the property", https://docs.aws.amazon.com/glue/latest/webapi/API_PutWorkflowRunProperties.html)
    and the loop's GetWorkflowRun reads in WorkflowRunProperties."""
    glue.put_workflow_run_properties(Name=workflow_name, RunId=workflow_run_id, RunProperties={idle_property: "true"})


def aggregate_sales(s3: Any, bucket: str, prefix: str) -> dict[str, int]:
    regions = {
        store["store_id"].strip().lower(): store.get("region", "unknown")
        for key in _keys(s3, bucket, prefix + RAW_STORES, ".json")
        for store in map(json.loads, filter(str.strip, _text(s3, bucket, key).splitlines()))
    }
    # Absent until some run has cleaned a slice (a chain whose first run failed to clean, then found no new file).
    cleaned_key = prefix + CLEANED_SALES
    aggregates = aggregate(_read_csv(s3, bucket, cleaned_key) if _exists(s3, bucket, cleaned_key) else [], regions)
    _write_csv(s3, bucket, prefix + AGGREGATED, AGGREGATE_FIELDS, aggregates)
    return {"rows": len(aggregates)}


def handle_errors(s3: Any, bucket: str, prefix: str, workflow_run_id: str) -> dict[str, Any]:
    rejected_key = prefix + REJECTED_SALES
    rejected = _read_csv(s3, bucket, rejected_key) if _exists(s3, bucket, rejected_key) else []
    reasons: dict[str, int] = defaultdict(int)
    for row in rejected:
        reasons[row["reason"]] += 1
    report = {
        "workflow_run_id": workflow_run_id,
        "raw_files": _keys(s3, bucket, prefix + RAW_SALES, ".csv"),
        "rejected_rows": len(rejected),
        "rejections_by_reason": dict(sorted(reasons.items())),
    }
    _write(
        s3,
        bucket,
        f"{prefix}{ERRORS}{workflow_run_id}.json",
        json.dumps(report, indent=2),
        "application/json",
    )
    return report


def refresh_dashboard(s3: Any, bucket: str, prefix: str) -> dict[str, Any]:
    aggregates = _read_csv(s3, bucket, prefix + AGGREGATED) if _exists(s3, bucket, prefix + AGGREGATED) else []
    summary = dashboard_summary(aggregates)
    _write(s3, bucket, prefix + DASHBOARD, json.dumps(summary, indent=2), "application/json")
    return summary


def _client(service: Literal["s3", "glue"]) -> Any:
    import boto3

    return boto3.client(service)


STEPS = ("clean_sales", "aggregate_sales", "handle_errors", "refresh_dashboard")


def main(argv: list[str], s3: Any = None, glue: Any = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--step", required=True, choices=STEPS)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--prefix", default="")
    parser.add_argument("--idle_property", default=LOOP_PROPERTY_PREFIX + "idle")
    # Glue adds --WORKFLOW_NAME and --WORKFLOW_RUN_ID (and more) when a workflow's trigger starts
    # the job (https://docs.aws.amazon.com/glue/latest/dg/workflow-run-properties-code.html).
    parser.add_argument("--WORKFLOW_NAME", dest="workflow_name")
    parser.add_argument("--WORKFLOW_RUN_ID", dest="workflow_run_id")
    args, _ = parser.parse_known_args(argv)
    s3 = s3 or _client("s3")
    context: dict[str, str] = {}
    if args.step == "clean_sales":
        # A job run outside a workflow has neither argument and no run properties ("If your AWS Glue
        # job is not part of a workflow, these properties will not be set", same page).
        properties: dict[str, str] = {}
        if args.workflow_name and args.workflow_run_id:
            properties = run_properties(glue or _client("glue"), args.workflow_name, args.workflow_run_id)
        context = _loop_context(properties)
        result: dict[str, Any] = clean_sales(s3, args.bucket, args.prefix, watermark(properties))
        if properties and found_nothing(result):
            mark_idle(glue or _client("glue"), args.workflow_name, args.workflow_run_id, args.idle_property)
    elif args.step == "aggregate_sales":
        result = aggregate_sales(s3, args.bucket, args.prefix)
    elif args.step == "handle_errors":
        result = handle_errors(s3, args.bucket, args.prefix, args.workflow_run_id or "manual")
    else:
        result = refresh_dashboard(s3, args.bucket, args.prefix)
    print(json.dumps({"step": args.step, "loop_run": context, "result": result}))
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
