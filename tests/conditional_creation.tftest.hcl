# What the root module creates for each switch, planned against a mocked provider (ARNs in
# tests/mocks). Policy documents are mocked too, so their statements are read from the
# statement blocks the data sources were given.

mock_provider "aws" {
  source          = "./tests/mocks"
  override_during = plan
}

variables {
  name               = "nightly-sales-loop"
  glue_workflow_name = "nightly-sales"
}

run "defaults_create_the_loop_its_role_log_group_and_pause_flag" {
  command = plan

  assert {
    condition = [
      length(aws_sfn_state_machine.this), length(aws_iam_role.this), length(aws_iam_role_policy.loop),
      length(aws_iam_role_policy.observability), length(aws_cloudwatch_log_group.this), length(aws_ssm_parameter.pause),
    ] == [1, 1, 1, 1, 1, 1]
    error_message = "By default the module must create the state machine, its role with both policies, the log group and the pause flag."
  }

  assert {
    condition = [
      length(aws_sns_topic.this), length(aws_kms_key.sns), length(aws_cloudwatch_metric_alarm.executions_failed),
      length(module.sample_workflow),
    ] == [0, 0, 0, 0]
    error_message = "Topic, key, alarm and sample workflow must be opt-in."
  }

  assert {
    condition     = aws_sfn_state_machine.this[0].role_arn == aws_iam_role.this[0].arn
    error_message = "The state machine must run as the role the module creates."
  }

  assert {
    condition     = aws_sfn_state_machine.this[0].logging_configuration[0].log_destination == "${aws_cloudwatch_log_group.this[0].arn}:*"
    error_message = "Executions must log to the created log group."
  }

  assert {
    condition     = aws_sfn_state_machine.this[0].tracing_configuration[0].enabled
    error_message = "Tracing must be on by default."
  }

  assert {
    condition     = [for statement in data.aws_iam_policy_document.observability[0].statement : statement.sid] == ["DeliverExecutionLogs", "SendTraces"]
    error_message = "The role must be allowed to deliver logs and send traces."
  }

  assert {
    condition     = contains([for statement in data.aws_iam_policy_document.loop[0].statement : statement.sid], "ReadPauseFlag")
    error_message = "The role must be allowed to read the pause flag."
  }

  assert {
    condition     = output.glue_workflow_arn == "arn:aws:glue:eu-west-1:123456789012:workflow/nightly-sales"
    error_message = "The workflow ARN must be built from the state machine's partition, region and account."
  }

  assert {
    condition     = length(data.aws_iam_policy_document.assume_role) == 1 && contains(keys(data.aws_iam_policy_document.assume_role), "loop")
    error_message = "Poll mode must need the loop's trust document only."
  }

  assert {
    condition = [
      for statement in data.aws_iam_policy_document.assume_role["loop"].statement : sort([for condition in statement.condition : "${condition.test} ${condition.variable} ${join(",", condition.values)}"])
      ] == [tolist([
        "ArnLike aws:SourceArn arn:aws:states:*:123456789012:stateMachine:nightly-sales-loop",
        "StringEquals aws:SourceAccount 123456789012",
    ])]
    error_message = "Step Functions may assume the loop's role only for the loop's state machine in this account (confused deputy guard)."
  }
}

run "create_false_creates_nothing_whatever_else_is_asked" {
  command = plan

  variables {
    create                 = false
    create_sample_workflow = true
    create_sns_topic       = true
    create_alarm           = true
    create_dashboard       = true
  }

  assert {
    condition = [
      length(aws_sfn_state_machine.this), length(aws_iam_role.this), length(aws_iam_role_policy.loop),
      length(aws_iam_role_policy.observability), length(aws_cloudwatch_log_group.this), length(aws_ssm_parameter.pause),
      length(aws_sns_topic.this), length(aws_kms_key.sns), length(aws_cloudwatch_metric_alarm.executions_failed),
      length(module.sample_workflow), length(data.aws_iam_policy_document.assume_role),
      length(data.aws_caller_identity.current), length(data.aws_partition.current),
      length(aws_cloudwatch_dashboard.this),
    ] == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    error_message = "create = false must create no resource and read no data source."
  }

  assert {
    condition     = output.state_machine_arn == null && output.role_arn == null && output.start_loop_command == null
    error_message = "create = false must leave the outputs null."
  }
}

