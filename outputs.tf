output "state_machine_arn" {
  description = "ARN of the state machine that runs the loop."
  value       = local.state_machine_arn
}

output "state_machine_name" {
  description = "Name of the state machine."
  value       = one(aws_sfn_state_machine.this[*].name)
}

output "state_machine_definition" {
  description = "The rendered Amazon States Language definition."
  value       = one(aws_sfn_state_machine.this[*].definition)
}

output "max_polls_per_execution" {
  description = "Polls of one run an execution makes before handing it to a fresh execution (the history budget)."
  value       = var.create ? local.max_polls_per_execution : null
}

output "role_arn" {
  description = "ARN of the IAM role the state machine runs as (created or passed in)."
  value       = one(aws_sfn_state_machine.this[*].role_arn)
}

output "role_name" {
  description = "Name of the IAM role the module created, null when it created none."
  value       = one(aws_iam_role.this[*].name)
}

output "cloudwatch_log_group_arn" {
  description = "ARN of the log group that receives execution logs, null when logging is OFF."
  value       = local.log_group_arn
}

output "cloudwatch_log_group_name" {
  description = "Name of the log group that receives execution logs, null when logging is OFF."
  value = (local.log_group_arn == null ? null
    : local.create_log_group ? one(aws_cloudwatch_log_group.this[*].name)
    : split(":", local.log_group_arn)[6]
  )
}

output "glue_workflow_arn" {
  description = "ARN of the Glue workflow the loop runs; the role's Glue permissions are scoped to it."
  value       = local.glue_workflow_arn
}

output "start_loop_command" {
  description = "AWS CLI command that starts the loop (put Glue run properties into run_properties). Start it once: every clean run starts the next execution itself."
  value       = local.start_loop_command
}

output "sample_workflow" {
  description = "The sample workflow's names (workflow, bucket, catalog database, crawlers, jobs, triggers, Glue role), null unless create_sample_workflow is true."
  value       = one(module.sample_workflow[*])
}

output "pause_parameter_name" {
  description = "SSM parameter that pauses the loop after its run in flight (null when not created)."
  value       = one(aws_ssm_parameter.pause[*].name)
}

output "pause_loop_command" {
  description = "AWS CLI command that pauses the loop: it ends Succeeded (reason \"paused\") after the run in flight."
  value       = one([for parameter in aws_ssm_parameter.pause : "aws ssm put-parameter --name ${parameter.name} --value true --overwrite"])
}

output "resume_loop_command" {
  description = "AWS CLI commands that resume a paused loop as a new chain."
  value       = one([for parameter in aws_ssm_parameter.pause : "aws ssm put-parameter --name ${parameter.name} --value false --overwrite && ${local.start_loop_command}"])
}

output "sns_topic_arn" {
  description = "SNS topic told when the loop stops (created or passed in), null without one."
  value       = local.notify ? local.sns_topic_arn : null
}

output "cloudwatch_metric_alarm_arn" {
  description = "ARN of the alarm on failed, timed-out and aborted executions, null without one."
  value       = one(aws_cloudwatch_metric_alarm.executions_failed[*].arn)
}

output "token_table_name" {
  description = "Events mode: DynamoDB table holding the waiting execution's task token, null in poll mode."
  value       = one(aws_dynamodb_table.tokens[*].name)
}

output "token_table_arn" {
  description = "Events mode: ARN of the token table, null in poll mode."
  value       = local.token_table_arn
}

output "callback_state_machine_arn" {
  description = "Events mode: ARN of the EXPRESS state machine that wakes the loop, null in poll mode."
  value       = one(aws_sfn_state_machine.callback[*].arn)
}

output "callback_role_arn" {
  description = "Events mode: ARN of the callback state machine's role (created or passed in), null in poll mode."
  value       = one(aws_sfn_state_machine.callback[*].role_arn)
}

output "event_rule_name" {
  description = "Events mode: name of the EventBridge rule matching the workflow's job and crawler state changes, null in poll mode."
  value       = one(aws_cloudwatch_event_rule.glue_events[*].name)
}

output "data_event_rule_name" {
  description = "wake_on_data: name of the EventBridge rule matching new data, whose events end the loop's wait before a run; null without wake_on_data."
  value       = one(aws_cloudwatch_event_rule.data_events[*].name)
}

output "event_rule_arn" {
  description = "Events mode: ARN of that EventBridge rule, null in poll mode."
  value       = one(aws_cloudwatch_event_rule.glue_events[*].arn)
}

output "event_dead_letter_queue_arn" {
  description = "Events mode: ARN of the SQS queue that holds the Glue events EventBridge could not deliver to the callback, null without it."
  value       = one(aws_sqs_queue.event_dlq[*].arn)
}

output "event_dead_letter_queue_url" {
  description = "Events mode: URL of that queue, to read the undelivered events from, null without it."
  value       = one(aws_sqs_queue.event_dlq[*].url)
}

output "event_dead_letter_queue_alarm_name" {
  description = "Events mode: name of the alarm on that queue's depth, null without it."
  value       = one(aws_cloudwatch_metric_alarm.event_dlq[*].alarm_name)
}

output "cloudwatch_metrics" {
  description = "The metrics the loop publishes once per judged run: namespace, dimensions (PutMetricData's shape) and the unit of each metric name; null when metrics are off."
  value       = var.create && var.metrics.enabled ? { namespace = var.metrics.namespace, dimensions = [local.metric_dimension], units = local.metric_units } : null
}

output "cloudwatch_dashboard_name" {
  description = "Name of the CloudWatch dashboard of the workflow's runs and the loop's executions, null unless create_dashboard is true."
  value       = one(aws_cloudwatch_dashboard.this[*].dashboard_name)
}

output "cloudwatch_dashboard_arn" {
  description = "ARN of that dashboard, null unless create_dashboard is true."
  value       = one(aws_cloudwatch_dashboard.this[*].dashboard_arn)
}
