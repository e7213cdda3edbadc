"""Every patch the tests lay over moto 5.2.x, each naming the gap between moto and AWS it covers.

They are installed once per process by :func:`install` (the moto server runs in-process, so
patching its classes patches the server). Remove a shim when moto closes its gap.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import inspect
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import jsonata as jsonata_python
from jsonata.functions import Functions
from jsonata.jexception import JException
from jsonata.utils import Utils as JsonataUtils
from moto.core.exceptions import AWSError
from moto.core.responses import ActionResult
from moto.events.models import EventPattern
from moto.events.responses import EventsHandler
from moto.glue.models import GlueBackend
from moto.glue.responses import GlueResponse
from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.s3.models import FakeBucket
from moto.s3.responses import S3Response
from moto.stepfunctions.parser import api as sfn_api
from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import ErrorEqualsDecl
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service,
    state_task_service_aws_sdk,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
    StateTaskService,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.eval.callback.callback import (
    CallbackConsumerTimeout,
    CallbackNotifyConsumerError,
    CallbackOutcomeSuccess,
    CallbackTimeoutError,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse
from moto.utilities.paginator import Paginator
from moto.utilities.utils import get_partition

_installed = False


# --- SFN APIs that provider 5.x calls and moto lacks ---------------------------------------------


def _json_body(body: dict[str, Any]) -> str:
    return json.dumps(body, default=lambda value: value.timestamp())


def _validate_state_machine_definition(self: StepFunctionResponse) -> str:
    """Gap: no ValidateStateMachineDefinition (the provider calls it when planning a state machine).

    Answered with moto's own ASL parser, which rejects malformed states but not dangling ``Next`` names;
    the ASL graph tests cover those. moto's StaticAnalyser checks no more: its analyse() parses the
    definition and walks the syntax tree with a visitor that checks nothing (moto 5.2).
    """
    try:
        AmazonStateLanguageParser.parse(self._get_param("definition"))
    except Exception as error:  # the analyser raises parser errors of many classes
        diagnostic = {"severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED", "message": repr(error)}
        return _json_body({"result": "FAIL", "diagnostics": [diagnostic], "truncated": False})
    return _json_body({"result": "OK", "diagnostics": [], "truncated": False})


def _preprocessor_with_scopes_of_its_own(self: Preprocessor) -> None:
    """Gap: the definition parser keeps its stack of QueryLanguage scopes in a class attribute, shared by
    every parse. Definitions parsed at once in the server's threads (a plan validates its state machines
    concurrently) and a parse that raised leave scopes behind, and valid JSONPath states are refused."""
    self._query_language_per_scope = []


def _list_state_machine_versions(self: StepFunctionResponse) -> str:
    """Gap: no ListStateMachineVersions (the provider calls it when refreshing a state machine)."""
    machine = self.stepfunction_backend.describe_state_machine(self._get_param("stateMachineArn"))
    versions = [
        {"stateMachineVersionArn": version.arn, "creationDate": version.creation_date}
        for version in machine.versions.values()
    ]
    return _json_body({"stateMachineVersions": versions})


# GetExecutionHistory's page when maxResults is absent or 0 ("The default is 100 and the maximum allowed
# page size is 1000. A value of 0 uses the default.", AWS Step Functions API Reference, GetExecutionHistory).
_HISTORY_PAGE_SIZE = 100


def _execution_history_in_pages(self: StepFunctionResponse) -> ActionResult:
    """Gap: GetExecutionHistory answers the whole history at once, oldest first, whatever reverseOrder
    and maxResults ask, so a caller that reads only the newest events (glue_loop's position) would see
    events AWS never gives it. Paged as AWS pages it: newest first with reverseOrder, at most maxResults
    (default 100) a page, and a nextToken while events are left. AWS may answer fewer than maxResults;
    this answers as many as it has. Its tokens are moto's own (moto.utilities.paginator), which, as AWS
    asks, hold only with the same other arguments."""
    arguments = {name: self._get_param(name) for name in ("executionArn", "reverseOrder")}
    history = self.stepfunction_backend.get_execution_history(arguments["executionArn"])
    events = list(history["events"])
    if arguments["reverseOrder"]:
        events.reverse()
    paginator = Paginator(
        max_results=self._get_param("maxResults"),
        max_results_default=_HISTORY_PAGE_SIZE,
        starting_token=self._get_param("nextToken"),
        unique_attribute="id",
        param_values_to_check=arguments,
    )
    page, next_token = paginator.paginate(events)
    return ActionResult({**history, "events": page, **({"nextToken": next_token} if next_token else {})})


def _token_refused_once_its_wait_timed_out(self: StateTaskServiceCallback, env: Environment, **kwargs: Any) -> None:
    """Gap: a task token stays valid after its wait timed out, so SendTaskSuccess with it
    succeeds and wakes nothing. AWS answers TaskTimedOut."""
    try:
        _original_eval_integration_pattern(self, env=env, **kwargs)
    except CallbackTimeoutError:
        task = env.states.context_object.context_object_data["Task"]
        endpoint = env.callback_pool_manager.get(task["Token"]) if task else None
        if endpoint is not None:
            endpoint.report(CallbackConsumerTimeout())
        raise


def _buildable(error: type[AWSError], message: str) -> None:
    """Gap: SendTaskSuccess raises TaskTimedOut() for a token whose wait timed out (and
    TaskDoesNotExist() for one whose task has gone), which moto cannot build without a message,
    so the caller gets an HTTP 500 instead of the error. Built as moto builds its InvalidToken."""

    def __init__(self: AWSError) -> None:
        AWSError.__init__(self, message, error.__name__, 400)

    error.__init__ = __init__  # type: ignore[assignment,method-assign]


def _evaluate_jsonata(expression: str) -> Any:
    """Gap: moto parses JSONata states but leaves its JSONata evaluator unset (LocalStack's runs
    on a JVM). Evaluated with jsonata-python, a pure Python JSONata. moto reads workflow variables
    through this evaluator in JSONPath states too ($polls in a Choice rule's Variable or an
    intrinsic's argument: StringVariableSample), so without it no variable can be read.

    moto hands over one text: "(" + "$name:=<value as JSON>;" for $states and every variable +
    the expression + ")". Parsing each value as JSONata text was nine tenths of this shim's CPU, so
    the values are decoded as JSON and bound, and what is left is parsed once per thread. Measured
    on 971 evaluations of the tests: the same results (bar $now()), 4.1 -> 0.4 CPU-s."""
    bindings, rest = _bound_declarations(expression)
    return _evaluated(_parsed(rest, threading.get_ident()), bindings)


def _evaluated(parsed: jsonata_python.Jsonata, bindings: dict[str, Any]) -> Any:
    """Gap: jsonata-python 0.7.1's $millis() and $now() read the time of the expression last
    constructed in the thread (Jsonata.CURRENT, set by its constructor only), not of the one being
    evaluated. A kept parsed expression then read the time of another's last evaluation: a
    callback's watch deadline ("$millis() - ... < limit") never passed and it watched on forever.
    JSONata's $millis() is the time of the evaluation in progress (jsonata-js: "the number of
    milliseconds since the Unix Epoch", the same for every call in one evaluation)."""
    jsonata_python.Jsonata.CURRENT.jsonata = parsed
    return parsed.evaluate(None, bindings)


# moto's output checks wrap the composed text in $type(...) or $exists(...).
_COMPOSED_OPENING = re.compile(r"(?:\$(?:type|exists)\()?\(")
_DECLARATION = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*):=")
_JSON = json.JSONDecoder()


def _bound_declarations(expression: str) -> tuple[dict[str, Any], str]:
    """The leading declarations whose values are JSON, and the text without them. moto writes a string
    value between quotes unescaped: one that does not decode as JSON followed by ";" (and an intrinsic
    function's declaration) stops the scan, so it and the rest stay text, parsed as before."""
    opening = _COMPOSED_OPENING.match(expression)
    if opening is None:
        return {}, expression
    bindings: dict[str, Any] = {}
    position = opening.end()
    while (declaration := _DECLARATION.match(expression, position)) is not None:
        try:
            value, end = _JSON.raw_decode(expression, declaration.end())
        except json.JSONDecodeError:
            break
        if not expression.startswith(";", end):
            break
        bindings[declaration[1]] = _as_jsonata_literal(value)
        position = end + 1
    return bindings, expression[: opening.end()] + expression[position:]


def _as_jsonata_literal(value: Any) -> Any:
    """A decoded JSON value as JSONata evaluates the same literal: null is JSONata's null (which
    $exists sees), not undefined, and a number with no fraction is an integer."""
    if value is None:
        return JsonataUtils.NULL_VALUE
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _as_jsonata_literal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_jsonata_literal(item) for item in value]
    return value


