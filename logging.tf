locals {
  logging_enabled  = var.create && var.logging.level != "OFF"
  create_log_group = local.logging_enabled && !var.use_existing_cloudwatch_log_group

  log_group_arn = local.logging_enabled ? (
    local.create_log_group ? one(aws_cloudwatch_log_group.this[*].arn) : var.cloudwatch_log_group_arn
  ) : null
}

################################################################################
# Logging
################################################################################

resource "aws_cloudwatch_log_group" "this" {
  count = local.create_log_group ? 1 : 0

  name              = coalesce(var.cloudwatch_log_group_name, "/aws/vendedlogs/states/${var.name}")
  retention_in_days = var.cloudwatch_log_group_retention_in_days
  kms_key_id        = var.cloudwatch_log_group_kms_key_id

  tags = merge(var.tags, var.cloudwatch_log_group_tags)
}
