# Every variable validation and precondition of the root module and of the sample workflow
# module, each shown to reject bad input (expect_failures) and to accept its boundary values.
# Terraform checks all variable validations of a plan at once, so one run rejects one kind of
# bad value for many variables; preconditions run only on valid variables, one run each.
# tests/test_terraform_native.py fails when a validation block is named by no expect_failures.

mock_provider "aws" {
  source          = "./tests/mocks"
  override_during = plan
}

variables {
  name               = "nightly-sales-loop"
  glue_workflow_name = "nightly-sales"
}

run "accepts_the_lowest_and_shortest_values" {
  command = plan

  variables {
    name                                   = "a"
    glue_workflow_name                     = "a"
    poll_interval_seconds                  = 1
    max_polls_per_execution                = 0
    runs_per_execution                     = 1
    stop_policy                            = { tolerated_actions = 0 }
    max_runs                               = 0
    cooldown_seconds                       = 0
    pause_parameter_name                   = "/p"
    role_name                              = "r"
    role_path                              = "/"
    cloudwatch_log_group_name              = "g"
    cloudwatch_log_group_retention_in_days = 0
    recovery                               = { enabled = true, max_attempts = 1, backoff_seconds = 0, on_actions = ["errored"], when_exhausted = "continue" }
  }

  assert {
    condition     = length(aws_sfn_state_machine.this) == 1
    error_message = "The lowest valid values must plan the state machine."
  }
}

run "accepts_the_highest_and_longest_values" {
  command = plan

  variables {
    name                                   = format("%064d", 0)
    glue_workflow_name                     = format("%0255d", 0)
    poll_interval_seconds                  = 3600
    max_polls_per_execution                = 2196
    runs_per_execution                     = 100
    cooldown_seconds                       = 86400
    role_name                              = format("%064d", 0)
    role_path                              = "/data-platform/loops/"
    logging                                = { level = "ALL" }
    cloudwatch_log_group_name              = "/aws/vendedlogs/states/${format("%0489d", 0)}"
    cloudwatch_log_group_retention_in_days = 3653
    cloudwatch_log_group_kms_key_id        = "arn:aws:kms:eu-west-1:123456789012:key/logs"
    role_arn                               = "arn:aws-us-gov:iam::123456789012:role/platform/loop"
    sns_topic_arn                          = "arn:aws:sns:eu-west-1:123456789012:loop-stops"
    sns_topic_kms_key_arn                  = "arn:aws:kms:eu-west-1:123456789012:key/sns"
    role_permissions_boundary              = "arn:aws:iam::123456789012:policy/boundaries/data-platform"
    recovery                               = { enabled = true, max_attempts = 10, backoff_seconds = 86400, on_actions = ["failed", "timed_out", "stopped", "errored"], when_exhausted = "stop" }
  }

  assert {
    condition     = length(aws_sfn_state_machine.this) == 1
    error_message = "The highest valid values must plan the state machine."
  }
}

# An optional name or ARN is unset by null (its default); an empty string is a value, and a bad one.
run "rejects_empty_strings_for_optional_names_and_arns" {
  command = plan

  variables {
    glue_workflow_name                  = ""
    token_table_name                    = ""
    token_table_kms_key_arn             = ""
    event_dead_letter_queue_kms_key_arn = ""
    callback_role_arn                   = ""
    event_rule_role_arn                 = ""
    pause_parameter_name                = ""
    role_arn                            = ""
    role_name                           = ""
    role_permissions_boundary           = ""
    cloudwatch_log_group_arn            = ""
    cloudwatch_log_group_name           = ""
    cloudwatch_log_group_kms_key_id     = ""
    sns_topic_arn                       = ""
    sns_topic_kms_key_arn               = ""
  }

  expect_failures = [
    var.glue_workflow_name,
    var.token_table_name,
    var.token_table_kms_key_arn,
    var.event_dead_letter_queue_kms_key_arn,
    var.callback_role_arn,
    var.event_rule_role_arn,
    var.pause_parameter_name,
    var.role_arn,
    var.role_name,
    var.role_permissions_boundary,
    var.cloudwatch_log_group_arn,
    var.cloudwatch_log_group_name,
    var.cloudwatch_log_group_kms_key_id,
    var.sns_topic_arn,
    var.sns_topic_kms_key_arn,
  ]
}

