locals {
  # History budget: a poll of a running run costs these events (poll mode: Wait, GetWorkflowRun
  # task counting the poll in a variable, Choice: 2 + 5 + 2; events mode: a token wait that times
  # out, then the same task and Choice: 6 + 5 + 2), a run started in the execution costs the
  # run's other events (all measured in the tests), and the reserve holds the rest, retries
  # included. AWS's hard quota is 25,000 events.
  history_event_budget    = 20000
  history_events_per_poll = { poll = 9, events = 13 }
  history_events_per_run  = 27
  history_event_reserve   = 200
  max_polls_per_execution = var.max_polls_per_execution > 0 ? var.max_polls_per_execution : floor(
    (local.history_event_budget - local.history_event_reserve - var.runs_per_execution * local.history_events_per_run) / local.history_events_per_poll[var.completion_mode]
  )

  # A kind of unsuccessful action that must never stop the loop gets a threshold no run reaches.
  never = 2147483647
  tolerated = {
    for kind in ["failed", "timed_out", "stopped", "errored"] :
    kind => var.stop_policy["stop_on_${kind}_actions"] ? var.stop_policy.tolerated_actions : local.never
  }

  pause_parameter_name = var.create && var.create_pause_parameter ? coalesce(var.pause_parameter_name, "/glue-workflow-loop/${var.name}/paused") : ""
  notify               = var.create && (var.create_sns_topic || var.sns_topic_arn != "")
  create_sns_kms_key   = var.create && var.create_sns_topic && var.sns_topic_kms_key_arn == ""
  sns_topic_arn        = var.create_sns_topic ? one(aws_sns_topic.this[*].arn) : var.sns_topic_arn
  sns_kms_key_arn      = local.create_sns_kms_key ? one(aws_kms_key.sns[*].arn) : var.sns_topic_kms_key_arn

  # Without create there is no sample workflow, yet the definitions below are still rendered (templatefile refuses null).
  glue_workflow_name = !var.create_sample_workflow ? var.glue_workflow_name : var.create ? module.sample_workflow[0].workflow_name : ""

  create_role      = var.create && var.create_role
  logging_enabled  = var.create && var.logging.level != "OFF"
  create_log_group = local.logging_enabled && !var.use_existing_cloudwatch_log_group

  role_name = coalesce(var.role_name, var.name)
  log_group_arn = local.logging_enabled ? (
    local.create_log_group ? aws_cloudwatch_log_group.this[0].arn : var.cloudwatch_log_group_arn
  ) : null

  # The workflow ARN is built from the state machine's own ARN so the module needs no
  # aws_region lookup (whose attributes differ between provider 5.x and 6.x).
  state_machine_arn = one(aws_sfn_state_machine.this[*].arn)
  glue_workflow_arn = one([
    for arn in aws_sfn_state_machine.this[*].arn :
    format("arn:%s:glue:%s:%s:workflow/%s", split(":", arn)[1], split(":", arn)[3], split(":", arn)[4], local.glue_workflow_name)
  ])
  # Events mode: EventBridge starts the callback state machine for every terminal state of the
  # workflow's jobs and crawlers; it returns the waiting execution's token once the run has ended.
  events_mode         = var.create && var.completion_mode == "events"
  token_table_name    = coalesce(var.token_table_name, "${var.name}-task-tokens")
  event_job_names     = !local.events_mode ? [] : var.create_sample_workflow ? values(one(module.sample_workflow[*].job_names)) : var.completion_events.job_names
  event_crawler_names = !local.events_mode ? [] : var.create_sample_workflow ? values(one(module.sample_workflow[*].crawler_names)) : var.completion_events.crawler_names
  # The sample workflow's names are few and short: prefixes are for workflows of many names.
  event_job_prefixes     = !local.events_mode || var.create_sample_workflow ? [] : var.completion_events.job_name_prefixes
  event_crawler_prefixes = !local.events_mode || var.create_sample_workflow ? [] : var.completion_events.crawler_name_prefixes
  # Glue sends "Glue Job State Change" for SUCCEEDED, FAILED, TIMEOUT and STOPPED only, and
  # "Glue Crawler State Change" for Started, Succeeded and Failed:
  # https://docs.aws.amazon.com/glue/latest/dg/automating-awsglue-with-cloudwatch-events.html
  # Names are matched exactly and prefixes by EventBridge's prefix filter, each in a filter of its
  # own, as AWS documents neither kind mixed in one array:
  # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html
  event_filters = concat(
    length(local.event_job_names) == 0 ? [] : [{
      "detail-type" = ["Glue Job State Change"]
      detail        = { jobName = local.event_job_names, state = ["SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED"] }
    }],
    length(local.event_job_prefixes) == 0 ? [] : [{
      "detail-type" = ["Glue Job State Change"]
      detail        = { jobName = [for prefix in local.event_job_prefixes : { prefix = prefix }], state = ["SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED"] }
    }],
    length(local.event_crawler_names) == 0 ? [] : [{
      "detail-type" = ["Glue Crawler State Change"]
      detail        = { crawlerName = local.event_crawler_names, state = ["Succeeded", "Failed"] }
    }],
    length(local.event_crawler_prefixes) == 0 ? [] : [{
      "detail-type" = ["Glue Crawler State Change"]
      detail        = { crawlerName = [for prefix in local.event_crawler_prefixes : { prefix = prefix }], state = ["Succeeded", "Failed"] }
    }],
  )
  event_pattern = length(local.event_filters) > 1 ? jsonencode({ source = ["aws.glue"], "$or" = local.event_filters }) : jsonencode(merge({ source = ["aws.glue"] }, one(local.event_filters)))
  # EventBridge's default quota for an event pattern is 2,048 characters (adjustable):
  # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html. The provider checks
  # only 4,096, so a longer pattern would pass the plan and fail at apply.
  event_pattern_quota = 2048
  token_table_arn     = one(aws_dynamodb_table.tokens[*].arn)

  # Every ARN and the console link follow the partition (aws, aws-cn, aws-us-gov): the service
  # integrations' Resource ARNs carry it, and each partition has its own console domain. The link
  # names the region as ?region=, which every partition's console takes; regional console
  # subdomains are documented for the aws partition only.
  partition = try(data.aws_partition.current[0].partition, "aws")
  console_domain = lookup({
    aws          = "console.aws.amazon.com"
    "aws-cn"     = "console.amazonaws.cn"
    "aws-us-gov" = "console.amazonaws-us-gov.com"
  }, local.partition, "console.aws.amazon.com")

  # Each role that a service assumes trusts it only on behalf of this account's own resource (the
  # confused deputy guard AWS recommends). The state machines name their roles, so their roles
  # exist first and name the machines by ARNs built here rather than read from them.
  account_id = one(data.aws_caller_identity.current[*].account_id)
  state_machine_names = {
    loop     = var.name
    callback = "${var.name}-callback"
  }

  loop_template_variables = {
    partition          = local.partition
    console_domain     = local.console_domain
    glue_workflow_name = local.glue_workflow_name
    token_table_name   = local.token_table_name
  }
  # The settings the loop reads from $.config, as JSON values: ApplyDefaults gets them here rather
  # than from the template, where a number could only be a string or an intrinsic.
  loop_config = {
    poll_interval_seconds   = var.poll_interval_seconds
    safety_poll_seconds     = var.completion_events.safety_poll_seconds
    max_polls_per_execution = local.max_polls_per_execution
    cooldown_seconds        = var.cooldown_seconds
    max_runs                = var.max_runs
    runs_per_execution      = var.runs_per_execution
    tolerated               = local.tolerated
    adopt_run_in_flight     = var.adopt_run_in_flight
    pause_parameter         = local.pause_parameter_name
    sns_topic_arn           = local.notify ? local.sns_topic_arn : ""
  }
  poll_template = jsondecode(templatefile("${path.module}/statemachine.asl.json", local.loop_template_variables))
  poll_states = merge(local.poll_template.States, {
    ApplyDefaults = merge(local.poll_template.States.ApplyDefaults, {
      Parameters = merge(local.poll_template.States.ApplyDefaults.Parameters, { config = local.loop_config })
    })
  })
  # Events mode swaps the WaitForRun state for a token wait (and its fallback) from statemachine.events.json.
  events_states = jsondecode(templatefile("${path.module}/statemachine.events.json", local.loop_template_variables))
  loop_definition = (var.completion_mode == "poll"
    ? jsonencode(merge(local.poll_template, { States = local.poll_states }))
    : jsonencode(merge(local.poll_template, { States = merge(local.poll_states, local.events_states) }))
  )

  start_loop_command = one([
    for arn in aws_sfn_state_machine.this[*].arn :
    "aws stepfunctions start-execution --state-machine-arn ${arn} --input '${jsonencode({ run_properties = {} })}'"
  ])
}