@functools.lru_cache(maxsize=512)
def _parsed(expression: str, thread: int) -> jsonata_python.Jsonata:
    """A parsed expression, per thread (the key's second part): jsonata-python keeps an evaluation's
    input and environment on the expression object, so two threads must not share one."""
    parsed = jsonata_python.Jsonata(expression)
    parsed.register_lambda("toMillis", _to_millis_as_strict_as_jsonata_js)
    return parsed


# ECMAScript's date-time string format (ECMA-262, "Date Time String Format"): the only form Date.parse
# must read. Fractions of 1-3 digits are how engines read ".sss" in practice.
_ES_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:\d{2})")


def _to_millis_as_strict_as_jsonata_js(timestamp: str | None, picture: str | None = None) -> int | None:
    """Gap: jsonata-python's $toMillis reads any form Python's fromisoformat does (a space for "T",
    no offset, six fraction digits), where jsonata-js checks a loose ISO 8601 pattern and then
    hands the text to Date.parse (src/datetime.js, toMillis), which is sure of ECMAScript's own
    form only: "+0000", a space or a time without offset may give NaN or local time. Which JSONata
    Step Functions runs is undocumented, so only that form is read here (error D3110 otherwise),
    and the loop normalises Glue's timestamps to it (loop.tf, jsonata_timestamp)."""
    if timestamp is None or picture is not None:
        return Functions.datetime_to_millis(timestamp, picture)
    if not _ES_DATE_TIME.fullmatch(timestamp):
        raise JException("D3110", -1, timestamp)
    return Functions.datetime_to_millis(timestamp, None)


