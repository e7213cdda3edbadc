locals {
  pause_parameter_name = var.create && var.create_pause_parameter ? coalesce(var.pause_parameter_name, "/glue-workflow-loop/${var.name}/paused") : null
}

################################################################################
# Pause flag
################################################################################

resource "aws_ssm_parameter" "pause" {
  #checkov:skip=CKV2_AWS_34:A pause flag holds no secret; encrypting it would only add a KMS grant to every reader.
  count = local.pause_parameter_name != null ? 1 : 0

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
