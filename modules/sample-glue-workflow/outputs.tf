output "workflow_name" {
  description = "Name of the Glue workflow."
  value       = try(aws_glue_workflow.this[0].name, null)
}

output "workflow_arn" {
  description = "ARN of the Glue workflow."
  value       = try(aws_glue_workflow.this[0].arn, null)
}

output "bucket_name" {
  description = "Bucket holding the pipeline's data and script."
  value       = var.create ? local.bucket : null
}

output "data_prefix" {
  description = "Key prefix of the pipeline's data in the bucket."
  value       = var.data_prefix
}

output "catalog_database_name" {
  description = "Glue catalog database the crawlers write to."
  value       = try(aws_glue_catalog_database.this[0].name, null)
}

output "crawler_names" {
  description = "Crawler names by source (sales, stores)."
  value       = { for source, crawler in aws_glue_crawler.this : source => crawler.name }
}

output "job_names" {
  description = "Job names by step (clean_sales, aggregate_sales, handle_errors, refresh_dashboard)."
  value       = { for step, job in aws_glue_job.this : step => job.name }
}

output "trigger_names" {
  description = "Trigger names: start (ON_DEMAND) and the conditional ones by their place in the graph."
  value = merge(
    { for trigger in aws_glue_trigger.start : "start" => trigger.name },
    { for key, trigger in aws_glue_trigger.conditional : key => trigger.name },
  )
}

output "glue_role_arn" {
  description = "ARN of the role the crawlers and jobs run as."
  value       = try(aws_iam_role.glue[0].arn, null)
}
