"""Faults in the AWS calls that state machine tasks make: an IAM denial of one action to one role,
and throttling of an action for its next few calls.

moto runs a task's service call without evaluating the permissions of the role the task runs
under (the state machine's role, or the task's Credentials.RoleArn), so a bring-your-own role that
lacks a permission works in the emulator. Here the faults are decided where moto's Step Functions
parser creates the client for a task's call (``boto_client_for``, which it hands the task's role),
and answered as the service's error response would be: botocore turns the error code into the
service's modelled exception (or a plain ClientError when the model has none), and the
integration names it as it names any error that service returns (e.g. ``Ssm.AccessDeniedException``,
``DynamoDb.DynamoDbException``, ``SNS.AuthorizationErrorException``).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any
from unittest.mock import patch

from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.model import OperationModel
from moto.stepfunctions.parser.asl.component.state.exec.state_task.credentials import StateCredentials
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_aws_sdk,
    state_task_service_sfn,
    state_task_service_sns,
)

# The modules of the integrations the module's state machines use: aws-sdk:* (Glue, SSM,
# DynamoDB, Step Functions' SendTaskSuccess), sns:publish and states:startExecution. Each imports
# boto_client_for by name, so each is patched.
_INTEGRATIONS: tuple[ModuleType, ...] = (state_task_service_aws_sdk, state_task_service_sns, state_task_service_sfn)

# The error code and HTTP status an IAM denial gets: AccessDeniedException for the JSON protocol
# services ("Common Errors" of their API references, which give it 400, e.g.
# https://docs.aws.amazon.com/emr/latest/APIReference/CommonErrors.html; newer such pages say 403,
# which only the task's Cause would show); AuthorizationError with 403 for SNS, a query protocol
# service (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html, Errors).
_DENIAL = ("AccessDeniedException", 400)
_DENIAL_BY_SERVICE = {"sns": ("AuthorizationError", 403)}
_IAM_PREFIXES = {"monitoring": "cloudwatch"}


@dataclass
class _Fault:
    action: str  # IAM action, e.g. "ssm:GetParameter"
    role_arn: str | None  # None: whichever role calls
    code: str
    status: int
    message: str
    remaining: int | None  # calls still to fail; None: every call


@dataclass(frozen=True)
class InjectedFault:
    """A call that failed because of an injected fault."""

    action: str
    role_arn: str
    code: str


class ServiceFaults:
    """Faults for tasks' service calls; ``install`` lays them over the emulator for one test."""

    def __init__(self) -> None:
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self.injected: list[InjectedFault] = []

    def deny(self, role_arn: str, action: str) -> None:
        """Every call of ``action`` (e.g. "ssm:GetParameter") by tasks running as ``role_arn``
        fails as IAM denies it: the role has no policy allowing the action."""
        service = action.split(":")[0]
        code, status = _DENIAL_BY_SERVICE.get(service, _DENIAL)
        with self._lock:
            self._faults.append(_Fault(action, role_arn, code, status, _denial_message(role_arn, action), None))

    def throttle(self, action: str, times: int, code: str = "ThrottlingException", role_arn: str | None = None) -> None:
        """The next ``times`` calls of ``action`` (by ``role_arn``, or any role) fail with the
        throttling error ``code`` (HTTP 400, as AWS's JSON services answer throttling: e.g.
        https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html),
        then calls go through again."""
        with self._lock:
            # "Rate exceeded": the message SSM and Glue give throttling.
            self._faults.append(_Fault(action, role_arn, code, 400, "Rate exceeded", times))

    @contextmanager
    def installed(self) -> Iterator[ServiceFaults]:
        """Injects the faults into the emulator's task integrations while the context lasts."""
        # The emulator keeps one client per role (harness.emulator): each gets one handler, removed on the way out.
        answering: dict[Any, Callable[..., Any]] = {}
        try:
            with ExitStack() as patches:
                for module in _INTEGRATIONS:
                    factory = self._faulty_client_factory(module.boto_client_for, answering)
                    patches.enter_context(patch.object(module, "boto_client_for", factory))
                yield self
        finally:
            for client, answer in answering.items():
                client.meta.events.unregister("before-call.*.*", answer)

    def _faulty_client_factory(
        self, create_client: Callable[..., Any], answering: dict[Any, Callable[..., Any]]
    ) -> Callable[..., Any]:
        def boto_client_for(region: str, service: str, state_credentials: StateCredentials | None = None) -> Any:
            client = create_client(region=region, service=service, state_credentials=state_credentials)
            role_arn = state_credentials.role_arn if state_credentials else ""

            def answer(model: OperationModel, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
                return self._answer(role_arn, model)

            with self._lock:
                if client not in answering:
                    answering[client] = answer
                    client.meta.events.register("before-call.*.*", answer)
            return client

        return boto_client_for

    def _answer(self, role_arn: str, model: OperationModel) -> tuple[AWSResponse, dict[str, Any]] | None:
        """The error response of the first fault matching the call, in place of the call (a
        before-call handler's answer is botocore's response); None lets the call through."""
        # IAM actions are the service's signing name (its IAM prefix: "states" for Step
        # Functions) and the API operation's name; CloudWatch signs as "monitoring" but its IAM
        # prefix is "cloudwatch" (Service Authorization Reference, "Amazon CloudWatch").
        signing_name = model.service_model.signing_name
        action = f"{_IAM_PREFIXES.get(signing_name, signing_name)}:{model.name}"
        with self._lock:
            fault = next(
                (
                    fault
                    for fault in self._faults
                    if fault.action == action
                    and fault.role_arn in (None, role_arn)
                    and (fault.remaining is None or fault.remaining > 0)
                ),
                None,
            )
            if fault is None:
                return None
            if fault.remaining is not None:
                fault.remaining -= 1
            self.injected.append(InjectedFault(action, role_arn, fault.code))
        request_id = str(uuid.uuid4())
        metadata = {"RequestId": request_id, "HTTPStatusCode": fault.status, "HTTPHeaders": {}, "RetryAttempts": 0}
        parsed = {"Error": {"Code": fault.code, "Message": fault.message}, "ResponseMetadata": metadata}
        return AWSResponse(f"https://{model.service_model.endpoint_prefix}", fault.status, HTTPHeaders(), None), parsed


def _denial_message(role_arn: str, action: str) -> str:
    """IAM's wording (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html)
    for the session Step Functions opens with the role (its session name is not documented), without
    the resource, which the harness does not work out from the request."""
    arn_prefix, _, role_path = role_arn.partition(":role/")
    session = f"{arn_prefix.replace(':iam::', ':sts::')}:assumed-role/{role_path.rsplit('/', 1)[-1]}/states-session"
    because = f"because no identity-based policy allows the {action} action"
    return f"User: {session} is not authorized to perform: {action} {because}"
