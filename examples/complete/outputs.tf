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