run "existing_role_creates_no_iam" {
  command = plan

  variables {
    create_role = false
    role_arn    = "arn:aws:iam::123456789012:role/platform/existing-loop-role"
  }

  assert {
    condition = [
      length(aws_iam_role.this), length(aws_iam_role_policy.loop), length(aws_iam_role_policy.observability),
      length(data.aws_iam_policy_document.loop),
    ] == [0, 0, 0, 0]
    error_message = "create_role = false must create no role, policy or policy document."
  }

  assert {
    condition     = aws_sfn_state_machine.this[0].role_arn == "arn:aws:iam::123456789012:role/platform/existing-loop-role"
    error_message = "The state machine must run as role_arn."
  }
}

run "existing_log_group_is_logged_to_and_not_created" {
  command = plan

  variables {
    use_existing_cloudwatch_log_group = true
    cloudwatch_log_group_arn          = "arn:aws:logs:eu-west-1:123456789012:log-group:/platform/loops"
  }

  assert {
    condition     = length(aws_cloudwatch_log_group.this) == 0
    error_message = "use_existing_cloudwatch_log_group must create no log group."
  }

  assert {
    condition     = aws_sfn_state_machine.this[0].logging_configuration[0].log_destination == "arn:aws:logs:eu-west-1:123456789012:log-group:/platform/loops:*"
    error_message = "Executions must log to cloudwatch_log_group_arn."
  }

  assert {
    condition     = output.cloudwatch_log_group_name == "/platform/loops"
    error_message = "The log group name output must be read from cloudwatch_log_group_arn."
  }
}

run "tracing_off_drops_the_trace_permissions" {
  command = plan

  variables {
    tracing_enabled = false
  }

  assert {
    condition     = !aws_sfn_state_machine.this[0].tracing_configuration[0].enabled
    error_message = "tracing_enabled = false must turn X-Ray tracing off."
  }

  assert {
    condition     = [for statement in data.aws_iam_policy_document.observability[0].statement : statement.sid] == ["DeliverExecutionLogs"]
    error_message = "Without tracing the role must get log delivery permissions only."
  }
}

run "logging_and_tracing_off_need_no_log_group_or_observability_policy" {
  command = plan

  variables {
    logging         = { level = "OFF" }
    tracing_enabled = false
  }

  assert {
    condition = [
      length(aws_cloudwatch_log_group.this), length(aws_iam_role_policy.observability),
      length(aws_sfn_state_machine.this[0].logging_configuration),
    ] == [0, 0, 0]
    error_message = "With logging OFF and tracing off there must be no log group, logging configuration or observability policy."
  }

  assert {
    condition     = output.cloudwatch_log_group_arn == null && output.cloudwatch_log_group_name == null
    error_message = "The log group outputs must be null with logging OFF."
  }
}

run "sample_workflow_is_created_and_kept_running" {
  command = plan

  variables {
    glue_workflow_name     = null
    create_sample_workflow = true
  }

  assert {
    condition     = length(module.sample_workflow) == 1 && output.sample_workflow.workflow_name == "nightly-sales-loop"
    error_message = "create_sample_workflow must create the sample workflow, named after name by default."
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this[0].definition).States.StartWorkflowRun.Arguments.Name == "nightly-sales-loop"
    error_message = "The loop must start runs of the sample workflow."
  }

  assert {
    condition     = output.glue_workflow_arn == "arn:aws:glue:eu-west-1:123456789012:workflow/nightly-sales-loop"
    error_message = "The role's Glue permissions must be scoped to the sample workflow."
  }
}

run "created_topic_is_encrypted_with_a_created_key_and_the_alarm_notifies_it" {
  command = plan

  variables {
    create_sns_topic = true
    create_alarm     = true
  }

  assert {
    condition = [
      length(aws_sns_topic.this), length(aws_kms_key.sns), length(aws_cloudwatch_metric_alarm.executions_failed),
    ] == [1, 1, 1]
    error_message = "create_sns_topic and create_alarm must create the topic, its key and the alarm."
  }

  assert {
    condition     = aws_sns_topic.this[0].kms_master_key_id == aws_kms_key.sns[0].arn
    error_message = "The topic must be encrypted with the created key."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.executions_failed[0].alarm_actions == toset([aws_sns_topic.this[0].arn])
    error_message = "The alarm must notify the created topic."
  }

  assert {
    condition = [
      for statement in data.aws_iam_policy_document.loop[0].statement : statement.resources
      if contains(["AnnounceStops", "UseTheTopicKey"], statement.sid)
    ] == [toset([aws_sns_topic.this[0].arn]), toset([aws_kms_key.sns[0].arn])]
    error_message = "The role must be allowed to publish to the topic with its key, and to nothing else."
  }

  assert {
    condition     = strcontains(aws_sfn_state_machine.this[0].definition, aws_sns_topic.this[0].arn)
    error_message = "The loop must announce its stops on the created topic."
  }
}

