"""The shims' own logic, where it is more than a call into moto."""

from __future__ import annotations

import json
import os
import pickle
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonata
import moto
import pytest
from moto.stepfunctions.parser.asl.component.common.jsonata.jsonata_template_value_terminal import (
    JSONataTemplateValueTerminalLit,
)
from moto.stepfunctions.parser.asl.component.common.payload.payloadvalue.payloadvaluelit.payload_value_lit import (
    PayloadValueLit,
)
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

from harness import emulator as emulator_module
from harness.asl import with_config
from harness.emulator import ACCOUNT_ID, AwsEmulator
from harness.loop import history_events, wait_for
from harness.moto_shims import _evaluate_jsonata, evaluate_jsonata
from harness.plans import planned_resources, rendered_definition

# Texts as moto composes them: "(" + "$name:=<JSON>;"... + expression + ")", and wrapped in $type()
# or $exists() by its output checks. A string holding a control character, which moto writes unescaped and
# JSON refuses, stays text, as does all that follows it.
COMPOSED = [
    '($x:={"a":null,"b":[1,null,2.0,2.5],"c":{"d":null}};[$exists($x.a), $x.b, $type($x.a), $x.c, $x.b[1]])',
    '($x:=[[1,2],[3]];$y:=[];$z:="";[$x[0], $x.$, $count($y), $z = "", $x[1][0]])',
    '($states:={"input":{"l":[{"n":"a","v":[1]},{"n":"b","v":[2,3]}]}};$polls:=2;[$states.input.l.v, $polls + 1])',
    "$type(($x:=null;$x))",
    '$exists(($x:={"k":1};$x.m))',
    '($t:="x";$s:="line\nbreak";$u:=2;$t & $s & $u)',
    "($n:=1;($n := $n + 1; $n) * 10)",
]


@pytest.mark.parametrize("text", COMPOSED)
def test_jsonata_shim_evaluates_moto_s_composed_text_as_the_whole_text_would(text: str) -> None:
    expected = jsonata.Jsonata(text).evaluate(None)

    result = _evaluate_jsonata(text)

    assert (result, type(result)) == (expected, type(expected))


def test_a_buckets_eventbridge_notifications_are_read_back_as_they_were_put(emulator: AwsEmulator) -> None:
    s3 = emulator.client("s3")
    for bucket in ("shim-eventbridge", "shim-no-eventbridge"):
        s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(
        Bucket="shim-eventbridge", NotificationConfiguration={"EventBridgeConfiguration": {}}
    )

    assert s3.get_bucket_notification_configuration(Bucket="shim-eventbridge")["EventBridgeConfiguration"] == {}
    assert "EventBridgeConfiguration" not in s3.get_bucket_notification_configuration(Bucket="shim-no-eventbridge")


def test_millis_is_the_time_of_the_evaluation_in_progress_for_a_kept_expression() -> None:
    """jsonata-python read the time of the expression constructed last in the thread: a callback's
    watch deadline, kept parsed, never passed."""
    evaluate_jsonata("{% $millis() %}", {})
    evaluate_jsonata("{% $millis() + 0 %}", {})
    time.sleep(0.05)
    before = time.time() * 1000

    assert evaluate_jsonata("{% $millis() %}", {}) >= before - 1


def _literals(component: object, seen: set[int] | None = None) -> list[object]:
    """Every JSONata literal value and every payload literal value in a program's components."""
    seen = set() if seen is None else seen
    if id(component) in seen:
        return []
    seen.add(id(component))
    if isinstance(component, JSONataTemplateValueTerminalLit):
        return [component.value]
    if isinstance(component, PayloadValueLit):
        return [component.val]
    if isinstance(component, list | tuple):
        children: list[object] = list(component)
    elif isinstance(component, dict):
        children = list(component.values())
    elif hasattr(component, "__dict__"):
        children = list(vars(component).values())
    else:
        return []
    return [value for child in children for value in _literals(child, seen)]


@pytest.fixture
def kept_programs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty cache of programs for one test, with none of this process's programs in memory."""
    monkeypatch.setattr(emulator_module, "_KEPT_PROGRAMS", tmp_path)
    emulator_module._parse_from_a_kept_program.cache_clear()
    yield tmp_path
    emulator_module._parse_from_a_kept_program.cache_clear()