run "rejects_values_below_their_range" {
  command = plan

  variables {
    name                                   = ""
    poll_interval_seconds                  = 0
    max_polls_per_execution                = -1
    runs_per_execution                     = 0
    stop_policy                            = { tolerated_actions = -1 }
    max_runs                               = -1
    cooldown_seconds                       = -1
    cloudwatch_log_group_retention_in_days = -1
    recovery                               = { max_attempts = 0 }
  }

  expect_failures = [
    var.name,
    var.poll_interval_seconds,
    var.max_polls_per_execution,
    var.runs_per_execution,
    var.stop_policy,
    var.max_runs,
    var.cooldown_seconds,
    var.cloudwatch_log_group_retention_in_days,
    var.recovery,
  ]
}

run "rejects_values_above_their_range" {
  command = plan

  variables {
    name                                   = format("%065d", 0)
    glue_workflow_name                     = format("%0256d", 0)
    poll_interval_seconds                  = 3601
    max_polls_per_execution                = 2197
    runs_per_execution                     = 101
    cooldown_seconds                       = 86401
    pause_parameter_name                   = "/${format("%01011d", 0)}"
    role_name                              = format("%065d", 0)
    role_path                              = "/${format("%0511d", 0)}/"
    cloudwatch_log_group_name              = format("%0513d", 0)
    cloudwatch_log_group_retention_in_days = 3654
    recovery                               = { backoff_seconds = 86401 }
  }

  expect_failures = [
    var.name,
    var.glue_workflow_name,
    var.poll_interval_seconds,
    var.max_polls_per_execution,
    var.runs_per_execution,
    var.cooldown_seconds,
    var.pause_parameter_name,
    var.role_name,
    var.role_path,
    var.cloudwatch_log_group_name,
    var.cloudwatch_log_group_retention_in_days,
    var.recovery,
  ]
}

run "rejects_fractional_numbers" {
  command = plan

  variables {
    poll_interval_seconds                  = 2.5
    max_polls_per_execution                = 10.5
    runs_per_execution                     = 1.5
    stop_policy                            = { tolerated_actions = 0.5 }
    max_runs                               = 1.5
    cooldown_seconds                       = 0.5
    cloudwatch_log_group_retention_in_days = 30.5
    recovery                               = { max_attempts = 1.5 }
  }

  expect_failures = [
    var.poll_interval_seconds,
    var.max_polls_per_execution,
    var.runs_per_execution,
    var.stop_policy,
    var.max_runs,
    var.cooldown_seconds,
    var.cloudwatch_log_group_retention_in_days,
    var.recovery,
  ]
}

run "rejects_malformed_names_and_arns" {
  command = plan

  variables {
    name                            = "nightly sales"
    glue_workflow_name              = "sales/eu"
    pause_parameter_name            = "glue-workflow-loop/paused"
    role_arn                        = "existing-loop-role"
    role_permissions_boundary       = "arn:aws:iam::123456789012:role/boundary"
    role_name                       = "loop role"
    role_path                       = "platform"
    logging                         = { level = "DEBUG" }
    cloudwatch_log_group_arn        = "arn:aws:logs:eu-west-1:123456789012:log-group:loop:*"
    cloudwatch_log_group_name       = "loop logs"
    cloudwatch_log_group_kms_key_id = "alias/logs"
    sns_topic_arn                   = "arn:aws:sqs:eu-west-1:123456789012:loop-stops"
    sns_topic_kms_key_arn           = "alias/sns"
    recovery                        = { on_actions = ["failed", "succeeded"] }
  }

  expect_failures = [
    var.name,
    var.glue_workflow_name,
    var.pause_parameter_name,
    var.role_arn,
    var.role_permissions_boundary,
    var.role_name,
    var.role_path,
    var.logging,
    var.cloudwatch_log_group_arn,
    var.cloudwatch_log_group_name,
    var.cloudwatch_log_group_kms_key_id,
    var.sns_topic_arn,
    var.sns_topic_kms_key_arn,
    var.recovery,
  ]
}

