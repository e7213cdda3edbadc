locals {
  # Without create there is no sample workflow, and without glue_workflow_name no workflow (the loop's
  # precondition refuses that plan), yet the loop and callback definitions are still rendered, and
  # their placeholders refuse null (loop.tf): they name "" then.
  glue_workflow_name = (var.create_sample_workflow
    ? (var.create ? module.sample_workflow[0].workflow_name : "")
    : (var.glue_workflow_name != null ? var.glue_workflow_name : "")
  )

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
}

data "aws_caller_identity" "current" {
  count = local.create_role || local.create_sns_kms_key || local.create_event_dlq_kms_key ? 1 : 0
}

data "aws_partition" "current" {
  count = var.create ? 1 : 0
}
