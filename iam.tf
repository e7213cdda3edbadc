locals {
  create_role = var.create && var.create_role
  role_name   = coalesce(var.role_name, var.name)
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
  permissions_boundary = var.role_permissions_boundary
  assume_role_policy   = data.aws_iam_policy_document.assume_role["loop"].json

  tags = merge(var.tags, var.role_tags)
}

data "aws_iam_policy_document" "loop" {
  count = local.create_role ? 1 : 0

  statement {
    sid       = "RunTheGlueWorkflow"
    actions   = ["glue:StartWorkflowRun", "glue:GetWorkflowRun", "glue:GetWorkflowRuns", "glue:GetWorkflow"]
    resources = [local.glue_workflow_arn]
  }

  dynamic "statement" {
    for_each = var.recovery.enabled ? [1] : []
    content {
      sid       = "ResumeFailedNodes"
      actions   = ["glue:ResumeWorkflowRun"]
      resources = [local.glue_workflow_arn]
    }
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
    for_each = local.wake_on_data ? [1] : []
    content {
      sid       = "WaitForDataOrBackOff"
      actions   = ["dynamodb:UpdateItem"]
      resources = [local.token_table_arn]
    }
  }

  dynamic "statement" {
    for_each = local.events_mode && var.token_table_kms_key_arn != null ? [1] : []
    content {
      sid       = "UseTheTokenTableKey"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [var.token_table_kms_key_arn]
    }
  }

  dynamic "statement" {
    for_each = local.pause_parameter_name != null ? [1] : []
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
    for_each = local.notify && local.sns_kms_key_arn != null ? [1] : []
    content {
      sid       = "UseTheTopicKey"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [local.sns_kms_key_arn]
    }
  }

  dynamic "statement" {
    for_each = var.metrics.enabled ? [1] : []
    content {
      # PutMetricData names no resource (the Service Authorization Reference lists only an optional
      # OTLP dataset), so the namespace condition is what scopes it, as in AWS's example: "Using
      # condition keys to limit access to CloudWatch namespaces",
      # https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/iam-cw-condition-keys-namespace.html
      sid       = "PublishRunMetrics"
      actions   = ["cloudwatch:PutMetricData"]
      resources = ["*"]
      condition {
        test     = "StringEquals"
        variable = "cloudwatch:namespace"
        values   = [var.metrics.namespace]
      }
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