# recovery is one object: a run holding two bad fields of it could not tell which validation
# refused it, so the bad values the runs above leave untried get a run each.

run "recovery_rejects_more_than_10_attempts" {
  command = plan

  variables {
    recovery = { max_attempts = 11 }
  }

  expect_failures = [var.recovery]
}

run "recovery_rejects_a_negative_backoff" {
  command = plan

  variables {
    recovery = { backoff_seconds = -1 }
  }

  expect_failures = [var.recovery]
}

run "recovery_rejects_a_fractional_backoff" {
  command = plan

  variables {
    recovery = { backoff_seconds = 0.5 }
  }

  expect_failures = [var.recovery]
}

run "recovery_rejects_no_kind_of_action" {
  command = plan

  variables {
    recovery = { on_actions = [] }
  }

  expect_failures = [var.recovery]
}

run "recovery_rejects_an_unknown_when_exhausted" {
  command = plan

  variables {
    recovery = { when_exhausted = "retry" }
  }

  expect_failures = [var.recovery]
}

# pacing, likewise a run for each of its validations.

run "pacing_accepts_its_boundary_values_and_derives_where_its_wait_stops_growing" {
  command = plan

  variables {
    pacing = { enabled = true, idle_property = format("%0255d", 0), initial_seconds = 1, multiplier = 10, max_seconds = 86400 }
  }

  assert {
    # 10^4 < 86400 <= 10^5: the wait reaches its maximum after 5 more idle runs.
    condition     = jsondecode(aws_sfn_state_machine.this[0].definition).States.ApplyDefaults.Parameters.config.pacing.growth_steps == 5
    error_message = "growth_steps must be the idle runs after which the wait reaches max_seconds."
  }
}

run "pacing_rejects_an_empty_idle_property" {
  command = plan

  variables {
    pacing = { idle_property = "" }
  }

  expect_failures = [var.pacing]
}

run "pacing_rejects_a_wait_below_a_second" {
  command = plan

  variables {
    pacing = { initial_seconds = 0 }
  }

  expect_failures = [var.pacing]
}

run "pacing_rejects_a_multiplier_that_shortens_the_wait" {
  command = plan

  variables {
    pacing = { multiplier = 0.5 }
  }

  expect_failures = [var.pacing]
}

run "pacing_rejects_a_maximum_below_the_first_wait" {
  command = plan

  variables {
    pacing = { initial_seconds = 600, max_seconds = 300 }
  }

  expect_failures = [var.pacing]
}

run "requires_a_workflow_name_without_the_sample_workflow" {
  command = plan

  variables {
    glue_workflow_name = null
  }

  expect_failures = [aws_sfn_state_machine.this]
}

run "requires_role_arn_without_create_role" {
  command = plan

  variables {
    create_role = false
  }

  expect_failures = [aws_sfn_state_machine.this]
}

run "requires_a_log_group_arn_with_use_existing_cloudwatch_log_group" {
  command = plan

  variables {
    use_existing_cloudwatch_log_group = true
  }

  expect_failures = [aws_sfn_state_machine.this]
}

# The sample workflow module on its own: its data_prefix is not an input of the root module.

run "sample_workflow_accepts_its_boundary_values" {
  command = plan

  module {
    source = "./modules/sample-glue-workflow"
  }

  variables {
    name                = format("a%036d", 0)
    bucket_name         = "a.b"
    data_prefix         = ""
    job_timeout_minutes = 2880
  }

  assert {
    condition     = aws_s3_bucket.this[0].bucket == "a.b"
    error_message = "A three-character bucket name with a dot must be accepted."
  }
}