# --- Payload quota: task results over 256 KiB --------------------------------------------------
#
# A task whose service answers more than 256 KiB fails with States.DataLimitExceeded, before its
# ResultSelector can shrink the answer: it is raised when "the output of a connector is larger
# than payload size quota", and States.ALL "can't catch the States.DataLimitExceeded terminal
# error" ("Handling errors in Step Functions workflows",
# https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html). The quota is
# "256 KiB of data as a UTF-8 encoded string" ("Step Functions service quotas",
# https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html), the bound of 262,144
# UTF-8 bytes the API reference puts on every state input and output (StateExitedEventDetails).
# A recording against AWS once showed a States.ALL catcher catching the error all the same, so
# templates must depend on neither behaviour: they name States.DataLimitExceeded in a catcher
# of its own, ahead of States.ALL.

_PAYLOAD_QUOTA_BYTES = 256 * 1024
_DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"


def _task_result_within_payload_quota(value: Any) -> bool:
    """Gap: moto checks a task's result once the service has answered, before ResultSelector
    (StateTaskService._after_eval_execution), but measures it as json.dumps writes it by default
    (quotas.is_within_size_quota), with a space after every ',' and ':' and non-ASCII characters
    escaped as \\uXXXX, and fails a result of exactly 262,144 bytes: it fails results AWS takes
    (a Glue graph some percent under the quota). Measured as the UTF-8 bytes of the compact JSON,
    the form in which the execution history reports state data and to which the API reference's
    262,144-byte bound applies."""
    serialized = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return len(serialized.encode()) <= _PAYLOAD_QUOTA_BYTES


def _states_all_misses_data_limit_exceeded(self: ErrorEqualsDecl, env: Environment) -> None:
    """Gap: moto's States.ALL matches every error, States.DataLimitExceeded included
    (ErrorEqualsDecl._eval_body, which both catchers and retriers use). As AWS documents it, only
    a catcher naming the error catches it, and a terminal error is not retried by States.ALL."""
    error_name = env.stack[-1]
    if getattr(error_name, "error_name", None) != _DATA_LIMIT_EXCEEDED:
        _original_error_equals_eval_body(self, env)
        return
    env.stack.pop()
    env.stack.append(any(name.error_name == _DATA_LIMIT_EXCEEDED for name in self.error_names))


# --- EventBridge -------------------------------------------------------------------------------


def _test_event_pattern(self: EventsHandler) -> str:
    """Gap: TestEventPattern is a stub that answers nothing. Answered with the matcher moto
    applies to its own rules' patterns."""
    pattern = EventPattern.load(self._get_param("EventPattern"))
    return json.dumps({"Result": pattern.matches_event(json.loads(self._get_param("Event")))})


# --- Task integrations -------------------------------------------------------------------------


