################################################################################
# Sample workflow
################################################################################

module "sample_workflow" {
  source = "./modules/sample-glue-workflow"
  count  = var.create && var.create_sample_workflow ? 1 : 0

  name                 = coalesce(var.sample_workflow.name, var.name)
  create_bucket        = var.sample_workflow.create_bucket
  bucket_name          = var.sample_workflow.bucket_name
  bucket_force_destroy = var.sample_workflow.bucket_force_destroy
  upload_sample_data   = var.sample_workflow.upload_sample_data
  job_timeout_minutes  = var.sample_workflow.job_timeout_minutes
  idle_property        = var.pacing.idle_property
  # The loop wakes on its raw sales files only if the bucket sends events (wake_on_data.tf).
  eventbridge_notifications = var.completion_mode == "events" && var.wake_on_data.enabled && local.use_sample_bucket

  tags = var.tags
}
