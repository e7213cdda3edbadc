locals {
  # Events mode: EventBridge starts the callback state machine for every terminal state of the
  # workflow's jobs and crawlers; it returns the waiting execution's token once the run has ended.
  events_mode      = var.create && var.completion_mode == "events"
  create_event_dlq = local.events_mode && var.create_event_dead_letter_queue
  # A key of the user's, or one created for the queue.
  create_event_dlq_kms_key = local.create_event_dlq && var.event_dead_letter_queue_kms_key_arn == null
  event_dlq_kms_key_arn    = local.create_event_dlq_kms_key ? one(aws_kms_key.event_dlq[*].arn) : var.event_dead_letter_queue_kms_key_arn
  # The queue's policy names the queue, so its ARN is built, in the rule's region and account.
  event_dlq_name = "${substr(var.name, 0, 62)}-glue-events-dlq"
  event_dlq_arn = one([
    for arn in aws_cloudwatch_event_rule.glue_events[*].arn :
    format("arn:%s:sqs:%s:%s:%s", split(":", arn)[1], split(":", arn)[3], split(":", arn)[4], local.event_dlq_name)
  ])
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
  # The rules whose targets start the callback and may dead-letter to its queue: Glue's events,
  # and new data's with wake_on_data (wake_on_data.tf).
  event_rule_arns = concat(aws_cloudwatch_event_rule.glue_events[*].arn, aws_cloudwatch_event_rule.data_events[*].arn)
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
    kms_key_arn = var.token_table_kms_key_arn
  }

  # The loop stamps each token with an expiry an hour after its wait would time out.
  ttl {
    enabled        = true
    attribute_name = "expires_at"
  }

  tags = merge(var.tags, var.token_table_tags)
}

locals {
  callback_template = jsondecode(local.definition_texts["callback.asl.json"])
  # wake_on_data: an event of new data takes its own way, from Begin (callback.wake.json).
  callback_wake_states = { for name, state in jsondecode(local.definition_texts["callback.wake.json"]) : name => state if local.wake_on_data }
  callback_begin       = local.callback_template.States.Begin
  # The watch's limit reaches Begin as a JSON number, and the idle mark's name as a value, set here
  # as the loop's settings are.
  callback_definition = jsonencode(merge(local.callback_template, {
    States = merge(local.callback_template.States, local.callback_wake_states, {
      Begin = merge(local.callback_begin, {
        Next = local.wake_on_data ? "IsDataArrival" : local.callback_begin.Next
        Parameters = merge(local.callback_begin.Parameters, {
          watch         = merge(local.callback_begin.Parameters.watch, { limit = var.completion_events.callback_watch_seconds })
          idle_property = var.pacing.idle_property
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
      condition     = var.create_role || var.callback_role_arn != null
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

  # An event that could not be delivered (retries spent, or refused: a role that may not start the
  # callback, a callback that is gone) goes to the queue, and its alarm says so, rather than only
  # the safety poll noticing, late and silently.
  dynamic "dead_letter_config" {
    for_each = local.create_event_dlq ? [1] : []
    content {
      arn = aws_sqs_queue.event_dlq[0].arn
    }
  }

  lifecycle {
    precondition {
      condition     = var.create_role || var.event_rule_role_arn != null
      error_message = "event_rule_role_arn must be set when create_role is false and completion_mode is \"events\"."
    }
  }
}

resource "aws_iam_role" "callback" {
  count = local.create_role && local.events_mode ? 1 : 0

  name                 = "${substr(local.role_name, 0, 55)}-callback"
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary
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

  dynamic "statement" {
    for_each = local.wake_on_data ? [1] : []
    content {
      sid       = "RecordDataArrivals"
      actions   = ["dynamodb:UpdateItem"]
      resources = [local.token_table_arn]
    }
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
    for_each = var.token_table_kms_key_arn != null ? [1] : []
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
      values   = local.event_rule_arns
    }
  }
}

resource "aws_iam_role" "events" {
  count = local.create_role && local.events_mode ? 1 : 0

  name                 = "${substr(local.role_name, 0, 57)}-events"
  path                 = var.role_path
  permissions_boundary = var.role_permissions_boundary
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
# Dead-letter queue of the EventBridge target
################################################################################

# EventBridge sends an event it could not deliver to the target's dead-letter queue, an SQS queue
# whose policy lets events.amazonaws.com send for this rule, and whose customer managed key (an
# AWS managed key's policy cannot grant EventBridge) lets EventBridge use it ("Using dead-letter
# queues to process undelivered events",
# https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-event-delivery.html#eb-rule-dlq).
data "aws_iam_policy_document" "event_dlq_kms_key" {
  #checkov:skip=CKV_AWS_109:In a key policy Resource "*" is this key alone; the account statement is AWS's default key policy.
  #checkov:skip=CKV_AWS_111:In a key policy Resource "*" is this key alone; the account statement is AWS's default key policy.
  #checkov:skip=CKV_AWS_356:In a key policy Resource "*" is this key alone, and no narrower resource exists.
  count = local.create_event_dlq_kms_key ? 1 : 0

  statement {
    sid       = "AccountAdministersTheKey"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "EventBridgeSendsDeadLetters"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = local.event_rule_arns
    }
  }
}

resource "aws_kms_key" "event_dlq" {
  count = local.create_event_dlq_kms_key ? 1 : 0

  description         = "Encrypts the ${var.name} loop's dead-letter queue of Glue events."
  enable_key_rotation = true
  policy              = data.aws_iam_policy_document.event_dlq_kms_key[0].json

  tags = merge(var.tags, var.event_dead_letter_queue_tags)
}

resource "aws_sqs_queue" "event_dlq" {
  count = local.create_event_dlq ? 1 : 0

  name = local.event_dlq_name
  # SQS keeps a message 14 days at most: time to find why the events were not delivered.
  message_retention_seconds = 1209600
  kms_master_key_id         = local.event_dlq_kms_key_arn
  policy                    = data.aws_iam_policy_document.event_dlq[0].json

  tags = merge(var.tags, var.event_dead_letter_queue_tags)
}

data "aws_iam_policy_document" "event_dlq" {
  count = local.create_event_dlq ? 1 : 0

  statement {
    sid       = "EventBridgeSendsDeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [local.event_dlq_arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = local.event_rule_arns
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "event_dlq" {
  count = local.create_event_dlq ? 1 : 0

  alarm_name          = "${var.name}-glue-events-undelivered"
  alarm_description   = "A Glue event could not wake the ${var.name} loop and is in ${aws_sqs_queue.event_dlq[0].name}: the loop notices its run only at the next safety poll. The message's attributes say why (ERROR_CODE, ERROR_MESSAGE)."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.event_dlq[0].name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.notify ? [local.sns_topic_arn] : []

  tags = merge(var.tags, var.event_dead_letter_queue_tags)
}