def _lower_camel_sfn_parameters(self: StateTaskService, parameters: dict[str, Any], *args: Any, **kwargs: Any) -> None:
    """Gap: states:startExecution and aws-sdk:sfn:* pass PascalCase parameters (StateMachineArn)
    straight to botocore, whose SFN operations take lowerCamelCase (stateMachineArn)."""
    _original_normalise_parameters(self, parameters, *args, **kwargs)
    if self._get_boto_service_name() == "stepfunctions":
        for key in list(parameters):
            parameters[key[0].lower() + key[1:]] = parameters.pop(key)


# How a task result carries a timestamp is undocumented (loop.tf, jsonata_timestamp): each form
# the loop assumes AWS may use, for tests to switch between (timestamps_as). moto's datetimes are
# naive UTC.
TIMESTAMP_FORMS: dict[str, Callable[[datetime.datetime], Any]] = {
    "isoformat": lambda moment: moment.isoformat(),  # 2026-12-05T01:02:03.123456+00:00
    "zulu": lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
    "zulu-whole-seconds": lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
    "basic-offset": lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%S.%f%z"),  # +0000
    "space": lambda moment: moment.isoformat(sep=" "),
    "epoch-seconds": lambda moment: moment.timestamp(),
}
_timestamp_form = "isoformat"


@contextlib.contextmanager
def timestamps_as(form: str) -> Iterator[None]:
    """Task results carry their timestamps in ``form`` (a key of TIMESTAMP_FORMS) meanwhile."""
    global _timestamp_form
    previous, _timestamp_form = _timestamp_form, form
    try:
        yield
    finally:
        _timestamp_form = previous


def _aws_shaped_response(self: StateTaskService, response: Any, *args: Any, **kwargs: Any) -> None:
    """Gaps: botocore datetimes are left in task results, which breaks the execution's JSON
    output (AWS hands JSON text to the state machine, in a form it does not document: see
    TIMESTAMP_FORMS); and SFN results keep botocore's lowerCamelCase keys where AWS returns
    PascalCase (ExecutionArn, StartDate)."""
    pascal_case = self._get_boto_service_name() == "stepfunctions"
    _to_aws_shape(response, pascal_case)


def as_task_result_timestamp(moment: datetime.datetime, form: str | None = None) -> Any:
    """A datetime as a task result carries it, in ``form`` or the one timestamps_as set."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)
    return TIMESTAMP_FORMS[form or _timestamp_form](aware)


def evaluate_jsonata(expression: str, bindings: dict[str, Any]) -> Any:
    """A JSONata expression of a state ("{% ... %}") evaluated with these variables as the
    emulator's Step Functions evaluates it."""
    return _evaluated(_parsed(expression.removeprefix("{%").removesuffix("%}"), threading.get_ident()), bindings)


def _to_aws_shape(value: Any, pascal_case: bool) -> Any:
    if isinstance(value, datetime.datetime):
        return as_task_result_timestamp(value)
    if isinstance(value, list):
        value[:] = [_to_aws_shape(item, pascal_case) for item in value]
    elif isinstance(value, dict):
        for key in list(value):
            item = _to_aws_shape(value.pop(key), pascal_case)
            value[key[0].upper() + key[1:] if pascal_case else key] = item
    return value


def _named_start_execution(
    self: StepFunctionsParserBackend, state_machine_arn: str, name: str | None, *args: Any
) -> Any:
    """Gap: an execution started without a name is named "None", so the next unnamed one
    collides with it; AWS names it with a UUID."""
    return _original_start_execution(self, state_machine_arn, name or str(uuid.uuid4()), *args)


def _send_task_success_past_starting_executions(
    self: StepFunctionsParserBackend, task_token: str, outcome: str
) -> None:
    """Gap: SendTaskSuccess offers the token to every RUNNING execution and fails with a server
    error (AttributeError, HTTP 500) on one that is listed RUNNING but whose worker has not built
    its environment yet, e.g. a loop's successor that StartExecution has just created. On AWS a
    token belongs to one task and other executions play no part. Those executions hold no
    callback yet, so they are passed over."""
    success = CallbackOutcomeSuccess(callback_id=task_token, output=outcome)
    for execution in self._get_executions(sfn_api.ExecutionStatus.RUNNING):
        worker = execution.exec_worker
        if worker is None or worker.env is None:
            continue
        try:
            if worker.env.callback_pool_manager.notify(callback_id=task_token, outcome=success):
                return
        except CallbackNotifyConsumerError as consumer_error:
            if isinstance(consumer_error, CallbackConsumerTimeout):
                raise sfn_api.TaskTimedOut() from consumer_error  # type: ignore[call-arg]  # _buildable
            raise sfn_api.TaskDoesNotExist() from consumer_error  # type: ignore[call-arg]  # _buildable
    raise sfn_api.InvalidToken()


