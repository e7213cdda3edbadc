"""An in-process moto server on a free loopback port that executes state machines for real."""

from __future__ import annotations

import functools
import json
import logging
import os
import pickle
import sys
import urllib.request
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import boto3
from moto import backends
from moto.server import ThreadedMotoServer
from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser
from moto.stepfunctions.parser.asl.component.common.jsonata.jsonata_template_value_terminal import (
    JSONataTemplateValueTerminalLit,
)
from moto.stepfunctions.parser.asl.component.common.payload.payloadvalue.payload_value import PayloadValue
from moto.stepfunctions.parser.asl.component.common.payload.payloadvalue.payloadbinding.payload_binding import (
    PayloadBindingValue,
)
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.asl.utils import boto_client

from harness import moto_shims
from harness.kept import CACHES, kept

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"


_parse_with_antlr = AmazonStateLanguageParser.parse
_KEPT_PROGRAMS = CACHES / "asl-cache"
# A kept program depends on its definition, moto's parser and the way this module and the shims build it.
_PROGRAM_BUILDER = "\0".join(
    [version("moto"), Path(__file__).read_text(), Path(moto_shims.__file__).read_text(), sys.version]
)


# The parts of a loop's definition that tests change from machine to machine, parsed apart (see below):
# its settings, with its pause parameter's name and harness.asl.with_config's settings, and in events
# mode the name of its token table.
_SETTINGS_STATE, _SETTINGS_FIELD = "ApplyDefaults", "config"
_SETTINGS_PARSED_APART = "settings parsed apart"
_MARKER_TEXT = json.dumps(_SETTINGS_PARSED_APART)  # as the syntax tree holds it
_TOKEN_STATE, _TOKEN_TABLE_FIELD = "WaitForRun", "TableName"
_TOKEN_TABLE_PARSED_APART = "token table name parsed apart"


@dataclass(frozen=True)
class _Apart:
    template: str  # the definition with markers
    settings: str  # a definition of a Pass state with the settings
    token_table: str | None


def _loop_parts_apart(definition: str) -> _Apart | None:
    """The definition with its settings and token table name replaced by markers, the settings as a
    definition of their own and the name; None for a definition that is not a loop's, or whose text json.dumps
    would not write as it is: moto reads some strings with their escapes as written (Terraform's
    jsonencode writes "&" as \\u0026), so the text of every other state must stay the same."""
    try:
        document = json.loads(definition)
        parameters = document["States"][_SETTINGS_STATE]["Parameters"]
        settings = parameters[_SETTINGS_FIELD]
    except (ValueError, KeyError, TypeError):
        return None
    if json.dumps(document) != definition:
        return None
    parameters[_SETTINGS_FIELD] = _SETTINGS_PARSED_APART
    alone = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {_SETTINGS_FIELD: settings}, "End": True}}}
    arguments = document["States"].get(_TOKEN_STATE, {}).get("Arguments", {})
    token_table = arguments.get(_TOKEN_TABLE_FIELD)
    if isinstance(token_table, str):
        arguments[_TOKEN_TABLE_FIELD] = _TOKEN_TABLE_PARSED_APART
    return _Apart(json.dumps(document), json.dumps(alone), token_table)


class _PreprocessorFindingMarkers(Preprocessor):
    """moto's Preprocessor, which also hands back the components its settings bindings and the token table
    marker became, by the syntax they came from."""

    def __init__(self) -> None:
        super().__init__()
        self.settings: dict[ASLParser.Payload_binding_valueContext, PayloadBindingValue] = {}
        self.token_table_names: list[JSONataTemplateValueTerminalLit] = []

    def visitJsonata_template_value_terminal_string_literal(
        self, ctx: ASLParser.Jsonata_template_value_terminal_string_literalContext
    ) -> JSONataTemplateValueTerminalLit:
        literal: JSONataTemplateValueTerminalLit = super().visitJsonata_template_value_terminal_string_literal(ctx)
        if literal.value == _TOKEN_TABLE_PARSED_APART:
            self.token_table_names.append(literal)
        return literal

    def visitPayload_binding_value(self, ctx: ASLParser.Payload_binding_valueContext) -> PayloadBindingValue:
        binding: PayloadBindingValue = super().visitPayload_binding_value(ctx)
        if binding.field == _SETTINGS_FIELD:
            self.settings[ctx] = binding
        return binding


@dataclass
class _Built:
    """A definition's program, and its components that _loop_parts_apart's markers became."""

    program: EvalComponent
    settings_markers: list[PayloadBindingValue]
    token_table_names: list[JSONataTemplateValueTerminalLit]


def _build(definition: str) -> bytes:
    tree = _parse_with_antlr(definition)[1]
    found = _PreprocessorFindingMarkers()
    program = found.visit(tree)
    markers = [binding for ctx, binding in found.settings.items() if ctx.payload_value_decl().getText() == _MARKER_TEXT]
    # One pickle: the markers stay the very components of the program they are loaded with.
    return pickle.dumps(_Built(program, markers, found.token_table_names))


def _kept_build(definition: str) -> _Built:
    """A fresh copy of the definition's program, made once on this machine."""
    built: _Built = pickle.loads(kept(_KEPT_PROGRAMS, f"{_PROGRAM_BUILDER}\0{definition}", lambda: _build(definition)))
    return built


