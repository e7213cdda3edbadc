locals {
  create_bucket = var.create && var.create_bucket
  bucket        = local.create_bucket ? aws_s3_bucket.this[0].id : var.bucket_name
  database_name = replace(var.name, "-", "_")

  crawler_prefixes = {
    sales  = "raw/sales/"
    stores = "raw/stores/"
  }
  jobs = {
    clean_sales       = "Cleans raw sales: drops invalid and duplicate orders, normalises store ids."
    aggregate_sales   = "Aggregates cleaned sales per day and store, with the store's region."
    handle_errors     = "Writes an error report when cleaning fails or times out."
    refresh_dashboard = "Refreshes the dashboard summary from the aggregates (degraded after an error)."
  }
  # The trigger graph after the ON_DEMAND start trigger (which starts both crawlers).
  conditional_triggers = {
    all-crawled-then-clean = {
      logical    = "AND"
      conditions = [for source in keys(local.crawler_prefixes) : { crawler = source, job = null, state = "SUCCEEDED" }]
      then_job   = "clean_sales"
    }
    cleaned-then-aggregate = {
      logical    = "AND"
      conditions = [{ crawler = null, job = "clean_sales", state = "SUCCEEDED" }]
      then_job   = "aggregate_sales"
    }
    clean-failed-then-handle-errors = {
      logical    = "ANY"
      conditions = [for state in ["FAILED", "TIMEOUT"] : { crawler = null, job = "clean_sales", state = state }]
      then_job   = "handle_errors"
    }
    aggregated-or-handled-then-dashboard = {
      logical    = "ANY"
      conditions = [for job in ["aggregate_sales", "handle_errors"] : { crawler = null, job = job, state = "SUCCEEDED" }]
      then_job   = "refresh_dashboard"
    }
  }
  script_key = "${var.data_prefix}scripts/retail_pipeline.py"
  sample_dir = "${path.module}/data"

  # Region, account and partition come from the catalog database's ARN (no aws_region lookup,
  # whose attributes differ between provider 5.x and 6.x).
  database_arn_parts = split(":", try(aws_glue_catalog_database.this[0].arn, "arn:aws:glue:region:account:database"))
  partition          = local.database_arn_parts[1]
  glue_arn_prefix    = "arn:${local.partition}:glue:${local.database_arn_parts[3]}:${local.database_arn_parts[4]}"
  logs_arn_prefix    = "arn:${local.partition}:logs:${local.database_arn_parts[3]}:${local.database_arn_parts[4]}"
  bucket_arn         = "arn:${local.partition}:s3:::${local.bucket}"
}

################################################################################
# Bucket, script and sample data
################################################################################

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18:Access logging needs a second bucket; this holds only the sample pipeline's own data.
  #checkov:skip=CKV_AWS_21:Every object is rewritten by the pipeline or by Terraform; versions would only accumulate.
  #checkov:skip=CKV_AWS_144:Cross-region replication is out of scope for a sample data bucket.
  #checkov:skip=CKV_AWS_145:S3 encrypts every object by default (SSE-S3); a KMS key is the user's choice through an existing bucket.
  #checkov:skip=CKV2_AWS_61:The pipeline overwrites the same few keys; there is nothing for a lifecycle rule to expire.
  #checkov:skip=CKV2_AWS_62:No consumer of bucket event notifications exists in the sample.

  count = local.create_bucket ? 1 : 0

  bucket        = var.bucket_name
  bucket_prefix = var.bucket_name == null ? "${var.name}-" : null
  force_destroy = var.bucket_force_destroy

  tags = var.tags
}

