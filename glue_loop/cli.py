"""glue-loop (or python -m glue_loop): status, start, pause, resume and stop a glue-workflow-loop state machine."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import urllib.parse
from collections.abc import Callable

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)

from glue_loop import __version__, status
from glue_loop.definition import DefinitionError
from glue_loop.loop import Loop, reads_as_paused

OPERATOR_CAUSE = "Stopped by an operator with python -m glue_loop stop"


class Refused(Exception):
    """The command would do harm or cannot do what was asked; the message says why."""


def main(argv: list[str] | None = None, prog: str = "glue-loop") -> int:
    """The console script's entry point: its return value is the process's exit status."""
    args = _parser(prog).parse_args(argv)
    problem = _argument_problem(args)
    if problem is not None:
        return _fail(problem)
    try:
        loop = Loop.connect(args.state_machine_arn, args.endpoint_url, args.region)
        command: Callable[[Loop, argparse.Namespace], int] = args.command
        return command(loop, args)
    except (Refused, DefinitionError) as error:
        return _fail(str(error))
    except ClientError as error:
        return _fail(_client_error(error, args.state_machine_arn))
    except NoCredentialsError:
        return _fail(
            "no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY,"
            " or sign in (aws sso login / aws configure)"
        )
    except NoRegionError:
        return _fail("no AWS region: pass --region or set AWS_REGION")
    except EndpointConnectionError as error:
        return _fail(f"cannot reach the AWS endpoint: {error}")
    except BotoCoreError as error:
        return _fail(str(error))
    except KeyboardInterrupt:
        return _fail("interrupted", code=130)


# "Amazon Resource Names (ARNs) in Step Functions": arn:partition:states:region:account-id:stateMachine:name.
STATE_MACHINE_ARN = re.compile(r"arn:[a-z-]+:states:[a-z0-9-]+:\d{12}:stateMachine:[^:\s]+")


def _argument_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the arguments before any call, named: botocore would answer a name with
    "no region" and a bad endpoint with a traceback."""
    if not STATE_MACHINE_ARN.fullmatch(args.state_machine_arn):
        return (
            f"{args.state_machine_arn!r} is not a state machine ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME,"
            " the module's state_machine_arn output)"
        )
    if args.endpoint_url is not None:
        url = urllib.parse.urlsplit(args.endpoint_url)
        if url.scheme not in ("http", "https") or not url.netloc:
            return f"--endpoint-url {args.endpoint_url!r} is not an http(s) URL such as http://127.0.0.1:5000"
    return None


def _fail(message: str, code: int = 1) -> int:
    print(f"glue_loop: {message}", file=sys.stderr)
    return code


def _client_error(error: ClientError, arn: str) -> str:
    code, message = error.response["Error"].get("Code", ""), error.response["Error"].get("Message", "")
    if code == "StateMachineDoesNotExist":
        return f"no state machine {arn} (check the account and region): {message}"
    if code == "InvalidArn":
        return f"{arn!r} is not a state machine ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME): {message}"
    return f"{error.operation_name} failed: {code}: {message}"


# --- commands ---


def show_status(loop: Loop, args: argparse.Namespace) -> int:
    report = status.gather(loop, args.limit)
    print(status.as_json(report) if args.json else status.as_text(report))
    return 0


def start(loop: Loop, args: argparse.Namespace) -> int:
    running = loop.executions(status="RUNNING")
    if running and not args.force:
        raise Refused(
            f"execution {', '.join(execution.name for execution in running)} is already running: a second chain"
            f" would fight it over workflow {loop.workflow}. Stop it first, or pass --force."
        )
    if loop.definition.pause_parameter and reads_as_paused(loop.pause_flag()):
        print(f"Note: {loop.pause_parameter} is true, so the loop ends paused at once; `resume` clears it.")
    print(f"Started {loop.start(args.input)}")
    return 0


def pause(loop: Loop, args: argparse.Namespace) -> int:
    loop.set_pause_flag(True)
    running = loop.executions(status="RUNNING")
    print(
        f"Set {loop.pause_parameter} to true: "
        + (f"execution {running[0].name} ends after its Glue run in flight." if running else "no execution is running.")
    )
    if args.wait and not _wait(loop, loop.has_ended, args):
        return 1
    return 0


def resume(loop: Loop, args: argparse.Namespace) -> int:
    loop.set_pause_flag(False)
    running = loop.executions(status="RUNNING")
    if running:
        # A chain still finishing its run reads the cleared flag before its next run: it carries on.
        print(f"Set {loop.pause_parameter} to false: execution {running[0].name} is still running and carries on.")
        return 0
    print(f"Set {loop.pause_parameter} to false. Started {loop.start(args.input)}")
    return 0


