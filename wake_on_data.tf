locals {
  # wake_on_data: an EventBridge rule on new data starts the callback, which records the arrival
  # and ends the loop's idle wait (statemachine.wake.json, callback.wake.json).
  wake_on_data = local.events_mode && var.wake_on_data.enabled
  # The token table's item for arrivals and the idle wait's token: the workflow's own item holds
  # the token of a run's wait, and the table serves this one workflow, so the key only has to differ.
  data_arrival_key = "${local.glue_workflow_name}#data"
  # The sample workflow's raw sales files, unless a bucket or a pattern of the user's is named.
  use_sample_bucket = var.create && var.create_sample_workflow && var.wake_on_data.bucket_name == null && var.wake_on_data.event_pattern == null
  data_bucket       = local.use_sample_bucket ? one(module.sample_workflow[*].bucket_name) : var.wake_on_data.bucket_name
  data_prefixes     = local.use_sample_bucket ? ["${one(module.sample_workflow[*].data_prefix)}raw/sales/"] : var.wake_on_data.prefixes
  # "Object Created" as S3 sends it to EventBridge (Amazon S3 User Guide, "EventBridge event
  # message structure", https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html), for
  # the bucket and, by EventBridge's prefix filter, the prefixes.
  data_event_pattern = var.wake_on_data.event_pattern != null ? var.wake_on_data.event_pattern : jsonencode({
    source        = ["aws.s3"]
    "detail-type" = ["Object Created"]
    detail = merge(
      { bucket = { name = [local.data_bucket] } },
      length(local.data_prefixes) == 0 ? {} : { object = { key = [for prefix in local.data_prefixes : { prefix = prefix }] } },
    )
  })
}

resource "aws_cloudwatch_event_rule" "data_events" {
  count = local.wake_on_data ? 1 : 0

  name          = "${substr(var.name, 0, 52)}-data-events"
  description   = "New data for the Glue workflow ${local.glue_workflow_name}: ends the ${var.name} loop's idle wait."
  event_pattern = local.data_event_pattern

  tags = merge(var.tags, var.event_rule_tags)

  lifecycle {
    precondition {
      condition     = var.pacing.enabled
      error_message = "wake_on_data ends the idle back-off of pacing: set pacing.enabled to true."
    }
    precondition {
      condition     = var.wake_on_data.event_pattern != null || local.data_bucket != null
      error_message = "wake_on_data needs bucket_name or event_pattern (the sample workflow's bucket serves with create_sample_workflow)."
    }
    precondition {
      condition     = length(local.data_event_pattern) <= local.event_pattern_quota
      error_message = "The data rule's event pattern would be ${length(local.data_event_pattern)} characters, over EventBridge's default quota of ${local.event_pattern_quota}: name fewer prefixes."
    }
  }
}

resource "aws_cloudwatch_event_target" "wake" {
  count = local.wake_on_data ? 1 : 0

  rule     = aws_cloudwatch_event_rule.data_events[0].name
  arn      = aws_sfn_state_machine.callback[0].arn
  role_arn = local.create_role ? aws_iam_role.events[0].arn : var.event_rule_role_arn

  # The callback needs only when the data landed: every event has a time ("Amazon EventBridge
  # events", https://docs.aws.amazon.com/eventbridge/latest/ref/overiew-event-structure.html), and a
  # pattern of the user's may match events of any shape.
  input_transformer {
    input_paths    = { time = "$.time" }
    input_template = "{\"data_arrived_at\": <time>}"
  }

  # An arrival older than the longest back-off cannot end a wait that is still going.
  retry_policy {
    maximum_event_age_in_seconds = max(60, var.pacing.max_seconds)
    maximum_retry_attempts       = 10
  }

  dynamic "dead_letter_config" {
    for_each = local.create_event_dlq ? [1] : []
    content {
      arn = aws_sqs_queue.event_dlq[0].arn
    }
  }
}

# Terraform cannot read a bucket's EventBridge setting (no data source has it), and S3 sends no
# event without it ("Enabling Amazon EventBridge",
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-event-notifications-eventbridge.html).
check "data_bucket_sends_events" {
  assert {
    condition     = !local.wake_on_data || var.wake_on_data.bucket_name == null
    error_message = "wake_on_data: S3 sends Object Created events of ${coalesce(var.wake_on_data.bucket_name, "-")} to EventBridge only with the bucket's EventBridge notifications on (aws_s3_bucket_notification with eventbridge = true), which this module cannot see. Without them the loop still runs, after each back-off."
  }
}
