"""make demo, run as a newcomer runs it (through the same module), checked by its table."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import status_labels
from harness import demo as demo_module
from harness.demo import demo_parser, say
from harness.terraform import REPO_ROOT

DEMO = [sys.executable, "-m", "harness.demo"]
ENVIRONMENT = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "tests"), "PYTHONUNBUFFERED": "1"}


def demo(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*DEMO, *arguments], cwd=REPO_ROOT, env=ENVIRONMENT, capture_output=True, text=True, timeout=300, check=False
    )


def test_help_shows_the_defaults_and_describes_every_option() -> None:
    result = demo("--help")
    undescribed = [action.dest for action in demo_parser()._actions if not action.help]

    assert result.returncode == 0
    assert "(default: 4)" in result.stdout
    assert "(default: clean_sales)" in result.stdout
    assert undescribed == []


class _YieldingStream(io.StringIO):
    """Lets other threads run at every write, as a loaded machine may."""

    def write(self, text: str) -> int:
        time.sleep(0)
        return super().write(text)


def test_lines_said_by_many_threads_at_once_come_out_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo's lines and the polls the emulator's threads print never run into one another (with
    print(), which writes a line and its newline apart, most of these lines would)."""
    stream = _YieldingStream()
    monkeypatch.setattr(demo_module, "_STDOUT", stream)
    said = [[f"thread {thread} line {line}" for line in range(200)] for thread in range(4)]

    def say_all(lines: list[str]) -> None:
        for line in lines:
            say(line)

    threads = [threading.Thread(target=say_all, args=(lines,)) for lines in said]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(stream.getvalue().splitlines()) == sorted(line for lines in said for line in lines)


def demo_until(line_start: str, *arguments: str) -> tuple[subprocess.Popen[str], str]:
    """The demo in a process group of its own (which gets the SIGINT as a terminal's Ctrl-C reaches
    its foreground job), read up to its first line that starts with ``line_start``."""
    process = subprocess.Popen(
        [*DEMO, *arguments],
        cwd=REPO_ROOT,
        env=ENVIRONMENT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        process_group=0,
    )
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        if line.startswith(line_start):
            break
    return process, "".join(seen)


def test_demo_drives_runs_recovers_one_stops_on_the_injected_failure_and_cleans_up() -> None:
    # Up to the commands it prints for the kept loop.
    process, shown = demo_until(
        "Ctrl-C here destroys everything.",
        *("--runs", "3", "--fail-once-at-run", "1", "--fail-at-run", "3", "--fail-node", "crawl_stores", "--keep"),
    )
    try:
        # Every command the demo prints for the kept loop, run as printed, in the order printed.
        exported = re.search(r"^  export (AWS_ACCESS_KEY_ID=\S+) (AWS_SECRET_ACCESS_KEY=\S+)$", shown, re.M)
        assert exported is not None, shown
        credentials = dict(assignment.split("=", 1) for assignment in exported.groups())
        printed = re.findall(r"^  (\.venv/bin/glue-loop .+)$", shown, re.M)
        ran = {
            command.split()[1]: subprocess.run(
                command.split(),
                cwd=REPO_ROOT,
                env={**os.environ, **credentials},
                capture_output=True,
                text=True,
                timeout=120,
            )
            for command in printed
        }
    finally:
        os.killpg(process.pid, signal.SIGINT)
        rest, _ = process.communicate(timeout=120)
    output = shown + rest

    assert [command.split()[1] for command in printed] == ["status", "resume", "pause", "start", "stop"]
    assert {name: result.returncode for name, result in ran.items()} == dict.fromkeys(ran, 0), ran
    assert re.search(r"^Last stop +GlueWorkflowActionsFailed", ran["status"].stdout, re.M)
    # The resumed chain ran clean runs until the pause ended it; the forced start's chain was stopped.
    assert "paused" in ran["pause"].stdout
    assert process.returncode == 0, output
    result = subprocess.CompletedProcess(process.args, process.returncode, output, "")
    header, _rule, *rows = result.stdout.split("\n\n")[1].splitlines()
    assert header.split() == ["run", "run", "id", "execution", "succeeded", "failed", "verdict"]
    cells = [re.split(r"\s{2,}", row) for row in rows]
    # Run 1 is resumed in its own execution; run 3 is resumed once more (recovery's one attempt) and stops.
    assert [row[0] for row in cells] == ["1", "1 resumed", "2", "3", "3 resumed"]
    assert [row[2] for row in cells[:2]] == [cells[0][2]] * 2
    assert [row[2] for row in cells[3:]] == [cells[3][2]] * 2
    # The resumed run runs the failed crawler again and the three jobs downstream of it, not crawl_sales.
    assert [row[3:] for row in cells] == [
        ["1", "1", "resumed: retail-demo-crawl-stores"],
        ["4", "0", "recovered: next run started"],
        ["5", "0", "clean: next run started"],
        ["1", "1", "resumed: retail-demo-crawl-stores"],
        ["0", "1", "GlueWorkflowActionsFailed"],
    ]
    assert "Stop reason: GlueWorkflowActionsFailed" in result.stdout
    assert "failed nodes: [retail-demo-crawl-stores]" in result.stdout
    (stop_line,) = [line for line in result.stdout.splitlines() if line.startswith("Stop reason: ")]
    # Run ids cut as in the table; the status below shows them in full.
    assert not re.search(r"wr_[0-9a-f]{12}", stop_line)
    resumed = re.search(
        r"resumed .* before: run (wr_\w+)… \(failed nodes: \[retail-demo-crawl-stores\]\) as wr_", stop_line
    )
    assert resumed is not None
    assert resumed[1].startswith(cells[3][1].rstrip("…"))
    # The demo's own runs: the kept loop's runs print their polls after the commands.
    demo_part = result.stdout.split("\nThe emulator keeps running", 1)[0]
    assert len(re.findall(r"^  poll .* COMPLETED ", demo_part, re.MULTILINE)) == 5
    status = result.stdout.split("$ python -m glue_loop status", 1)[1]
    assert re.search(r"^Last stop +GlueWorkflowActionsFailed", status, re.MULTILINE)
    # The last run resumed run 3: it ran the failed crawler again (and would have run the jobs after
    # it); crawl_sales it copied from run 3.
    assert f"Resumes run    {resumed[1]}" in status
    assert re.search(r"^  retail-demo-crawl-stores +CRAWLER +FAILED +runs again", status, re.MULTILINE)
    assert re.search(rf"^  retail-demo-crawl-sales +CRAWLER +SUCCEEDED +copied from {resumed[1]}", status, re.M)
    metrics = result.stdout.split("read back with GetMetricData:\n", 1)[1].split("\n\nThe emulator keeps", 1)[0]
    _header, _rule, *metric_rows = metrics.splitlines()
    published = {cells[0]: cells[1:] for cells in (row.split() for row in metric_rows)}
    # The loop published each of the five runs once, resumed ones included: 11 actions succeeded and
    # 3 failed, as Glue counted; each resumed run counts the one attempt that made it.
    assert published["Runs"] == ["Count", "5", "5", "1"]
    assert published["ActionsSucceeded"][:3] == ["Count", "5", "11"]
    assert published["ActionsFailed"][:3] == ["Count", "5", "3"]
    assert published["RecoveryAttempts"] == ["Count", "5", "2", "1"]
    assert published["Polls"][:2] == ["Count", "5"]
    assert published["RunDuration"][:2] == published["DetectionDelay"][:2] == ["Seconds", "5"]
    assert "terraform destroy" in result.stdout
    assert "nothing is left behind" in result.stdout
    assert_the_guides_sample_has_the_demos_columns_and_rows(header, status, metrics)