run "sample_workflow_rejects_malformed_values" {
  command = plan

  module {
    source = "./modules/sample-glue-workflow"
  }

  variables {
    name                = "Retail_Sample"
    bucket_name         = "Retail-Bucket"
    data_prefix         = "/retail"
    job_timeout_minutes = 0
    idle_property       = ""
  }

  expect_failures = [var.name, var.bucket_name, var.data_prefix, var.job_timeout_minutes, var.idle_property]
}

run "sample_workflow_rejects_values_above_their_range" {
  command = plan

  module {
    source = "./modules/sample-glue-workflow"
  }

  variables {
    name                = format("a%037d", 0)
    bucket_name         = format("a%063d", 0)
    data_prefix         = "retail"
    job_timeout_minutes = 2880.5
  }

  expect_failures = [var.name, var.bucket_name, var.data_prefix, var.job_timeout_minutes]
}

# Events mode.

run "events_mode_accepts_its_boundary_values" {
  command = plan

  variables {
    completion_mode         = "events"
    completion_events       = { job_names = ["j"], crawler_names = ["c"], safety_poll_seconds = 1 }
    token_table_name        = "abc"
    token_table_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/tokens"
    create_role             = false
    role_arn                = "arn:aws:iam::123456789012:role/loop"
    callback_role_arn       = "arn:aws:iam::123456789012:role/loop-callback"
    event_rule_role_arn     = "arn:aws:iam::123456789012:role/loop-events"
  }

  assert {
    condition     = length(aws_sfn_state_machine.callback) == 1 && aws_dynamodb_table.tokens[0].name == "abc"
    error_message = "The lowest valid events mode values must plan the callback and the token table."
  }
}

run "events_mode_accepts_its_highest_values" {
  command = plan

  variables {
    completion_mode   = "events"
    completion_events = { crawler_names = ["c"], safety_poll_seconds = 86400 }
    token_table_name  = format("%0255d", 0)
  }

  assert {
    condition     = length(aws_cloudwatch_event_rule.glue_events) == 1
    error_message = "The highest valid events mode values must plan the rule."
  }
}

run "events_mode_rejects_malformed_values" {
  command = plan

  variables {
    completion_mode         = "push"
    completion_events       = { job_names = ["j"], safety_poll_seconds = 0.5 }
    token_table_name        = "ab"
    token_table_kms_key_arn = "alias/tokens"
    callback_role_arn       = "loop-callback"
    event_rule_role_arn     = "arn:aws:iam::123456789012:user/loop-events"
  }

  expect_failures = [
    var.completion_mode,
    var.completion_events,
    var.token_table_name,
    var.token_table_kms_key_arn,
    var.callback_role_arn,
    var.event_rule_role_arn,
  ]
}

run "events_mode_rejects_empty_names_and_too_long_waits" {
  command = plan

  variables {
    completion_mode   = "events"
    completion_events = { job_names = ["j", " "], safety_poll_seconds = 86401 }
    token_table_name  = format("%0256d", 0)
  }

  expect_failures = [var.completion_events, var.completion_events, var.token_table_name]
}

run "events_mode_rejects_a_callback_watch_longer_than_an_express_execution_allows" {
  command = plan

  variables {
    completion_mode   = "events"
    completion_events = { job_names = ["j"], callback_watch_seconds = 181 }
  }

  expect_failures = [var.completion_events]
}

run "events_mode_requires_job_or_crawler_names" {
  command = plan

  variables {
    completion_mode = "events"
  }

  expect_failures = [aws_cloudwatch_event_rule.glue_events]
}