################################################################################
# State machine
################################################################################

resource "aws_sfn_state_machine" "this" {
  count = var.create ? 1 : 0

  name       = var.name
  type       = "STANDARD"
  role_arn   = local.create_role ? aws_iam_role.this[0].arn : var.role_arn
  definition = local.loop_definition

  dynamic "logging_configuration" {
    for_each = local.logging_enabled ? [1] : []
    content {
      level                  = var.logging.level
      include_execution_data = var.logging.include_execution_data
      log_destination        = "${local.log_group_arn}:*"
    }
  }

  tracing_configuration {
    enabled = var.tracing_enabled
  }

  tags = merge(var.tags, var.state_machine_tags)

  lifecycle {
    precondition {
      condition     = var.create_sample_workflow || var.glue_workflow_name != ""
      error_message = "glue_workflow_name must be set unless create_sample_workflow is true."
    }
    precondition {
      condition     = var.create_role || var.role_arn != ""
      error_message = "role_arn must be set when create_role is false."
    }
    precondition {
      condition     = !var.use_existing_cloudwatch_log_group || var.cloudwatch_log_group_arn != "" || var.logging.level == "OFF"
      error_message = "cloudwatch_log_group_arn must be set when use_existing_cloudwatch_log_group is true."
    }
  }

  # Step Functions checks at creation that the role may deliver logs, so that policy must exist first.
  depends_on = [aws_iam_role_policy.observability]
}