def test_loops_of_one_definition_share_one_kept_program_and_keep_their_own_settings_and_token_table(
    emulator: AwsEmulator, plan: Callable[[str], dict[str, Any]], kept_programs: Path
) -> None:
    """The emulator parses a loop's settings and token table name apart from the rest (harness.emulator)."""
    definition = rendered_definition(plan("events"))
    texts = []
    for table, poll in (("loop-a-tokens", 5005), ("loop-b-tokens", 7007)):
        definition["States"]["WaitForRun"]["Arguments"]["TableName"] = table
        texts.append(json.dumps(with_config(definition, poll_interval_seconds=poll)))
    kept_before = set(kept_programs.iterdir())

    first, second = (_literals(AmazonStateLanguageParser.parse(text)[0]) for text in texts)

    assert len(set(kept_programs.iterdir()) - kept_before) == 1
    assert "loop-a-tokens" in first and 5005 in first and "loop-b-tokens" not in first and 7007 not in first
    assert "loop-b-tokens" in second and 7007 in second and "loop-a-tokens" not in second and 5005 not in second


def test_a_definition_built_once_is_read_back_by_a_process_that_never_parses_it(
    emulator: AwsEmulator, plan: Callable[[str], dict[str, Any]], kept_programs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Terraform's text of a definition (jsonencode's, which the loop's settings are not parsed apart from)."""
    definition = planned_resources(plan("default"))["aws_sfn_state_machine.this[0]"]["definition"]
    built = pickle.dumps(AmazonStateLanguageParser.parse(definition)[0])
    emulator_module._parse_from_a_kept_program.cache_clear()

    def no_parse(definition: str) -> Any:
        raise AssertionError("parsed again")

    monkeypatch.setattr(emulator_module, "_parse_with_antlr", no_parse)

    assert pickle.dumps(AmazonStateLanguageParser.parse(definition)[0]) == built


def test_the_emulator_finds_each_requests_service_without_listing_motos_package(
    emulator: AwsEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto's server listed its package's directory for every request (harness.emulator._moto_modules)."""
    glue, sfn = emulator.client("glue"), emulator.client("stepfunctions")
    # The first request to a service loads its backend, which may list directories of its own.
    glue.list_workflows()
    sfn.list_state_machines()
    listed: list[str] = []
    list_directory = os.listdir

    def listing(path: Any = ".") -> list[str]:
        listed.append(os.fspath(path))
        return list_directory(path)

    monkeypatch.setattr(os, "listdir", listing)
    for _ in range(3):
        glue.list_workflows()
        sfn.list_state_machines()

    assert os.path.dirname(moto.__file__) not in listed


def test_an_execution_history_comes_in_pages_and_newest_first_when_asked_as_aws_gives_it(
    emulator: AwsEmulator, stable_name: Callable[..., str]
) -> None:
    sfn = emulator.client("stepfunctions")
    # 60 Pass states: over a hundred events, more than a page of the default size.
    states: dict[str, Any] = {f"S{number}": {"Type": "Pass", "Next": f"S{number + 1}"} for number in range(59)}
    states["S59"] = {"Type": "Pass", "End": True}
    arn = sfn.create_state_machine(
        name=stable_name("history"),
        definition=json.dumps({"StartAt": "S0", "States": states}),
        roleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/shim-history",
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    wait_for(lambda: sfn.describe_execution(executionArn=execution)["status"] != "RUNNING")
    oldest_first = [event["id"] for event in history_events(sfn, execution)]

    first_page = sfn.get_execution_history(executionArn=execution)
    newest = sfn.get_execution_history(executionArn=execution, reverseOrder=True, maxResults=5)
    paged = sfn.get_paginator("get_execution_history").paginate(
        executionArn=execution, reverseOrder=True, PaginationConfig={"PageSize": 7}
    )

    assert len(oldest_first) > 100 and oldest_first == sorted(oldest_first)
    assert [event["id"] for event in first_page["events"]] == oldest_first[:100]
    assert "nextToken" in first_page
    assert [event["id"] for event in newest["events"]] == oldest_first[::-1][:5]
    assert [event["id"] for page in paged for event in page["events"]] == oldest_first[::-1]
