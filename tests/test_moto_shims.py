"""The shims' own logic, where it is more than a call into moto."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

import jsonata
import moto
import pytest
from moto.stepfunctions.parser.asl.component.common.jsonata.jsonata_template_value_terminal import (
    JSONataTemplateValueTerminalLit,
)
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

from harness.asl import with_config
from harness.emulator import AwsEmulator
from harness.moto_shims import _evaluate_jsonata, evaluate_jsonata
from harness.plans import rendered_definition

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
    """Every JSONata literal value in a program's components."""
    seen = set() if seen is None else seen
    if id(component) in seen:
        return []
    seen.add(id(component))
    if isinstance(component, JSONataTemplateValueTerminalLit):
        return [component.value]
    if isinstance(component, list | tuple):
        children: list[object] = list(component)
    elif isinstance(component, dict):
        children = list(component.values())
    elif hasattr(component, "__dict__"):
        children = list(vars(component).values())
    else:
        return []
    return [value for child in children for value in _literals(child, seen)]


def test_loops_of_one_definition_share_its_syntax_tree_and_keep_their_own_token_table(
    emulator: AwsEmulator, plan: Callable[[str], dict[str, Any]]
) -> None:
    """The emulator parses a loop's settings and token table name apart from the rest (harness.emulator)."""
    definition = rendered_definition(plan("events"))
    texts = []
    for table, poll in (("loop-a-tokens", 5), ("loop-b-tokens", 7)):
        definition["States"]["WaitForRun"]["Arguments"]["TableName"] = table
        texts.append(json.dumps(with_config(definition, poll_interval_seconds=poll)))

    (first, first_tree), (second, second_tree) = (AmazonStateLanguageParser.parse(text) for text in texts)

    assert first_tree is second_tree
    assert "loop-a-tokens" in _literals(first) and "loop-b-tokens" not in _literals(first)
    assert "loop-b-tokens" in _literals(second) and "loop-a-tokens" not in _literals(second)


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
