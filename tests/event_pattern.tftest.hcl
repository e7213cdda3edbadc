# The events mode rule's pattern: the terminal states Glue sends, names matched exactly or by
# prefix, and EventBridge's 2,048-character quota on a pattern refused at plan rather than met at
# apply. tests/test_events_mode.py and tests/test_partitions.py hold patterns against events
# through TestEventPattern; tests/test_plan.py checks the refusal's message.

mock_provider "aws" {
  source          = "./tests/mocks"
  override_during = plan
}

variables {
  name               = "nightly-sales-loop"
  glue_workflow_name = "nightly-sales"
  completion_mode    = "events"
}

run "job_names_and_crawler_names_and_their_prefixes_each_get_a_filter" {
  command = plan

  variables {
    completion_events = {
      job_names             = ["clean", "load"]
      crawler_names         = ["crawl"]
      job_name_prefixes     = ["sales-"]
      crawler_name_prefixes = ["raw-", "ref-"]
    }
  }

  assert {
    condition = aws_cloudwatch_event_rule.glue_events[0].event_pattern == jsonencode({
      source = ["aws.glue"]
      "$or" = [
        { "detail-type" = ["Glue Job State Change"], detail = { jobName = ["clean", "load"], state = ["SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED"] } },
        { "detail-type" = ["Glue Job State Change"], detail = { jobName = [{ prefix = "sales-" }], state = ["SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED"] } },
        { "detail-type" = ["Glue Crawler State Change"], detail = { crawlerName = ["crawl"], state = ["Succeeded", "Failed"] } },
        { "detail-type" = ["Glue Crawler State Change"], detail = { crawlerName = [{ prefix = "raw-" }, { prefix = "ref-" }], state = ["Succeeded", "Failed"] } },
      ]
    })
    error_message = "Exact names and prefixes must each get a filter of their own, matching only the terminal states Glue sends (no ERROR)."
  }
}

run "a_hundred_names_sharing_a_prefix_are_one_prefix_filter" {
  command = plan

  variables {
    completion_events = { job_name_prefixes = ["nightly-sales-job-"] }
  }

  assert {
    condition = aws_cloudwatch_event_rule.glue_events[0].event_pattern == jsonencode({
      source        = ["aws.glue"]
      "detail-type" = ["Glue Job State Change"]
      detail        = { jobName = [{ prefix = "nightly-sales-job-" }], state = ["SUCCEEDED", "FAILED", "TIMEOUT", "STOPPED"] }
    })
    error_message = "One job name prefix must make a pattern of one prefix filter, without an $or."
  }
}

run "a_hundred_short_job_names_fit_in_one_pattern" {
  command = plan

  variables {
    completion_events = { job_names = [for i in range(100) : format("job-%02d", i)] }
  }

  assert {
    condition     = length(jsondecode(aws_cloudwatch_event_rule.glue_events[0].event_pattern).detail.jobName) == 100 && length(aws_cloudwatch_event_rule.glue_events[0].event_pattern) <= 2048
    error_message = "A hundred names that fit in 2,048 characters must all be matched."
  }
}

run "a_pattern_of_exactly_2048_characters_is_accepted" {
  command = plan

  # With an empty name list the pattern is 138 characters; each name adds its length and two
  # quotes, and n names n - 1 commas: 95 names of 17 characters and one of 8 make 2,048.
  variables {
    completion_events = { job_names = concat([for i in range(95) : format("nightly-job-%05d", i)], ["job-last"]) }
  }

  assert {
    condition     = length(aws_cloudwatch_event_rule.glue_events[0].event_pattern) == 2048
    error_message = "A pattern at EventBridge's quota must be accepted."
  }
}

run "a_pattern_of_2049_characters_is_refused" {
  command = plan

  variables {
    completion_events = { job_names = concat([for i in range(95) : format("nightly-job-%05d", i)], ["job-last9"]) }
  }

  expect_failures = [aws_cloudwatch_event_rule.glue_events]
}

run "a_hundred_long_job_names_are_refused_over_the_pattern_quota" {
  command = plan

  variables {
    completion_events = { job_names = [for i in range(100) : format("nightly-sales-job-%03d", i)] }
  }

  expect_failures = [aws_cloudwatch_event_rule.glue_events]
}

run "an_empty_prefix_is_refused" {
  command = plan

  variables {
    completion_events = { job_names = ["j"], crawler_name_prefixes = [""] }
  }

  expect_failures = [var.completion_events]
}
