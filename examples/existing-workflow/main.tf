provider "aws" {
  region = var.region
}

module "glue_loop" {
  source = "../.."

  name                  = var.name
  glue_workflow_name    = var.glue_workflow_name
  poll_interval_seconds = var.poll_interval_seconds

  logging = {
    level                  = "ALL"
    include_execution_data = true
  }

  tags = {
    Example = "existing-workflow"
  }
}