################################################################################
# Sample workflow
################################################################################

module "sample_workflow" {
  source = "./modules/sample-glue-workflow"
  count  = var.create && var.create_sample_workflow ? 1 : 0

  name                 = coalesce(var.sample_workflow.name, var.name)
  create_bucket        = var.sample_workflow.create_bucket
  bucket_name          = var.sample_workflow.bucket_name
  bucket_force_destroy = var.sample_workflow.bucket_force_destroy
  upload_sample_data   = var.sample_workflow.upload_sample_data
  job_timeout_minutes  = var.sample_workflow.job_timeout_minutes

  tags = var.tags
}

################################################################################
# Logging
################################################################################

resource "aws_cloudwatch_log_group" "this" {
  count = local.create_log_group ? 1 : 0

  name              = coalesce(var.cloudwatch_log_group_name, "/aws/vendedlogs/states/${var.name}")
  retention_in_days = var.cloudwatch_log_group_retention_in_days
  kms_key_id        = var.cloudwatch_log_group_kms_key_id != "" ? var.cloudwatch_log_group_kms_key_id : null

  tags = merge(var.tags, var.cloudwatch_log_group_tags)
}

################################################################################
# IAM role
################################################################################

# Step Functions assumes a state machine's role with aws:SourceArn set to the state machine's ARN
# and aws:SourceAccount to its account; AWS recommends trusting it on both conditions ("Prevent
# cross-service confused deputy issue",
# https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html), so the loop
# and the callback each get a document naming their own state machine. The ARN's region is a
# wildcard (ArnLike, as in AWS's example): nothing created before the role carries the region, and
# data "aws_region" reads it through attributes deprecated in one provider major or the other. A
# state machine of the same name in this account in another region is all the wildcard admits.
data "aws_iam_policy_document" "assume_role" {
  for_each = { for role, state_machine in local.state_machine_names : role => state_machine if local.create_role && (role == "loop" || local.events_mode) }

  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:states:*:${local.account_id}:stateMachine:${each.value}"]
    }
  }
}

resource "aws_iam_role" "this" {
  count = local.create_role ? 1 : 0

  name                 = local.role_name
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary != "" ? var.role_permissions_boundary : null
  assume_role_policy   = data.aws_iam_policy_document.assume_role["loop"].json

  tags = merge(var.tags, var.role_tags)
}