run "existing_topic_is_notified_and_nothing_is_created_for_it" {
  command = plan

  variables {
    sns_topic_arn         = "arn:aws:sns:eu-west-1:123456789012:loop-stops"
    sns_topic_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/loop-stops"
    create_alarm          = true
  }

  assert {
    condition     = length(aws_sns_topic.this) == 0 && length(aws_kms_key.sns) == 0 && length(data.aws_iam_policy_document.sns_kms_key) == 0
    error_message = "An existing topic must not make the module create a topic or a key."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.executions_failed[0].alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:loop-stops"])
    error_message = "The alarm must notify sns_topic_arn."
  }

  assert {
    condition = [
      for statement in data.aws_iam_policy_document.loop[0].statement : statement.resources
      if contains(["AnnounceStops", "UseTheTopicKey"], statement.sid)
      ] == [
      toset(["arn:aws:sns:eu-west-1:123456789012:loop-stops"]), toset(["arn:aws:kms:eu-west-1:123456789012:key/loop-stops"]),
    ]
    error_message = "The role must be allowed to publish to sns_topic_arn with sns_topic_kms_key_arn."
  }
}

run "alarm_without_a_topic_notifies_nobody" {
  command = plan

  variables {
    create_alarm = true
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.executions_failed[0].alarm_actions) == 0 && output.sns_topic_arn == null
    error_message = "Without a topic the alarm must have no action and the loop no topic."
  }
}

run "without_pause_parameter_nothing_reads_one" {
  command = plan

  variables {
    create_pause_parameter = false
  }

  assert {
    condition     = length(aws_ssm_parameter.pause) == 0 && output.pause_loop_command == null
    error_message = "create_pause_parameter = false must create no parameter and offer no pause command."
  }

  assert {
    condition     = !contains([for statement in data.aws_iam_policy_document.loop[0].statement : statement.sid], "ReadPauseFlag")
    error_message = "Without a pause parameter the role must not be allowed to read one."
  }
}

run "poll_mode_creates_nothing_for_events" {
  command = plan

  assert {
    condition = [
      length(aws_dynamodb_table.tokens), length(aws_sfn_state_machine.callback), length(aws_cloudwatch_event_rule.glue_events),
      length(aws_cloudwatch_event_target.callback), length(aws_iam_role.callback), length(aws_iam_role.events),
      length(aws_sqs_queue.event_dlq), length(aws_kms_key.event_dlq), length(aws_cloudwatch_metric_alarm.event_dlq),
    ] == [0, 0, 0, 0, 0, 0, 0, 0, 0]
    error_message = "Poll mode must create no token table, callback, rule, target, their roles or a dead-letter queue."
  }
}