def stop(loop: Loop, args: argparse.Namespace) -> int:
    if not _stop_running(loop):
        print("No execution is running.")
    if args.stop_glue_run:
        run = loop.glue_run()
        if run is not None and run.status == "RUNNING":
            loop.stop_glue_run(run.run_id)
            print(f"Asked Glue to stop workflow run {run.run_id}.")
        else:
            print(f"Glue workflow {loop.workflow} has no running run to stop.")

    def settled() -> bool:
        # A successor started just before its predecessor was stopped is stopped too.
        if _stop_running(loop) or not loop.has_ended():
            return False
        run = loop.glue_run() if args.stop_glue_run else None
        return run is None or run.status not in {"RUNNING", "STOPPING"}

    if args.wait and not _wait(loop, settled, args):
        return 1
    return 0


def _stop_running(loop: Loop) -> list[str]:
    stopped = []
    for execution in loop.executions(status="RUNNING"):
        loop.stop(execution.arn, OPERATOR_CAUSE)
        print(f"Stopped execution {execution.name}.")
        stopped.append(execution.name)
    return stopped


def _wait(loop: Loop, done: Callable[[], bool], args: argparse.Namespace) -> bool:
    """Waits until ``done``, printing progress every --interval seconds; False after --timeout."""
    started = time.monotonic()
    while not done():
        elapsed = time.monotonic() - started
        if args.timeout and elapsed >= args.timeout:
            print(f"Still running after {elapsed:.0f} s; gave up waiting (--timeout).")
            return False
        print(f"{elapsed:5.0f} s  {_progress(loop)}", flush=True)
        time.sleep(args.interval)
    print(f"Ended after {time.monotonic() - started:.0f} s: {_outcome(loop)}")
    return True


def _progress(loop: Loop) -> str:
    running = loop.executions(status="RUNNING")
    execution = (
        f"execution {running[0].name} in state {loop.current_state(running[0].arn) or '?'}"
        if running
        else "no execution running"
    )
    run = loop.glue_run()
    if run is None:
        return execution
    total = run.statistics.get("TotalActions", 0)
    done = total - run.statistics.get("RunningActions", 0) - run.statistics.get("WaitingActions", 0)
    return f"{execution}; Glue run {run.run_id} {run.status} ({done} of {total} actions done)"


def _outcome(loop: Loop) -> str:
    stop = status.last_stop(loop.executions(limit=10), loop)
    if stop is None:
        return "no execution has run"
    resumes = len(stop.recovery_attempts)
    resumed = f", after resuming the run {status.how_often(resumes)}" if resumes else ""
    return f"{stop.reason} (execution {stop.execution} {stop.status}){resumed}"


# --- arguments ---


def _json_object(text: str) -> str:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise argparse.ArgumentTypeError(f"not JSON: {error}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError('must be a JSON object, e.g. \'{"run_properties": {"market": "EU"}}\'')
    return text


def _parser(prog: str) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--state-machine-arn", required=True, help="the loop's state machine (output state_machine_arn)"
    )
    common.add_argument("--endpoint-url", help="AWS endpoint to use instead of AWS's, e.g. an emulator's")
    common.add_argument("--region", help="AWS region (default: the state machine ARN's)")
    waiting = argparse.ArgumentParser(add_help=False)
    waiting.add_argument("--wait", action="store_true", help="wait until the loop has ended, printing progress")
    waiting.add_argument("--interval", type=float, default=5, help="seconds between progress lines (default 5)")
    waiting.add_argument("--timeout", type=float, default=0, help="give up waiting after this many seconds (0: never)")
    starting = argparse.ArgumentParser(add_help=False)
    starting.add_argument("--input", type=_json_object, default="{}", help="execution input, a JSON object")

    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    parser.add_argument("--version", action="version", version=f"glue-loop {__version__}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    command = commands.add_parser("status", parents=[common], help="show the chain, the Glue run, pause and last stop")
    command.add_argument("--limit", type=int, default=10, help="executions to show (default 10)")
    command.add_argument("--json", action="store_true", help="machine-readable output")
    command.set_defaults(command=show_status)
    command = commands.add_parser("start", parents=[common, starting], help="start the loop")
    command.add_argument("--force", action="store_true", help="start even if an execution is running")
    command.set_defaults(command=start)
    command = commands.add_parser("pause", parents=[common, waiting], help="pause after the run in flight")
    command.set_defaults(command=pause)
    command = commands.add_parser("resume", parents=[common, starting], help="clear the pause flag and start a chain")
    command.set_defaults(command=resume)
    command = commands.add_parser("stop", parents=[common, waiting], help="stop the running execution(s) now")
    command.add_argument("--stop-glue-run", action="store_true", help="also stop the running Glue workflow run")
    command.set_defaults(command=stop)
    return parser