data "aws_iam_policy_document" "loop" {
  count = local.create_role ? 1 : 0

  statement {
    sid       = "RunTheGlueWorkflow"
    actions   = ["glue:StartWorkflowRun", "glue:GetWorkflowRun", "glue:GetWorkflow"]
    resources = [local.glue_workflow_arn]
  }

  statement {
    sid       = "ContinueAsNewExecution"
    actions   = ["states:StartExecution"]
    resources = [local.state_machine_arn]
  }

  dynamic "statement" {
    for_each = local.events_mode ? [1] : []
    content {
      sid       = "LeaveTaskTokenForEvents"
      actions   = ["dynamodb:PutItem"]
      resources = [local.token_table_arn]
    }
  }

  dynamic "statement" {
    for_each = local.events_mode && var.token_table_kms_key_arn != "" ? [1] : []
    content {
      sid       = "UseTheTokenTableKey"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [var.token_table_kms_key_arn]
    }
  }

  dynamic "statement" {
    for_each = local.pause_parameter_name != "" ? [1] : []
    content {
      sid       = "ReadPauseFlag"
      actions   = ["ssm:GetParameter"]
      resources = [aws_ssm_parameter.pause[0].arn]
    }
  }

  dynamic "statement" {
    for_each = local.notify ? [1] : []
    content {
      sid       = "AnnounceStops"
      actions   = ["sns:Publish"]
      resources = [local.sns_topic_arn]
    }
  }

  dynamic "statement" {
    for_each = local.notify && local.sns_kms_key_arn != "" ? [1] : []
    content {
      sid       = "UseTheTopicKey"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [local.sns_kms_key_arn]
    }
  }
}

resource "aws_iam_role_policy" "loop" {
  count = local.create_role ? 1 : 0

  name   = "glue-workflow-loop"
  role   = aws_iam_role.this[0].id
  policy = data.aws_iam_policy_document.loop[0].json
}

