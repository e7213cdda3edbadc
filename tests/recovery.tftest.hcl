# Recovery before stopping, planned against a mocked provider: the role may resume the workflow's
# runs only when recovery is on, the loop is told the recovery settings, and the history budget
# (loop.tf) leaves room for every attempt a run may make. The budget is recomputed here from the
# module's own constants, which tests/test_recovery.py measures against executions.

mock_provider "aws" {
  source          = "./tests/mocks"
  override_during = plan
}

variables {
  name               = "nightly-sales-loop"
  glue_workflow_name = "nightly-sales"
}

run "recovery_off_grants_no_resume_and_leaves_the_budget_as_without_it" {
  command = plan

  assert {
    condition     = !contains([for statement in data.aws_iam_policy_document.loop[0].statement : statement.sid], "ResumeFailedNodes")
    error_message = "Without recovery the role must not be allowed to resume a workflow run."
  }

  assert {
    condition     = jsondecode(aws_sfn_state_machine.this[0].definition).States.ApplyDefaults.Parameters.config.recovery.enabled == false
    error_message = "Recovery must be off by default."
  }

  assert {
    condition = output.max_polls_per_execution == floor(
      (local.history_event_budget - local.history_event_reserve - local.history_events_per_run) / local.history_events_per_poll.poll
    )
    error_message = "With recovery off the derived budget must be the one of a run without recovery."
  }
}

run "recovery_on_grants_resume_on_the_workflow_only" {
  command = plan

  variables {
    recovery = { enabled = true }
  }

  assert {
    condition = [
      for statement in data.aws_iam_policy_document.loop[0].statement :
      [statement.actions, statement.resources, length(statement.condition)] if statement.sid == "ResumeFailedNodes"
    ] == [[toset(["glue:ResumeWorkflowRun"]), toset([output.glue_workflow_arn]), 0]]
    error_message = "With recovery the role must be allowed glue:ResumeWorkflowRun on the loop's workflow and nothing else."
  }

  assert {
    condition = length([
      for statement in data.aws_iam_policy_document.loop[0].statement : statement
      if contains(statement.actions, "glue:ResumeWorkflowRun")
    ]) == 1
    error_message = "glue:ResumeWorkflowRun must be granted by ResumeFailedNodes alone."
  }
}

run "recovery_on_renders_its_settings_into_the_definition" {
  command = plan

  variables {
    recovery = { enabled = true, max_attempts = 3, backoff_seconds = 0, on_actions = ["errored"], when_exhausted = "continue" }
  }

  assert {
    condition = jsondecode(aws_sfn_state_machine.this[0].definition).States.ApplyDefaults.Parameters.config.recovery == {
      enabled = true, max_attempts = 3, backoff_seconds = 0, on_actions = ["errored"], when_exhausted = "continue"
    }
    error_message = "The loop must be told every recovery setting as given."
  }
}

# Each run of an execution may spend max_attempts attempts, and under when_exhausted = continue
# the accepted run's notice besides; runs_per_execution = 2 shows the cost counted per run.

run "recovery_off_budget_of_two_runs" {
  command = plan

  variables {
    runs_per_execution = 2
  }

  assert {
    condition = output.max_polls_per_execution == floor(
      (local.history_event_budget - local.history_event_reserve - 2 * local.history_events_per_run) / local.history_events_per_poll.poll
    )
    error_message = "Without recovery the budget must leave room for two runs alone."
  }
}

run "recovery_on_shrinks_the_budget_by_every_attempt_of_every_run" {
  command = plan

  variables {
    runs_per_execution = 2
    recovery           = { enabled = true, max_attempts = 3 }
  }

  assert {
    condition = output.max_polls_per_execution == floor(
      (local.history_event_budget - local.history_event_reserve - 2 * (local.history_events_per_run + 3 * local.history_events_per_recovery_attempt)) / local.history_events_per_poll.poll
    )
    error_message = "The budget must leave room for three recovery attempts in each of two runs."
  }

  assert {
    condition     = output.max_polls_per_execution < run.recovery_off_budget_of_two_runs.max_polls_per_execution
    error_message = "Recovery must leave fewer polls than the same loop without it."
  }
}

run "recovery_continuing_when_exhausted_shrinks_the_budget_by_the_accepted_run_too" {
  command = plan

  variables {
    runs_per_execution = 2
    recovery           = { enabled = true, max_attempts = 3, when_exhausted = "continue" }
  }

  assert {
    condition = output.max_polls_per_execution == floor(
      (local.history_event_budget - local.history_event_reserve - 2 * (local.history_events_per_run + 3 * local.history_events_per_recovery_attempt + local.history_events_per_accepted_run)) / local.history_events_per_poll.poll
    )
    error_message = "Under when_exhausted = continue the budget must also leave room for the accepted run of each of two runs."
  }

  assert {
    condition     = output.max_polls_per_execution < run.recovery_on_shrinks_the_budget_by_every_attempt_of_every_run.max_polls_per_execution
    error_message = "Continuing after the attempts must leave fewer polls than stopping after them."
  }
}

run "recovery_on_in_events_mode_divides_the_same_room_by_the_dearer_poll" {
  command = plan

  variables {
    completion_mode   = "events"
    completion_events = { job_names = ["clean"] }
    recovery          = { enabled = true, max_attempts = 3 }
  }

  assert {
    condition = output.max_polls_per_execution == floor(
      (local.history_event_budget - local.history_event_reserve - (local.history_events_per_run + 3 * local.history_events_per_recovery_attempt)) / local.history_events_per_poll.events
    )
    error_message = "In events mode the room left after the recovery attempts must be divided by the events-mode poll."
  }
}

# 100 runs an execution, each with 10 attempts and an accepted run, would spend more than the
# whole history budget before a single poll.
run "refuses_runs_and_attempts_that_leave_no_room_for_polls" {
  command = plan

  variables {
    runs_per_execution = 100
    recovery           = { enabled = true, max_attempts = 10, when_exhausted = "continue" }
  }

  expect_failures = [aws_sfn_state_machine.this]
}

run "an_explicit_poll_budget_is_not_refused_for_the_same_settings" {
  command = plan

  variables {
    runs_per_execution      = 100
    max_polls_per_execution = 10
    recovery                = { enabled = true, max_attempts = 10, when_exhausted = "continue" }
  }

  assert {
    condition     = output.max_polls_per_execution == 10
    error_message = "An explicit max_polls_per_execution must stand whatever the derived budget would be."
  }
}
