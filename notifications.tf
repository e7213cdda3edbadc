locals {
  notify             = var.create && (var.create_sns_topic || var.sns_topic_arn != null)
  create_sns_kms_key = var.create && var.create_sns_topic && var.sns_topic_kms_key_arn == null
  sns_topic_arn      = var.create_sns_topic ? one(aws_sns_topic.this[*].arn) : var.sns_topic_arn
  sns_kms_key_arn    = local.create_sns_kms_key ? one(aws_kms_key.sns[*].arn) : var.sns_topic_kms_key_arn
}

################################################################################
# Notifications
################################################################################

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