data "aws_iam_policy_document" "observability" {
  count = local.create_role && (local.logging_enabled || var.tracing_enabled) ? 1 : 0

  dynamic "statement" {
    for_each = local.logging_enabled ? [1] : []
    content {
      # Log delivery actions do not support resource-level permissions:
      # https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html
      sid = "DeliverExecutionLogs"
      actions = [
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
      ]
      resources = ["*"]
    }
  }

  dynamic "statement" {
    for_each = var.tracing_enabled ? [1] : []
    content {
      # X-Ray trace submission does not support resource-level permissions.
      sid = "SendTraces"
      actions = [
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
      ]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "observability" {
  count = local.create_role && (local.logging_enabled || var.tracing_enabled) ? 1 : 0

  name   = "logs-and-traces"
  role   = aws_iam_role.this[0].id
  policy = data.aws_iam_policy_document.observability[0].json
}

################################################################################
# Events mode: token table, callback state machine, EventBridge rule
################################################################################

resource "aws_dynamodb_table" "tokens" {
  #checkov:skip=CKV_AWS_28:A token lives minutes and is worthless once its wait has ended; there is nothing to restore.
  #checkov:skip=CKV_AWS_119:Encrypted with the AWS managed key unless token_table_kms_key_arn names a customer managed one.
  count = local.events_mode ? 1 : 0

  name         = local.token_table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "workflow"

  attribute {
    name = "workflow"
    type = "S"
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.token_table_kms_key_arn != "" ? var.token_table_kms_key_arn : null
  }

  # The loop stamps each token with an expiry an hour after its wait would time out.
  ttl {
    enabled        = true
    attribute_name = "expires_at"
  }

  tags = merge(var.tags, var.token_table_tags)
}

locals {
  callback_template = jsondecode(templatefile("${path.module}/callback.asl.json", {
    partition          = local.partition
    glue_workflow_name = local.glue_workflow_name
    token_table_name   = local.token_table_name
  }))
  callback_begin = local.callback_template.States.Begin
  # The watch's limit reaches Begin as a JSON number, set here as the loop's settings are.
  callback_definition = jsonencode(merge(local.callback_template, {
    States = merge(local.callback_template.States, {
      Begin = merge(local.callback_begin, {
        Parameters = merge(local.callback_begin.Parameters, {
          watch = merge(local.callback_begin.Parameters.watch, { limit = var.completion_events.callback_watch_seconds })
        })
      })
    })
  }))
}

resource "aws_sfn_state_machine" "callback" {
  count = local.events_mode ? 1 : 0

  name       = local.state_machine_names.callback
  type       = "EXPRESS"
  role_arn   = local.create_role ? aws_iam_role.callback[0].arn : var.callback_role_arn
  definition = local.callback_definition

  dynamic "logging_configuration" {
    for_each = local.logging_enabled ? [1] : []
    content {
      level                  = var.logging.level
      include_execution_data = var.logging.include_execution_data
      log_destination        = "${local.log_group_arn}:*"
    }
  }

  tracing_configuration {
    enabled = var.tracing_enabled
  }

  tags = merge(var.tags, var.callback_state_machine_tags)

  lifecycle {
    precondition {
      condition     = var.create_role || var.callback_role_arn != ""
      error_message = "callback_role_arn must be set when create_role is false and completion_mode is \"events\"."
    }
  }

  depends_on = [aws_iam_role_policy.callback_observability]
}

resource "aws_cloudwatch_event_rule" "glue_events" {
  count = local.events_mode ? 1 : 0

  name          = "${substr(var.name, 0, 52)}-glue-events"
  description   = "Terminal states of the Glue workflow ${local.glue_workflow_name}'s jobs and crawlers: wake the ${var.name} loop."
  event_pattern = local.event_pattern

  tags = merge(var.tags, var.event_rule_tags)

  lifecycle {
    precondition {
      condition     = length(local.event_filters) > 0
      error_message = "completion_mode \"events\" needs completion_events.job_names, crawler_names, job_name_prefixes or crawler_name_prefixes (the sample workflow provides its names)."
    }
    precondition {
      condition     = length(local.event_pattern) <= local.event_pattern_quota
      error_message = "The rule's event pattern would be ${length(local.event_pattern)} characters, over EventBridge's default quota of ${local.event_pattern_quota} characters for an event pattern: name the jobs and crawlers by their common prefixes in completion_events.job_name_prefixes and crawler_name_prefixes instead of listing them all."
    }
  }
}

resource "aws_cloudwatch_event_target" "callback" {
  count = local.events_mode ? 1 : 0

  rule     = aws_cloudwatch_event_rule.glue_events[0].name
  arn      = aws_sfn_state_machine.callback[0].arn
  role_arn = local.create_role ? aws_iam_role.events[0].arn : var.event_rule_role_arn

  # An event older than a safety poll is of no use: the poll has looked at the run by then.
  retry_policy {
    maximum_event_age_in_seconds = max(60, var.completion_events.safety_poll_seconds)
    maximum_retry_attempts       = 10
  }

  lifecycle {
    precondition {
      condition     = var.create_role || var.event_rule_role_arn != ""
      error_message = "event_rule_role_arn must be set when create_role is false and completion_mode is \"events\"."
    }
  }
}

resource "aws_iam_role" "callback" {
  count = local.create_role && local.events_mode ? 1 : 0

  name                 = "${substr(local.role_name, 0, 55)}-callback"
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary != "" ? var.role_permissions_boundary : null
  assume_role_policy   = data.aws_iam_policy_document.assume_role["callback"].json

  tags = merge(var.tags, var.role_tags)
}

data "aws_iam_policy_document" "callback" {
  count = local.create_role && local.events_mode ? 1 : 0

  statement {
    sid       = "TakeTheTaskToken"
    actions   = ["dynamodb:GetItem", "dynamodb:DeleteItem"]
    resources = [local.token_table_arn]
  }

  statement {
    sid       = "ReadTheRun"
    actions   = ["glue:GetWorkflowRun"]
    resources = [local.glue_workflow_arn]
  }

  statement {
    # SendTaskSuccess supports no resource-level permissions (the task token names the task), so a
    # state machine ARN here would allow nothing; "*" is the only resource it takes:
    # https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsstepfunctions.html
    sid       = "WakeTheLoop"
    actions   = ["states:SendTaskSuccess"]
    resources = ["*"]
  }

  dynamic "statement" {
    for_each = var.token_table_kms_key_arn != "" ? [1] : []
    content {
      sid       = "UseTheTokenTableKey"
      actions   = ["kms:Decrypt"]
      resources = [var.token_table_kms_key_arn]
    }
  }
}

resource "aws_iam_role_policy" "callback" {
  count = local.create_role && local.events_mode ? 1 : 0

  name   = "glue-workflow-loop-callback"
  role   = aws_iam_role.callback[0].id
  policy = data.aws_iam_policy_document.callback[0].json
}

resource "aws_iam_role_policy" "callback_observability" {
  count = local.create_role && local.events_mode && (local.logging_enabled || var.tracing_enabled) ? 1 : 0

  name   = "logs-and-traces"
  role   = aws_iam_role.callback[0].id
  policy = data.aws_iam_policy_document.observability[0].json
}

# For a rule's target, EventBridge sets aws:SourceArn to the rule's ARN ("Cross-service confused
# deputy prevention in Amazon EventBridge",
# https://docs.aws.amazon.com/eventbridge/latest/userguide/cross-service-confused-deputy-prevention.html).
# The rule does not depend on this role (its target does), so its real ARN is read.
data "aws_iam_policy_document" "events_assume_role" {
  count = local.create_role && local.events_mode ? 1 : 0

  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.glue_events[0].arn]
    }
  }
}

