"""The shims' own logic, where it is more than a call into moto."""

from __future__ import annotations

import time

import jsonata
import pytest

from harness.emulator import AwsEmulator
from harness.moto_shims import _evaluate_jsonata, evaluate_jsonata

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