def assert_the_guides_sample_has_the_demos_columns_and_rows(header: str, status: str, metrics: str) -> None:
    """docs/operations.md shows a run of the demo's defaults: its run table, status and metrics
    table have the columns, labels and metric rows the demo prints now (the values are a run's)."""
    guide = (REPO_ROOT / "docs" / "operations.md").read_text().split("## The demo\n", 1)[1]
    run_sample, metrics_sample = re.findall(r"^```\n(.*?)^```", guide, re.S | re.M)[:2]
    status_sample = run_sample.split("$ python -m glue_loop status", 1)[1].split("\nExecutions", 1)[0]

    assert run_sample.splitlines()[0].split() == header.split()
    sample_labels = status_labels(status_sample)
    assert sample_labels <= status_labels(status) and {"Last stop", "Glue run", "Actions"} <= sample_labels
    assert [row.split()[0] for row in metrics_sample.splitlines()[1:]] == [
        row.split()[0] for row in metrics.splitlines()
    ]


def test_pacing_demo_backs_off_after_idle_runs_and_a_dropped_file_wakes_the_loop_at_once() -> None:
    result = demo("--pacing", "--idle-runs", "3")

    assert result.returncode == 0, result.stderr
    started = re.findall(
        r"^  run \d started wr_\w+…, ([\d.]+) s after (.+); the loop's back-off was (\d+) s$", result.stdout, re.M
    )
    waits = [float(seconds) for seconds, _, _ in started]
    afters = [after for _, after, _ in started]
    back_offs = [int(seconds) for _, _, seconds in started]
    # The loop chose 2 s after the first idle run, 4 s after the second, 8 s after the third.
    assert back_offs == [2, 4, 8]
    assert afters == ["run 1 ended", "run 2 ended", "the file landed"]
    # Each idle wait lasted its back-off (how much longer depends on the machine's load: no upper bound).
    assert waits[0] >= 2 and waits[1] >= 4, waits
    assert "Stop reason: paused after 4 runs" in result.stdout
    metrics = result.stdout.split("read back with GetMetricData:\n", 1)[1].split("\nterraform destroy", 1)[0]
    published = {cells[0]: cells[1:] for cells in (row.split() for row in metrics.splitlines()[2:])}
    # The file's event ended the 8 s wait: by the loop's own clock (IdleWait, the seconds each of the
    # 4 runs' waits lasted, 8 or more had it timed out) none lasted that long.
    assert published["IdleWait"][:2] == ["Seconds", "4"] and float(published["IdleWait"][3]) < 8
    assert published["IdleRuns"][:3] == ["Count", "4", "3"]
    assert published["WakeDelay"][:2] == ["Seconds", "1"]
    assert "nothing is left behind" in result.stdout


def test_ctrl_c_mid_run_still_destroys_everything() -> None:
    process, shown = demo_until("  poll ", "--runs", "50", "--fail-at-run", "0")
    os.killpg(process.pid, signal.SIGINT)
    rest, _ = process.communicate(timeout=120)
    output = shown + rest

    assert process.returncode == 130, output
    assert "terraform destroy" in output
    assert "Interrupted; what the demo created was destroyed." in output


def test_make_demo_installs_only_what_it_uses() -> None:
    """Terraform, the dev venv and the CLI config: not the checkov and parliament venvs nor the
    Node.js tools, which only make test uses."""
    database = subprocess.run(
        ["make", "--no-print-directory", "-p", "-n", "-q", "demo"], cwd=REPO_ROOT, capture_output=True, text=True
    ).stdout
    (rule,) = [line for line in database.splitlines() if line.startswith("demo:")]

    assert rule.split(":", 1)[1].split() == ["terraform-check", ".venv/.installed", ".build/terraform.rc"]