resource "aws_iam_role" "events" {
  count = local.create_role && local.events_mode ? 1 : 0

  name                 = "${substr(local.role_name, 0, 57)}-events"
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary != "" ? var.role_permissions_boundary : null
  assume_role_policy   = data.aws_iam_policy_document.events_assume_role[0].json

  tags = merge(var.tags, var.role_tags)
}

data "aws_iam_policy_document" "events" {
  count = local.create_role && local.events_mode ? 1 : 0

  statement {
    sid       = "StartTheCallback"
    actions   = ["states:StartExecution"]
    resources = [aws_sfn_state_machine.callback[0].arn]
  }
}

resource "aws_iam_role_policy" "events" {
  count = local.create_role && local.events_mode ? 1 : 0

  name   = "start-glue-workflow-loop-callback"
  role   = aws_iam_role.events[0].id
  policy = data.aws_iam_policy_document.events[0].json
}

################################################################################
# Pause flag
################################################################################

resource "aws_ssm_parameter" "pause" {
  #checkov:skip=CKV2_AWS_34:A pause flag holds no secret; encrypting it would only add a KMS grant to every reader.
  count = local.pause_parameter_name != "" ? 1 : 0

  name        = local.pause_parameter_name
  description = "Set to true to pause the ${var.name} loop after its run in flight; set back to false and start an execution to resume."
  type        = "String"
  value       = "false"

  tags = var.tags

  # Operators flip the value; Terraform only creates the parameter.
  lifecycle {
    ignore_changes = [value]
  }
}

################################################################################
# Notifications
################################################################################

data "aws_caller_identity" "current" {
  count = local.create_role || local.create_sns_kms_key ? 1 : 0
}

data "aws_partition" "current" {
  count = var.create ? 1 : 0
}

data "aws_iam_policy_document" "sns_kms_key" {
  #checkov:skip=CKV_AWS_109:In a key policy Resource "*" is this key alone; the account statement is AWS's default key policy.
  #checkov:skip=CKV_AWS_111:In a key policy Resource "*" is this key alone; the account statement is AWS's default key policy.
  #checkov:skip=CKV_AWS_356:In a key policy Resource "*" is this key alone, and no narrower resource exists.
  count = local.create_sns_kms_key ? 1 : 0

  statement {
    sid       = "AccountAdministersTheKey"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current[0].partition}:iam::${data.aws_caller_identity.current[0].account_id}:root"]
    }
  }

  statement {
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["kms:GenerateDataKey*", "kms:Decrypt"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
  }
}

resource "aws_kms_key" "sns" {
  count = local.create_sns_kms_key ? 1 : 0

  description         = "Encrypts the ${var.name} loop's SNS topic."
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.sns_kms_key[0].json

  tags = merge(var.tags, var.sns_topic_tags)
}

resource "aws_sns_topic" "this" {
  count = var.create && var.create_sns_topic ? 1 : 0

  name              = var.name
  kms_master_key_id = local.sns_kms_key_arn

  tags = merge(var.tags, var.sns_topic_tags)
}

resource "aws_cloudwatch_metric_alarm" "executions_failed" {
  count = var.create && var.create_alarm ? 1 : 0

  alarm_name          = "${var.name}-executions-failed"
  alarm_description   = "An execution of the ${var.name} loop failed, timed out or was aborted: the loop has stopped."
  comparison_operator = "GreaterThanOrEqualToThreshold"
  evaluation_periods  = 1
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.notify ? [local.sns_topic_arn] : []

  metric_query {
    id          = "stopped"
    expression  = "failed + timed_out + aborted"
    label       = "Executions that stopped the loop"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = { failed = "ExecutionsFailed", timed_out = "ExecutionsTimedOut", aborted = "ExecutionsAborted" }
    content {
      id = metric_query.key
      metric {
        namespace   = "AWS/States"
        metric_name = metric_query.value
        period      = 300
        stat        = "Sum"
        dimensions = {
          StateMachineArn = local.state_machine_arn
        }
      }
    }
  }

  tags = var.tags
}