run "events_mode_requires_callback_role_arn_without_create_role" {
  command = plan

  variables {
    completion_mode     = "events"
    completion_events   = { job_names = ["j"] }
    create_role         = false
    role_arn            = "arn:aws:iam::123456789012:role/loop"
    event_rule_role_arn = "arn:aws:iam::123456789012:role/loop-events"
  }

  expect_failures = [aws_sfn_state_machine.callback]
}

run "events_mode_requires_event_rule_role_arn_without_create_role" {
  command = plan

  variables {
    completion_mode   = "events"
    completion_events = { job_names = ["j"] }
    create_role       = false
    role_arn          = "arn:aws:iam::123456789012:role/loop"
    callback_role_arn = "arn:aws:iam::123456789012:role/loop-callback"
  }

  expect_failures = [aws_cloudwatch_event_target.callback]
}

# wake_on_data.

run "wake_on_data_wakes_on_the_sample_buckets_raw_sales_files" {
  command = plan

  variables {
    glue_workflow_name     = null
    create_sample_workflow = true
    completion_mode        = "events"
    pacing                 = { enabled = true }
    wake_on_data           = { enabled = true }
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.data_events[0].event_pattern).detail.object.key == [{ prefix = "retail/raw/sales/" }]
    error_message = "Without a bucket of the user's, the data rule must match the sample workflow's raw sales files."
  }

  assert {
    condition     = length(module.sample_workflow[0].bucket_name) > 0 && aws_cloudwatch_event_target.wake[0].input_transformer[0].input_paths.time == "$.time"
    error_message = "The data rule's target must hand the callback the event's time."
  }
}

run "wake_on_data_warns_that_it_cannot_see_a_users_bucket_send_events" {
  command = plan

  variables {
    completion_mode   = "events"
    completion_events = { job_names = ["j"] }
    pacing            = { enabled = true }
    wake_on_data      = { enabled = true, bucket_name = "landing.bucket", prefixes = ["raw/"] }
  }

  expect_failures = [check.data_bucket_sends_events]
}

run "wake_on_data_needs_pacing" {
  command = plan

  variables {
    completion_mode   = "events"
    completion_events = { job_names = ["j"] }
    wake_on_data      = { enabled = true, event_pattern = "{\"source\": [\"my.app\"]}" }
  }

  expect_failures = [aws_cloudwatch_event_rule.data_events]
}

run "wake_on_data_rejects_a_malformed_bucket_name" {
  command = plan

  variables {
    wake_on_data = { bucket_name = "Landing_Bucket" }
  }

  expect_failures = [var.wake_on_data]
}

run "wake_on_data_rejects_an_empty_prefix" {
  command = plan

  variables {
    wake_on_data = { bucket_name = "landing", prefixes = [""] }
  }

  expect_failures = [var.wake_on_data]
}

run "wake_on_data_rejects_a_pattern_that_is_not_a_json_object" {
  command = plan

  variables {
    wake_on_data = { event_pattern = "source = aws.s3" }
  }

  expect_failures = [var.wake_on_data]
}

run "wake_on_data_rejects_a_pattern_and_a_bucket_together" {
  command = plan

  variables {
    wake_on_data = { event_pattern = "{}", bucket_name = "landing" }
  }

  expect_failures = [var.wake_on_data]
}

run "wake_on_data_needs_a_bucket_or_a_pattern" {
  command = plan

  variables {
    completion_mode   = "events"
    completion_events = { job_names = ["j"] }
    pacing            = { enabled = true }
    wake_on_data      = { enabled = true }
  }

  expect_failures = [aws_cloudwatch_event_rule.data_events]
}

run "wake_on_data_refuses_a_pattern_over_eventbridges_quota" {
  command = plan

  variables {
    completion_mode   = "events"
    completion_events = { job_names = ["j"] }
    pacing            = { enabled = true }
    wake_on_data      = { enabled = true, bucket_name = "landing", prefixes = [for i in range(100) : format("raw/%030d/", i)] }
  }

  expect_failures = [aws_cloudwatch_event_rule.data_events, check.data_bucket_sends_events]
}
