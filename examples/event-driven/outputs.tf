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

output "callback_state_machine_arn" {
  description = "ARN of the EXPRESS state machine that EventBridge starts to wake the loop."
  value       = module.glue_loop.callback_state_machine_arn
}

output "event_rule_name" {
  description = "EventBridge rule matching the sample workflow's job and crawler state changes."
  value       = module.glue_loop.event_rule_name
}

output "data_event_rule_name" {
  description = "EventBridge rule matching new raw sales files (wake_on_data), null without it."
  value       = module.glue_loop.data_event_rule_name
}

output "token_table_name" {
  description = "DynamoDB table holding the waiting execution's task token."
  value       = module.glue_loop.token_table_name
}

output "event_dead_letter_queue_url" {
  description = "SQS queue holding the Glue events EventBridge could not deliver to the callback (an alarm watches its depth)."
  value       = module.glue_loop.event_dead_letter_queue_url
}

output "cloudwatch_metrics" {
  description = "The metrics the loop publishes once per judged run (namespace, dimensions, units)."
  value       = module.glue_loop.cloudwatch_metrics
}