# --- Glue triggers -------------------------------------------------------------------------------


def _start_trigger_as_glue_does(self: GlueBackend, name: str) -> None:
    """Gap: StartTrigger only sets a trigger's state to ACTIVATED, whatever its type.

    In Glue, starting a trigger activates it, and "when you activate an on-demand trigger, it fires
    immediately" (AWS Glue Developer Guide, "Activating and deactivating triggers",
    https://docs.aws.amazon.com/glue/latest/dg/activate-triggers.html), while on-demand triggers
    "never enter the ACTIVATED or DEACTIVATED state. They always remain in the CREATED state"
    ("AWS Glue triggers", https://docs.aws.amazon.com/glue/latest/dg/about-triggers.html). A
    workflow's on-demand trigger is its start trigger ("Overview of workflows in AWS Glue"), so
    firing it starts a workflow run, through start_workflow_run so that a run simulator patching
    it sees the run. This matters because hashicorp/aws calls StartTrigger when it creates an
    ON_DEMAND aws_glue_trigger with enabled = true, its default (resourceTriggerCreate in
    internal/service/glue/trigger.go): such an apply starts a run. Scheduled and conditional
    triggers are only activated. An on-demand trigger outside a workflow would start its jobs and
    crawlers, which no test here uses: it stays CREATED and starts nothing.
    """
    trigger = self.get_trigger(name)
    if trigger.trigger_type != "ON_DEMAND":
        trigger.start_trigger()
    elif trigger.workflow_name:
        self.start_workflow_run(trigger.workflow_name, None)


def _update_job(self: GlueResponse) -> str:
    """Gap: moto has no UpdateJob (NotImplementedError), which hashicorp/aws calls for any change to an
    aws_glue_job: among them the ExecutionClass that moto gives every job ("STANDARD") and the provider
    reads back as a change from the unset value, so that every apply after the first updates the
    sample's jobs. Glue replaces the whole definition: in JobUpdate, "Unspecified configuration is
    removed or reset to default values" (API reference, "UpdateJob",
    https://docs.aws.amazon.com/glue/latest/webapi/API_UpdateJob.html); the shim makes the job again
    from JobUpdate, keeping its name (and its tags, which UpdateJob does not take)."""
    name = self._get_param("JobName")
    self.glue_backend.get_job(name)  # EntityNotFoundException for a job that does not exist
    update = self._get_param("JobUpdate")
    fields: dict[str, Any] = {re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower(): value for key, value in update.items()}
    create: Callable[..., None] = self.glue_backend.create_job
    arguments = inspect.signature(create).parameters
    create(name=name, tags={}, **{key: fields.get(key) for key in arguments if key not in ("name", "tags")})
    return json.dumps({"JobName": name})


def _deleted_with_its_tags(kind: str, delete: Callable[[GlueBackend, str], None]) -> Callable[[GlueBackend, str], None]:
    """Gap: moto's DeleteJob, DeleteCrawler and DeleteTrigger leave the resource's tags behind (its
    DeleteWorkflow removes them), so the Resource Groups Tagging API still lists a deleted job,
    crawler or trigger, which AWS does not: it returns "only resources that are currently tagged"
    ("GetResources", https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/API_GetResources.html),
    and a deleted resource has no tags. make test-aws reads it for what a destroy left behind."""

    @functools.wraps(delete)
    def deleted(self: GlueBackend, name: str) -> None:
        delete(self, name)
        self.tagger.delete_all_tags_for_resource(
            f"arn:{get_partition(self.region_name)}:glue:{self.region_name}:{self.account_id}:{kind}/{name}"
        )

    return deleted


# --- S3 -----------------------------------------------------------------------------------------


def _bucket_permission_ignoring_conditional_statements(self: FakeBucket, action: str, resource: str) -> Any:
    """Gap: moto applies a bucket policy's statements without evaluating their Condition, so the
    usual TLS-only Deny (aws:SecureTransport = false) denies every request, HTTPS or not. Having
    no request context, the shim leaves conditional statements out (the emulator is plain HTTP)."""
    if self.policy is None:
        return PermissionResult.NEUTRAL
    policy = json.loads(self.policy)
    statements = policy["Statement"] if isinstance(policy["Statement"], list) else [policy["Statement"]]
    policy["Statement"] = [statement for statement in statements if "Condition" not in statement]
    return IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource)