run "events_mode_creates_the_token_table_callback_rule_and_their_scoped_roles" {
  command = plan

  variables {
    completion_mode   = "events"
    completion_events = { job_names = ["clean", "load"], crawler_names = ["crawl"] }
  }

  assert {
    condition = [
      length(aws_dynamodb_table.tokens), length(aws_sfn_state_machine.callback), length(aws_cloudwatch_event_rule.glue_events),
      length(aws_cloudwatch_event_target.callback), length(aws_iam_role_policy.callback), length(aws_iam_role_policy.events),
      length(aws_iam_role_policy.callback_observability),
    ] == [1, 1, 1, 1, 1, 1, 1]
    error_message = "Events mode must create the token table, the callback, the rule, its target and both roles' policies."
  }

  assert {
    condition = (
      aws_dynamodb_table.tokens[0].name == "nightly-sales-loop-task-tokens" && aws_dynamodb_table.tokens[0].billing_mode == "PAY_PER_REQUEST"
      && aws_dynamodb_table.tokens[0].server_side_encryption[0].enabled
    )
    error_message = "The token table must be named for the loop, on demand and encrypted."
  }

  assert {
    condition     = aws_dynamodb_table.tokens[0].ttl[0].enabled && aws_dynamodb_table.tokens[0].ttl[0].attribute_name == "expires_at"
    error_message = "Tokens must expire through the table's TTL on expires_at, the attribute the loop stamps."
  }

  assert {
    condition     = aws_sfn_state_machine.callback[0].type == "EXPRESS" && aws_sfn_state_machine.callback[0].role_arn == aws_iam_role.callback[0].arn
    error_message = "The callback must be an EXPRESS state machine running as its own role."
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.glue_events[0].event_pattern)["$or"][0].detail.jobName == ["clean", "load"]
    error_message = "The rule must match the named jobs."
  }

  assert {
    condition     = aws_cloudwatch_event_target.callback[0].arn == aws_sfn_state_machine.callback[0].arn && aws_cloudwatch_event_target.callback[0].role_arn == aws_iam_role.events[0].arn
    error_message = "The rule must start the callback as the events role."
  }

  assert {
    condition     = contains([for statement in data.aws_iam_policy_document.loop[0].statement : statement.sid], "LeaveTaskTokenForEvents")
    error_message = "The loop's role must be allowed to leave its token in the table."
  }

  assert {
    condition     = [for statement in data.aws_iam_policy_document.callback[0].statement : statement.sid] == ["TakeTheTaskToken", "ReadTheRun", "WakeTheLoop"]
    error_message = "The callback's role must read and delete the token, read the run and wake the loop, nothing else."
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this[0].definition).States.WaitForRun.Resource == "arn:aws:states:::aws-sdk:dynamodb:putItem.waitForTaskToken"
    error_message = "In events mode the loop must wait on a task token."
  }

  assert {
    condition = [
      for statement in data.aws_iam_policy_document.assume_role["callback"].statement : sort([for condition in statement.condition : "${condition.test} ${condition.variable} ${join(",", condition.values)}"])
      ] == [tolist([
        "ArnLike aws:SourceArn arn:aws:states:*:123456789012:stateMachine:nightly-sales-loop-callback",
        "StringEquals aws:SourceAccount 123456789012",
    ])]
    error_message = "Step Functions may assume the callback's role only for the callback state machine in this account, not for the loop's."
  }

  assert {
    condition     = aws_sfn_state_machine.callback[0].name == "nightly-sales-loop-callback"
    error_message = "The callback state machine must carry the name its role's trust document names."
  }

  assert {
    condition = [
      for statement in data.aws_iam_policy_document.events_assume_role[0].statement : sort([for condition in statement.condition : "${condition.test} ${condition.variable} ${join(",", condition.values)}"])
      ] == [tolist([
        "ArnEquals aws:SourceArn ${aws_cloudwatch_event_rule.glue_events[0].arn}",
        "StringEquals aws:SourceAccount 123456789012",
    ])]
    error_message = "EventBridge may assume the events role only for the rule's target in this account (confused deputy guard)."
  }
}