def _settings_value(definition: str) -> PayloadValue:
    """The settings' value in a definition of them alone made by _loop_parts_apart: the one binding of its
    Pass state's Parameters, the first that a walk from the root of its syntax tree meets."""
    tree = _parse_with_antlr(definition)[1]
    found = _PreprocessorFindingMarkers()
    found.visit(tree)
    pending = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ASLParser.Payload_binding_valueContext):
            return found.settings[node].payload_value
        pending.extend(getattr(node, "children", None) or [])
    raise ValueError("no settings in the definition of the settings")


@functools.lru_cache(maxsize=256)
def _parse_from_a_kept_program(definition: str) -> tuple[EvalComponent, None]:
    """moto lexes and parses a definition with a pure-Python ANTLR parser, and builds its evaluation
    components from the syntax tree, when the provider validates it, when a state machine is created and
    again for every execution: together a third of the CPU the tests spent in Python, in every test process
    and every demo. Both depend on the text alone and moto's components keep no state of an evaluation
    (each execution's lives in its Environment; see _heap_key_of), so the components are kept on disk per
    definition (harness.kept) and shared by its executions. Tests create a loop per test, each with its own
    pause parameter and settings, which would make every creation a parse of the whole definition: a loop's
    settings and token table name are parsed apart and set in a copy of the program kept for every loop of
    its definition.

    No syntax tree comes back: moto reads one only in its StaticAnalyser, which the emulator does not use
    (moto_shims._validate_state_machine_definition)."""
    apart = _loop_parts_apart(definition)
    if apart is None:
        return _kept_build(definition).program, None
    built = _kept_build(apart.template)
    settings = _settings_value(apart.settings)
    for marker in built.settings_markers:
        marker.payload_value = settings  # type: ignore[misc]
    for name in built.token_table_names:
        name.value = apart.token_table  # type: ignore[misc]
    return built.program, None


def _heap_key_of(component: EvalComponent) -> str:
    """The key of a component's values in an execution's heap (Retry's attempt count and backoff), the one
    thing a component keeps: moto draws it at first use without a lock, so two executions sharing a kept
    component could each draw one and read each other's counter under the wrong key. A live object's id
    is as unique and is there from the start."""
    return f"{type(component).__name__}-{id(component):x}"


_create_task_client = boto_client.boto_client_for


@functools.lru_cache(maxsize=64)
def _task_client(region: str, service: str, role_arn: str, port: str) -> Any:
    return _create_task_client(region=region, service=service)


def _kept_task_client(region: str, service: str, state_credentials: Any = None) -> Any:
    """moto builds a boto3 client for every service call a task makes (a tenth of the CPU that executing
    the loop costs). botocore clients are thread-safe, so one is kept per region, service, role the task
    runs under (faults are injected per role: harness.service_faults) and emulator port."""
    role_arn = state_credentials.role_arn if state_credentials else ""
    return _task_client(region, service, role_arn, os.environ.get("MOTO_PORT", ""))


def _keep_task_clients() -> None:
    """Every integration module imports boto_client_for by name: replaced where it was imported
    already, and at its source for those imported later."""
    boto_client.boto_client_for = _kept_task_client
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.") and getattr(module, "boto_client_for", None) is _create_task_client:
            module.boto_client_for = _kept_task_client  # type: ignore[attr-defined]


_list_moto_modules = backends.list_of_moto_modules


@functools.cache
def _moto_modules() -> frozenset[str]:
    """moto's server finds the service a request is for by listing its own package's directory (os.listdir,
    then an isdir per entry) for every request, under a lock that every request takes: a sixth of the CPU a
    request costs (GetWorkflow and ListStateMachines, 800 requests: 6.1 -> 5.2 CPU-s). The directory does not
    change while the server runs, so it is listed once."""
    return frozenset(_list_moto_modules())


class AwsEmulator:
    def __init__(self, quiet: bool = False) -> None:
        """``quiet`` silences moto, which logs each Fail state it runs as an error with its whole
        parse tree (the tests keep it: pytest shows it only for a failed test)."""
        moto_shims.install()
        AmazonStateLanguageParser.parse = staticmethod(_parse_from_a_kept_program)  # type: ignore[method-assign]
        EvalComponent.heap_key = property(_heap_key_of)  # type: ignore[assignment,method-assign]
        _keep_task_clients()
        backends.list_of_moto_modules = _moto_modules
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
        if quiet:
            logging.getLogger("moto").setLevel(logging.CRITICAL)
        # Port 0: the OS picks a free port, so parallel test processes never collide.
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        self._clients: dict[str, Any] = {}
        # Task integrations inside moto call back into the server through this port.
        os.environ["MOTO_PORT"] = str(port)
        self._post("/moto-api/config", {"stepfunctions": {"execute_state_machine": True}})

    def _post(self, path: str, body: dict[str, Any]) -> None:
        request = urllib.request.Request(
            self.endpoint_url + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10):
            pass

    def client(self, service: str) -> Any:
        """A client of the emulator's ``service``, one per service: building a botocore client loads and
        indexes the service's model (a twentieth of the CPU the tests spend in Python), and clients are
        thread-safe."""
        kept = self._clients.get(service)
        if kept is None:
            kept = self._clients.setdefault(
                service,
                boto3.client(
                    service,  # type: ignore[call-overload]
                    endpoint_url=self.endpoint_url,
                    region_name=REGION,
                    aws_access_key_id="test",
                    aws_secret_access_key="test",
                ),
            )
        return kept

    def stop(self) -> None:
        self._server.stop()
