"""An in-process moto server on a free loopback port that executes state machines for real."""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
import urllib.request
from typing import Any

import boto3
from moto.server import ThreadedMotoServer
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.asl.utils import boto_client

from harness import moto_shims

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"


_parse_with_antlr = AmazonStateLanguageParser.parse


@functools.lru_cache(maxsize=32)
def _syntax_tree(definition: str) -> Any:  # antlr4's ParserRuleContext
    return _parse_with_antlr(definition)[1]


def _parse_from_a_kept_syntax_tree(definition: str) -> tuple[EvalComponent, Any]:
    """moto lexes and parses a definition with a pure-Python ANTLR parser when the provider validates
    it, when a state machine is created and again for every execution: a fifth of the CPU the tests
    spent in Python (0.3 CPU-s a parse). The syntax tree depends on the text alone, so one is kept per
    definition; the evaluation components are still built from it afresh each time, as moto builds
    them. A definition seen for the first time is preprocessed twice (once inside moto's parse, about
    0.05 CPU-s wasted): reusing that program would mean copying moto's lexer and parser set-up."""
    tree = _syntax_tree(definition)
    return Preprocessor().visit(tree), tree


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


class AwsEmulator:
    def __init__(self, quiet: bool = False) -> None:
        """``quiet`` silences moto, which logs each Fail state it runs as an error with its whole
        parse tree (the tests keep it: pytest shows it only for a failed test)."""
        moto_shims.install()
        AmazonStateLanguageParser.parse = staticmethod(_parse_from_a_kept_syntax_tree)  # type: ignore[method-assign]
        _keep_task_clients()
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