resource "aws_s3_bucket_public_access_block" "this" {
  count = local.create_bucket ? 1 : 0

  bucket                  = aws_s3_bucket.this[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

data "aws_iam_policy_document" "bucket" {
  count = local.create_bucket ? 1 : 0

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.this[0].arn, "${aws_s3_bucket.this[0].arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  count = local.create_bucket ? 1 : 0

  bucket = aws_s3_bucket.this[0].id
  policy = data.aws_iam_policy_document.bucket[0].json

  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_s3_object" "script" {
  count = var.create ? 1 : 0

  bucket      = local.bucket
  key         = local.script_key
  source      = "${path.module}/scripts/retail_pipeline.py"
  source_hash = filemd5("${path.module}/scripts/retail_pipeline.py")

  tags = var.tags
}

resource "aws_s3_object" "sample_data" {
  for_each = var.create && var.upload_sample_data ? fileset(local.sample_dir, "raw/**") : []

  bucket      = local.bucket
  key         = "${var.data_prefix}${each.value}"
  source      = "${local.sample_dir}/${each.value}"
  source_hash = filemd5("${local.sample_dir}/${each.value}")

  tags = var.tags
}

################################################################################
# Catalog, crawlers and jobs
################################################################################

resource "aws_glue_catalog_database" "this" {
  count = var.create ? 1 : 0

  name        = local.database_name
  description = "Tables the ${var.name} crawlers find in the raw sales and store data."
}

resource "aws_glue_crawler" "this" {
  #checkov:skip=CKV_AWS_195:A security configuration only adds KMS encryption of the crawler's logs; the sample leaves KMS to the user.
  for_each = var.create ? local.crawler_prefixes : {}

  name          = "${var.name}-crawl-${each.key}"
  database_name = aws_glue_catalog_database.this[0].name
  role          = aws_iam_role.glue[0].arn
  table_prefix  = "raw_"

  s3_target {
    path = "s3://${local.bucket}/${var.data_prefix}${each.value}"
  }

  tags = var.tags
}

# S3 sends events to EventBridge only from a bucket that turns this on ("Enabling Amazon
# EventBridge", https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-event-notifications-eventbridge.html).
resource "aws_s3_bucket_notification" "eventbridge" {
  count = local.create_bucket && var.eventbridge_notifications ? 1 : 0

  bucket      = aws_s3_bucket.this[0].id
  eventbridge = true
}

resource "aws_glue_job" "this" {
  #checkov:skip=CKV_AWS_195:Python shell jobs write through boto3 to a bucket that encrypts by default; KMS is left to the user.
  for_each = var.create ? local.jobs : {}

  name         = "${var.name}-${replace(each.key, "_", "-")}"
  description  = each.value
  role_arn     = aws_iam_role.glue[0].arn
  max_capacity = 0.0625
  max_retries  = 0
  timeout      = var.job_timeout_minutes

  command {
    name            = "pythonshell"
    python_version  = "3.9"
    script_location = "s3://${local.bucket}/${aws_s3_object.script[0].key}"
  }

  default_arguments = {
    "--step"          = each.key
    "--bucket"        = local.bucket
    "--prefix"        = var.data_prefix
    "--idle_property" = var.idle_property
  }

  execution_property {
    max_concurrent_runs = 1
  }

  tags = var.tags
}

################################################################################
# Workflow and its trigger graph
################################################################################

resource "aws_glue_workflow" "this" {
  count = var.create ? 1 : 0

  name                = var.name
  description         = "Sample retail pipeline: crawl raw sales and stores, clean, aggregate or handle errors, refresh the dashboard."
  max_concurrent_runs = 1

  tags = merge(var.tags, var.workflow_tags)
}

# The state machine starts the workflow; this trigger starts both crawlers when it does.
# Disabled so that applying runs nothing: with enabled = true (the default) hashicorp/aws calls
# StartTrigger after creating an ON_DEMAND trigger (resourceTriggerCreate,
# internal/service/glue/trigger.go), and "when you activate an on-demand trigger, it fires
# immediately" (https://docs.aws.amazon.com/glue/latest/dg/activate-triggers.html), which would
# start a workflow run before the loop. Disabled, it stays CREATED, as on-demand triggers always do
# (https://docs.aws.amazon.com/glue/latest/dg/about-triggers.html), and StartWorkflowRun still
# fires it (https://docs.aws.amazon.com/glue/latest/dg/running_monitoring_workflow.html).
resource "aws_glue_trigger" "start" {
  count = var.create ? 1 : 0

  name          = "${var.name}-start"
  type          = "ON_DEMAND"
  workflow_name = aws_glue_workflow.this[0].name
  enabled       = false

  dynamic "actions" {
    for_each = aws_glue_crawler.this
    content {
      crawler_name = actions.value.name
    }
  }

  tags = var.tags

  # No run may start before its crawlers and jobs may read their inputs.
  depends_on = [aws_iam_role_policy.glue, aws_s3_object.script, aws_s3_object.sample_data]
}

# The rest of the graph: each trigger fires its job once its predicate (ALL or ANY of its
# conditions) holds within the same workflow run. Enabled (the default), hashicorp/aws creates
# them activated (StartOnCreation): a trigger that is not activated does not fire
# (https://docs.aws.amazon.com/glue/latest/dg/about-triggers.html).
resource "aws_glue_trigger" "conditional" {
  for_each = var.create ? local.conditional_triggers : {}

  name          = "${var.name}-${each.key}"
  type          = "CONDITIONAL"
  workflow_name = aws_glue_workflow.this[0].name

  predicate {
    logical = each.value.logical
    dynamic "conditions" {
      for_each = each.value.conditions
      content {
        job_name     = conditions.value.job != null ? aws_glue_job.this[conditions.value.job].name : null
        state        = conditions.value.job != null ? conditions.value.state : null
        crawler_name = conditions.value.crawler != null ? aws_glue_crawler.this[conditions.value.crawler].name : null
        crawl_state  = conditions.value.crawler != null ? conditions.value.state : null
      }
    }
  }

  actions {
    job_name = aws_glue_job.this[each.value.then_job].name
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.glue, aws_s3_object.script, aws_s3_object.sample_data]
}

################################################################################
# Glue service role: its own bucket prefix, catalog database and log groups only
################################################################################

data "aws_caller_identity" "current" {
  count = var.create ? 1 : 0
}

# AWS recommends aws:SourceAccount and aws:SourceArn in the trust policy of a role a service assumes
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html), but Glue publishes no
# cross-service confused deputy page and documents neither key for the role its crawlers and jobs
# run as; no source ARN either, so none is named (the role serves crawlers and jobs alike). A
# condition on a key the service does not send denies the service (IAM evaluates it as false
# unless the operator ends in IfExists:
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IfExists),
# which would make CreateCrawler refuse the role. So the account is required wherever Glue sends
# it, and its absence is tolerated.
data "aws_iam_policy_document" "glue_assume_role" {
  count = var.create ? 1 : 0

  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["glue.amazonaws.com"]
    }
    condition {
      test     = "StringEqualsIfExists"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current[0].account_id]
    }
  }
}

