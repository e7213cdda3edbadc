"""The sample retail pipeline's Glue Python shell jobs: one script, one step per job (--step).

clean_sales        raw/sales/*.csv -> cleaned/sales/sales.csv (+ rejected/sales/rejected.csv);
                   fails when no row survives, which sends the workflow down its error branch
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
import sys
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

SALES_FIELDS = ["order_id", "order_date", "store_id", "product", "quantity", "unit_price"]
AGGREGATE_FIELDS = ["order_date", "store_id", "region", "orders", "units", "revenue"]

RAW_SALES = "raw/sales/"
RAW_STORES = "raw/stores/"
CLEANED_SALES = "cleaned/sales/sales.csv"
REJECTED_SALES = "rejected/sales/rejected.csv"
AGGREGATED = "aggregated/daily_store_sales/daily_store_sales.csv"
ERRORS = "errors/"
DASHBOARD = "dashboard/summary.json"

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


# --- S3 I/O ------------------------------------------------------------------------------------


def _keys(s3: Any, bucket: str, prefix: str, suffix: str) -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys += [item["Key"] for item in page.get("Contents", []) if item["Key"].endswith(suffix)]
    return sorted(keys)


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


def clean_sales(s3: Any, bucket: str, prefix: str) -> dict[str, int]:
    rows = [row for key in _keys(s3, bucket, prefix + RAW_SALES, ".csv") for row in _read_csv(s3, bucket, key)]
    cleaned, rejected = clean_rows(rows)
    _write_csv(s3, bucket, prefix + REJECTED_SALES, [*SALES_FIELDS, "reason"], rejected)
    if not cleaned:
        raise NoValidRows(f"none of {len(rows)} rows under s3://{bucket}/{prefix}{RAW_SALES} is valid")
    _write_csv(s3, bucket, prefix + CLEANED_SALES, SALES_FIELDS, cleaned)
    return {"read": len(rows), "cleaned": len(cleaned), "rejected": len(rejected)}


def aggregate_sales(s3: Any, bucket: str, prefix: str) -> dict[str, int]:
    regions = {
        store["store_id"].strip().lower(): store.get("region", "unknown")
        for key in _keys(s3, bucket, prefix + RAW_STORES, ".json")
        for store in map(json.loads, filter(str.strip, _text(s3, bucket, key).splitlines()))
    }
    aggregates = aggregate(_read_csv(s3, bucket, prefix + CLEANED_SALES), regions)
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


STEPS = ("clean_sales", "aggregate_sales", "handle_errors", "refresh_dashboard")


def main(argv: list[str], s3: Any = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--step", required=True, choices=STEPS)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--prefix", default="")
    # Glue adds --WORKFLOW_RUN_ID (and more) when a workflow starts the job.
    parser.add_argument("--WORKFLOW_RUN_ID", dest="workflow_run_id", default="manual")
    args, _ = parser.parse_known_args(argv)
    if s3 is None:
        import boto3

        s3 = boto3.client("s3")
    if args.step == "clean_sales":
        result: dict[str, Any] = clean_sales(s3, args.bucket, args.prefix)
    elif args.step == "aggregate_sales":
        result = aggregate_sales(s3, args.bucket, args.prefix)
    elif args.step == "handle_errors":
        result = handle_errors(s3, args.bucket, args.prefix, args.workflow_run_id)
    else:
        result = refresh_dashboard(s3, args.bucket, args.prefix)
    print(json.dumps({"step": args.step, "result": result}))
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
