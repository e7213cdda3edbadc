"""An in-process moto server on a free loopback port that executes state machines for real."""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
import urllib.request
from dataclasses import dataclass
from typing import Any

import boto3
from moto import backends
from moto.server import ThreadedMotoServer
from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser
from moto.stepfunctions.parser.asl.component.common.jsonata.jsonata_template_value_terminal import (
    JSONataTemplateValueTerminalLit,
)
from moto.stepfunctions.parser.asl.component.common.payload.payloadvalue.payloadbinding.payload_binding import (
    PayloadBindingValue,
)
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.asl.utils import boto_client

from harness import moto_shims

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"


_parse_with_antlr = AmazonStateLanguageParser.parse


@functools.lru_cache(maxsize=64)
def _syntax_tree(definition: str) -> Any:  # antlr4's ParserRuleContext
    return _parse_with_antlr(definition)[1]


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


def _settings_value(tree: Any) -> Any:
    """The settings' value in the syntax tree of a definition made by _loop_parts_apart."""
    pending = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ASLParser.Payload_binding_valueContext):
            return node.payload_value_decl()
        pending.extend(getattr(node, "children", None) or [])
    raise ValueError("no settings in the definition of the settings")


class _PreprocessorWithLoopParts(Preprocessor):
    """moto's Preprocessor, which takes the settings' value from the syntax tree of their own definition
    and the token table's name from _Apart where the loop's definition has their markers."""

    def __init__(self, settings: Any, token_table: str | None) -> None:
        super().__init__()
        self._settings = settings
        self._token_table = token_table

    def visitJsonata_template_value_terminal_string_literal(
        self, ctx: ASLParser.Jsonata_template_value_terminal_string_literalContext
    ) -> JSONataTemplateValueTerminalLit:
        literal: JSONataTemplateValueTerminalLit = super().visitJsonata_template_value_terminal_string_literal(ctx)
        if literal.value == _TOKEN_TABLE_PARSED_APART:
            return JSONataTemplateValueTerminalLit(value=self._token_table)
        return literal

    def visitPayload_binding_value(self, ctx: ASLParser.Payload_binding_valueContext) -> PayloadBindingValue:
        binding: PayloadBindingValue = super().visitPayload_binding_value(ctx)
        if binding.field == _SETTINGS_FIELD and ctx.payload_value_decl().getText() == _MARKER_TEXT:
            return PayloadBindingValue(field=binding.field, payload_value=self.visit(self._settings))
        return binding


@functools.lru_cache(maxsize=256)
def _parse_from_a_kept_syntax_tree(definition: str) -> tuple[EvalComponent, Any]:
    """moto lexes and parses a definition with a pure-Python ANTLR parser, and builds its evaluation
    components from the syntax tree, when the provider validates it, when a state machine is created and
    again for every execution: together a third of the CPU the tests spent in Python. Both depend on the
    text alone and moto's components keep no state of an evaluation (each execution's lives in its
    Environment; see _heap_key_of), so the components are kept per definition and shared by its
    executions. Tests create a loop per test, each with its own pause parameter and settings, which would
    make every creation a parse of the whole definition: a loop's settings and token table name are parsed
    apart, so its syntax tree is kept once for every loop of a definition and only its settings are
    parsed per loop."""
    apart = _loop_parts_apart(definition)
    if apart is None:
        tree = _syntax_tree(definition)
        return Preprocessor().visit(tree), tree
    tree = _syntax_tree(apart.template)
    settings = _settings_value(_syntax_tree(apart.settings))
    return _PreprocessorWithLoopParts(settings, apart.token_table).visit(tree), tree


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
        AmazonStateLanguageParser.parse = staticmethod(_parse_from_a_kept_syntax_tree)  # type: ignore[method-assign]
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
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    def stop(self) -> None:
        self._server.stop()