_original_normalise_parameters = StateTaskService._normalise_parameters
_original_start_execution = StepFunctionsParserBackend.start_execution
_original_eval_integration_pattern = StateTaskServiceCallback._eval_integration_pattern
_original_error_equals_eval_body = ErrorEqualsDecl._eval_body
_original_get_bucket_notification = S3Response.get_bucket_notification


def _bucket_notification_with_eventbridge(self: S3Response) -> Any:
    """Gap: moto keeps a bucket's EventBridgeConfiguration (PutBucketNotificationConfiguration) but
    leaves it out of GetBucketNotificationConfiguration, which returns it on AWS (S3 API reference,
    "GetBucketNotificationConfiguration": EventBridgeConfiguration), so hashicorp/aws reads
    aws_s3_bucket_notification's eventbridge back as false. The shim adds it to the result."""
    configuration = self.backend.get_bucket_notification_configuration(self.bucket_name)
    if configuration is None or configuration.event_bridge is None:
        return _original_get_bucket_notification(self)
    serialized = self.serialized

    def with_eventbridge(result: Any) -> Any:
        if isinstance(result, ActionResult) and isinstance(result.result, dict):
            result = ActionResult({**result.result, "EventBridgeConfiguration": {}})
        return serialized(result)

    self.serialized = with_eventbridge  # type: ignore[method-assign,assignment]
    try:
        return _original_get_bucket_notification(self)
    finally:
        del self.serialized


def install() -> None:
    global _installed
    if _installed:
        return
    StepFunctionResponse.validate_state_machine_definition = _validate_state_machine_definition  # type: ignore[attr-defined]
    StepFunctionResponse.list_state_machine_versions = _list_state_machine_versions  # type: ignore[attr-defined]
    StepFunctionResponse.get_execution_history = _execution_history_in_pages  # type: ignore[method-assign]
    Preprocessor.__init__ = _preprocessor_with_scopes_of_its_own  # type: ignore[method-assign,assignment]
    StateTaskServiceCallback._eval_integration_pattern = _token_refused_once_its_wait_timed_out  # type: ignore[method-assign,assignment]
    _buildable(sfn_api.TaskTimedOut, "Task Timed Out: 'Provided task does not exist anymore'")
    _buildable(sfn_api.TaskDoesNotExist, "Task Does Not Exist")
    moto_jsonata._eval_jsonata = _evaluate_jsonata
    state_task_service.is_within_size_quota = _task_result_within_payload_quota
    ErrorEqualsDecl._eval_body = _states_all_misses_data_limit_exceeded  # type: ignore[method-assign]
    EventsHandler.test_event_pattern = _test_event_pattern  # type: ignore[method-assign,assignment]
    StateTaskService._normalise_parameters = _lower_camel_sfn_parameters  # type: ignore[method-assign]
    StateTaskService._normalise_response = _aws_shaped_response  # type: ignore[method-assign]
    StepFunctionsParserBackend.start_execution = _named_start_execution  # type: ignore[method-assign,assignment]
    StepFunctionsParserBackend.send_task_success = _send_task_success_past_starting_executions  # type: ignore[method-assign,assignment]
    FakeBucket.get_permission = _bucket_permission_ignoring_conditional_statements  # type: ignore[method-assign]
    S3Response.get_bucket_notification = _bucket_notification_with_eventbridge  # type: ignore[method-assign]
    GlueBackend.start_trigger = _start_trigger_as_glue_does  # type: ignore[method-assign]
    GlueResponse.update_job = _update_job  # type: ignore[attr-defined]
    GlueBackend.delete_job = _deleted_with_its_tags("job", GlueBackend.delete_job)  # type: ignore[method-assign,assignment]
    GlueBackend.delete_crawler = _deleted_with_its_tags("crawler", GlueBackend.delete_crawler)  # type: ignore[method-assign,assignment]
    GlueBackend.delete_trigger = _deleted_with_its_tags("trigger", GlueBackend.delete_trigger)  # type: ignore[method-assign,assignment]
    # Gap: aws-sdk:glue, aws-sdk:ssm and aws-sdk:cloudwatch errors are named "glue.X", "ssm.X" and
    # "cloudwatch.X"; AWS names them with the PascalCase service name, "Glue.X", "Ssm.X" and "CloudWatch.X".
    state_task_service_aws_sdk._SERVICE_ERROR_NAMES.update(glue="Glue", ssm="Ssm", cloudwatch="CloudWatch")
    _installed = True