run "events_mode_gives_the_target_an_encrypted_dead_letter_queue_that_only_the_rule_may_fill_and_an_alarm_on_it" {
  command = plan

  variables {
    completion_mode   = "events"
    completion_events = { job_names = ["clean", "load"] }
    create_sns_topic  = true
  }

  assert {
    condition     = aws_cloudwatch_event_target.callback[0].dead_letter_config[0].arn == aws_sqs_queue.event_dlq[0].arn
    error_message = "The rule's target must send what it cannot deliver to the dead-letter queue."
  }

  assert {
    condition     = aws_sqs_queue.event_dlq[0].kms_master_key_id == aws_kms_key.event_dlq[0].arn && aws_kms_key.event_dlq[0].enable_key_rotation
    error_message = "The queue must be encrypted with a customer managed key of its own, rotated."
  }

  assert {
    condition = [
      for statement in data.aws_iam_policy_document.event_dlq_kms_key[0].statement : "${statement.sid} ${join(",", statement.actions)} ${join(",", [for condition in statement.condition : "${condition.test} ${condition.variable} ${join(",", condition.values)}"])}"
      ] == [
      "AccountAdministersTheKey kms:* ",
      "EventBridgeSendsDeadLetters kms:Decrypt,kms:GenerateDataKey ArnEquals aws:SourceArn ${aws_cloudwatch_event_rule.glue_events[0].arn}",
    ]
    error_message = "The key must let EventBridge encrypt for this rule only, besides the account's own administration."
  }

  assert {
    condition = [
      for statement in data.aws_iam_policy_document.event_dlq[0].statement : "${join(",", statement.actions)} ${join(",", [for principal in statement.principals : join(",", principal.identifiers)])} ${join(",", [for condition in statement.condition : "${condition.test} ${condition.variable} ${join(",", condition.values)}"])}"
    ] == ["sqs:SendMessage events.amazonaws.com ArnEquals aws:SourceArn ${aws_cloudwatch_event_rule.glue_events[0].arn}"]
    error_message = "Only EventBridge, for this rule, may send to the queue."
  }

  assert {
    condition     = [for statement in data.aws_iam_policy_document.event_dlq[0].statement : statement.resources] == [toset(["arn:aws:sqs:eu-west-1:123456789012:nightly-sales-loop-glue-events-dlq"])]
    error_message = "The queue's policy must name the queue, in the rule's region and account."
  }

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.event_dlq[0].metric_name == "ApproximateNumberOfMessagesVisible"
      && aws_cloudwatch_metric_alarm.event_dlq[0].dimensions.QueueName == aws_sqs_queue.event_dlq[0].name
      && aws_cloudwatch_metric_alarm.event_dlq[0].threshold == 0 && aws_cloudwatch_metric_alarm.event_dlq[0].comparison_operator == "GreaterThanThreshold"
      && aws_cloudwatch_metric_alarm.event_dlq[0].alarm_actions == toset([aws_sns_topic.this[0].arn])
    )
    error_message = "An alarm must go off, and notify the topic, as soon as the queue holds an event."
  }
}

run "events_mode_without_a_dead_letter_queue_or_with_a_key_of_ones_own" {
  command = plan

  variables {
    completion_mode                     = "events"
    completion_events                   = { job_names = ["clean"] }
    event_dead_letter_queue_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/ours"
  }

  assert {
    condition     = length(aws_kms_key.event_dlq) == 0 && aws_sqs_queue.event_dlq[0].kms_master_key_id == "arn:aws:kms:eu-west-1:123456789012:key/ours"
    error_message = "A key of one's own must encrypt the queue, and none be created."
  }
}

run "events_mode_can_go_without_a_dead_letter_queue" {
  command = plan

  variables {
    completion_mode                = "events"
    completion_events              = { job_names = ["clean"] }
    create_event_dead_letter_queue = false
  }

  assert {
    condition = [
      length(aws_sqs_queue.event_dlq), length(aws_kms_key.event_dlq), length(aws_cloudwatch_metric_alarm.event_dlq),
      length(aws_cloudwatch_event_target.callback[0].dead_letter_config),
    ] == [0, 0, 0, 0]
    error_message = "create_event_dead_letter_queue = false must create no queue, key or alarm, and leave the target without one."
  }
}

run "events_mode_with_the_sample_workflow_listens_to_its_jobs_and_crawlers" {
  command = plan

  variables {
    glue_workflow_name     = null
    create_sample_workflow = true
    completion_mode        = "events"
  }

  assert {
    condition     = length(jsondecode(aws_cloudwatch_event_rule.glue_events[0].event_pattern)["$or"]) == 2
    error_message = "The rule must match both the sample workflow's jobs and its crawlers."
  }
}

run "events_mode_with_existing_roles_creates_no_iam" {
  command = plan

  variables {
    completion_mode     = "events"
    completion_events   = { crawler_names = ["crawl"] }
    create_role         = false
    role_arn            = "arn:aws:iam::123456789012:role/loop"
    callback_role_arn   = "arn:aws:iam::123456789012:role/loop-callback"
    event_rule_role_arn = "arn:aws:iam::123456789012:role/loop-events"
  }

  assert {
    condition     = [length(aws_iam_role.callback), length(aws_iam_role.events), length(aws_iam_role_policy.callback)] == [0, 0, 0]
    error_message = "create_role = false must create no callback or events role."
  }

  assert {
    condition     = aws_sfn_state_machine.callback[0].role_arn == "arn:aws:iam::123456789012:role/loop-callback" && aws_cloudwatch_event_target.callback[0].role_arn == "arn:aws:iam::123456789012:role/loop-events"
    error_message = "The callback and the rule's target must use the roles passed in."
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.glue_events[0].event_pattern).detail.crawlerName == ["crawl"]
    error_message = "With crawlers only, the rule must match them without an $or."
  }
}
