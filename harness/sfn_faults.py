"""Faults in the emulator's Step Functions API, for testing the loop's handoff."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

from moto.core.exceptions import JsonRESTError
from moto.stepfunctions.parser.models import StepFunctionsParserBackend


@contextmanager
def start_execution_times_out(when: Callable[[str], bool]) -> Iterator[list[str]]:
    """Make StartExecution start the execution and then fail as a timeout would, for every
    execution name ``when`` accepts, while the context lasts; yields the names it did this to, as
    they happen."""
    # moto_shims' start_execution by now, which (unlike moto's) takes a missing name.
    original: Callable[..., Any] = StepFunctionsParserBackend.start_execution
    timed_out: list[str] = []

    def start_execution(backend: StepFunctionsParserBackend, arn: str, name: str | None, *args: Any) -> Any:
        execution = original(backend, arn, name, *args)
        if name and when(name):
            timed_out.append(name)
            error = JsonRESTError("ServiceUnavailable", "Simulated timeout after the execution started")
            error.code = 503
            raise error
        return execution

    with patch.object(StepFunctionsParserBackend, "start_execution", start_execution):
        yield timed_out
