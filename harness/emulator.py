"""An in-process moto server on a free loopback port that executes state machines for real."""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from harness import moto_shims

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"


class AwsEmulator:
    def __init__(self, quiet: bool = False) -> None:
        """``quiet`` silences moto, which logs each Fail state it runs as an error with its whole
        parse tree (the tests keep it: pytest shows it only for a failed test)."""
        moto_shims.install()
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
