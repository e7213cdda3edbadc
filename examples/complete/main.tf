provider "aws" {
  region = var.region
}

module "glue_loop" {
  source = "../.."

  name                  = var.name
  poll_interval_seconds = var.poll_interval_seconds
  recovery              = var.recovery
  completion_mode       = var.completion_mode

  create_sample_workflow = true
  sample_workflow = {
    bucket_force_destroy = true
  }

  create_sns_topic = true
  create_alarm     = true
  create_dashboard = true

  logging = {
    level                  = "ALL"
    include_execution_data = true
  }

  tags = merge({ Example = "complete" }, var.tags)
}
