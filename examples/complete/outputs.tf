output "state_machine_arn" {
  description = "ARN of the state machine that runs the loop."
  value       = module.glue_loop.state_machine_arn
}

output "start_loop_command" {
  description = "AWS CLI command that starts the loop."
  value       = module.glue_loop.start_loop_command
}

output "sample_workflow" {
  description = "Names of the sample workflow's resources."
  value       = module.glue_loop.sample_workflow
}

output "sns_topic_arn" {
  description = "SNS topic told when the loop stops."
  value       = module.glue_loop.sns_topic_arn
}

output "pause_loop_command" {
  description = "AWS CLI command that pauses the loop after its run in flight."
  value       = module.glue_loop.pause_loop_command
}

output "resume_loop_command" {
  description = "AWS CLI commands that resume a paused loop."
  value       = module.glue_loop.resume_loop_command
}

output "cloudwatch_metrics" {
  description = "The metrics the loop publishes once per judged run (namespace, dimensions, units)."
  value       = module.glue_loop.cloudwatch_metrics
}

output "pause_parameter_name" {
  description = "SSM parameter that pauses the loop after its run in flight."
  value       = module.glue_loop.pause_parameter_name
}

output "cloudwatch_dashboard_name" {
  description = "CloudWatch dashboard of the loop's runs and executions."
  value       = module.glue_loop.cloudwatch_dashboard_name
}

output "event_rule_name" {
  description = "EventBridge rule of the sample workflow's job and crawler events (events mode; null in poll mode)."
  value       = module.glue_loop.event_rule_name
}
