output "state_machine_arn" {
  description = "ARN of the state machine that runs the loop."
  value       = module.glue_loop.state_machine_arn
}

output "role_arn" {
  description = "ARN of the state machine's IAM role."
  value       = module.glue_loop.role_arn
}

output "cloudwatch_log_group_name" {
  description = "Log group of the execution logs."
  value       = module.glue_loop.cloudwatch_log_group_name
}

output "start_loop_command" {
  description = "AWS CLI command that starts the loop."
  value       = module.glue_loop.start_loop_command
}