resource "aws_iam_role" "glue" {
  count = var.create ? 1 : 0

  name               = "${var.name}-glue"
  assume_role_policy = data.aws_iam_policy_document.glue_assume_role[0].json

  tags = var.tags
}

data "aws_iam_policy_document" "glue" {
  count = var.create ? 1 : 0

  statement {
    sid       = "ReadPipelineData"
    actions   = ["s3:GetObject"]
    resources = ["${local.bucket_arn}/${var.data_prefix}*"]
  }

  statement {
    sid     = "WritePipelineOutputs"
    actions = ["s3:PutObject"]
    resources = [
      for area in ["cleaned", "rejected", "aggregated", "errors", "dashboard"] :
      "${local.bucket_arn}/${var.data_prefix}${area}/*"
    ]
  }

  statement {
    sid       = "ListPipelineData"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.data_prefix}*"]
    }
  }

  statement {
    sid = "CrawlIntoTheCatalogDatabase"
    actions = [
      "glue:GetDatabase",
      "glue:GetTable",
      "glue:GetTables",
      "glue:CreateTable",
      "glue:UpdateTable",
      "glue:GetPartition",
      "glue:GetPartitions",
      "glue:BatchGetPartition",
      "glue:BatchCreatePartition",
      "glue:UpdatePartition",
    ]
    resources = [
      "${local.glue_arn_prefix}:catalog",
      aws_glue_catalog_database.this[0].arn,
      "${local.glue_arn_prefix}:table/${local.database_name}/*",
    ]
  }

  # clean_sales reads the loop's run context (the previous run's start is its watermark), which
  # GetWorkflowRunProperties authorizes on the workflow's ARN; in a resumed run, which lacks it,
  # GetWorkflowRun follows PreviousRunId to the run that has it, authorized on the same ARN
  # (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsglue.html). It marks
  # a run that found no new file idle with PutWorkflowRunProperties, on the same ARN. Built like the
  # other Glue ARNs, as the workflow's own is unknown until it exists.
  statement {
    sid       = "ReadAndMarkWorkflowRuns"
    actions   = ["glue:GetWorkflowRunProperties", "glue:GetWorkflowRun", "glue:PutWorkflowRunProperties"]
    resources = ["${local.glue_arn_prefix}:workflow/${aws_glue_workflow.this[0].name}"]
  }

  statement {
    sid       = "WriteGlueLogs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${local.logs_arn_prefix}:log-group:/aws-glue/*"]
  }
}

resource "aws_iam_role_policy" "glue" {
  count = var.create ? 1 : 0

  name   = "sample-pipeline"
  role   = aws_iam_role.glue[0].id
  policy = data.aws_iam_policy_document.glue[0].json
}
