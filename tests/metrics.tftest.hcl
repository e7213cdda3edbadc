# The loop's CloudWatch metrics, planned against a mocked provider: the role may publish them to
# their namespace only, the loop is told where they go, and the dashboard graphs the names of the
# contract (output cloudwatch_metrics, the locals the loop's publishing state reads) with the
# dimension the loop publishes, beside the state machines' own execution metrics.

mock_provider "aws" {
  source          = "./tests/mocks"
  override_during = plan
}

variables {
  name               = "nightly-sales-loop"
  glue_workflow_name = "nightly-sales"
}

run "metrics_are_on_and_the_dashboard_off_by_default" {
  command = plan

  assert {
    condition     = length(aws_cloudwatch_dashboard.this) == 0 && output.cloudwatch_dashboard_name == null && output.cloudwatch_dashboard_arn == null
    error_message = "The dashboard must be opt-in."
  }

  assert {
    condition = [
      for statement in data.aws_iam_policy_document.loop[0].statement :
      [statement.actions, statement.resources, [for condition in statement.condition : "${condition.test} ${condition.variable} ${join(",", condition.values)}"]]
      if statement.sid == "PublishRunMetrics"
    ] == [[toset(["cloudwatch:PutMetricData"]), toset(["*"]), ["StringEquals cloudwatch:namespace GlueWorkflowLoop"]]]
    error_message = "The role must be allowed PutMetricData in the default namespace only."
  }

  assert {
    condition = jsondecode(aws_sfn_state_machine.this[0].definition).States.ApplyDefaults.Parameters.config.metrics == {
      enabled    = true
      namespace  = "GlueWorkflowLoop"
      dimensions = [{ Name = "WorkflowName", Value = "nightly-sales" }]
    }
    error_message = "The loop must be told to publish to the default namespace with the workflow's name as its dimension."
  }

  assert {
    condition     = output.cloudwatch_metrics.namespace == "GlueWorkflowLoop" && output.cloudwatch_metrics.dimensions == [{ Name = "WorkflowName", Value = "nightly-sales" }]
    error_message = "The metrics output must name the namespace and dimension the loop is told."
  }
}

run "dashboard_graphs_the_contract_metrics_by_workflow_and_the_loop_executions" {
  command = plan

  variables {
    create_dashboard = true
    metrics          = { namespace = "DataPlatform/Loops" }
  }

  assert {
    condition     = length(aws_cloudwatch_dashboard.this) == 1 && aws_cloudwatch_dashboard.this[0].dashboard_name == "nightly-sales-loop"
    error_message = "create_dashboard must create a dashboard named after the loop."
  }

  assert {
    condition = alltrue([
      for metric in concat([for widget in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : widget.properties.metrics]...) :
      (metric[0] == "AWS/States" && metric[2] == "StateMachineArn") || (metric[0] == "DataPlatform/Loops" && metric[2] == "WorkflowName" && metric[3] == "nightly-sales")
    ])
    error_message = "Every graphed metric must be the loop's own, in metrics.namespace by the workflow's name, or a state machine's execution metric."
  }

  assert {
    condition = toset([
      for metric in concat([for widget in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : widget.properties.metrics]...) :
      metric[1] if metric[0] == "DataPlatform/Loops"
    ]) == setsubtract(keys(output.cloudwatch_metrics.units), ["ActionsSucceeded"])
    error_message = "The dashboard must graph every metric of the contract but ActionsSucceeded, and nothing the loop does not publish."
  }

  assert {
    condition = [
      for widget in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets :
      toset([for metric in widget.properties.metrics : metric[1]]) if widget.properties.metrics[0][0] == "AWS/States"
      ] == [toset(["ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed"])] && toset([
        for metric in concat([for widget in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : widget.properties.metrics]...) :
        metric[3] if metric[0] == "AWS/States"
    ]) == toset([aws_sfn_state_machine.this[0].arn])
    error_message = "In poll mode one widget must graph the executions started, succeeded and failed of the loop's state machine, and no other."
  }

  assert {
    condition     = toset([for widget in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : widget.properties.region]) == toset(["eu-west-1"])
    error_message = "Every widget must name the loop's region (a metric widget's region is required)."
  }

  assert {
    condition = length(distinct([
      for widget in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : [widget.x, widget.y]
    ])) == length(jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets)
    error_message = "No two widgets may share a place on the grid."
  }

  assert {
    condition     = output.cloudwatch_dashboard_name == "nightly-sales-loop"
    error_message = "The dashboard name output must name the dashboard."
  }

  assert {
    condition = [
      for statement in data.aws_iam_policy_document.loop[0].statement :
      [for condition in statement.condition : "${condition.test} ${condition.variable} ${join(",", condition.values)}"] if statement.sid == "PublishRunMetrics"
    ] == [["StringEquals cloudwatch:namespace DataPlatform/Loops"]]
    error_message = "The role may publish to metrics.namespace only."
  }
}

run "events_mode_dashboard_adds_the_callback_executions" {
  command = plan

  variables {
    create_dashboard  = true
    completion_mode   = "events"
    completion_events = { job_names = ["clean"] }
  }

  override_resource {
    target          = aws_sfn_state_machine.callback
    override_during = plan
    values          = { arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:nightly-sales-loop-callback" }
  }

  assert {
    condition = [
      for widget in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets :
      toset([for metric in widget.properties.metrics : metric[3]]) if widget.properties.metrics[0][0] == "AWS/States"
    ] == [toset([aws_sfn_state_machine.this[0].arn]), toset(["arn:aws:states:eu-west-1:123456789012:stateMachine:nightly-sales-loop-callback"])]
    error_message = "In events mode the dashboard must graph the loop's executions and, in a widget of its own, the callback's."
  }
}

run "metrics_off_grant_nothing_and_leave_the_dashboard_the_executions" {
  command = plan

  variables {
    create_dashboard = true
    metrics          = { enabled = false }
  }

  assert {
    condition     = !contains([for statement in data.aws_iam_policy_document.loop[0].statement : statement.sid], "PublishRunMetrics")
    error_message = "With metrics off the role must not be allowed to publish any."
  }

  assert {
    condition     = !jsondecode(aws_sfn_state_machine.this[0].definition).States.ApplyDefaults.Parameters.config.metrics.enabled && output.cloudwatch_metrics == null
    error_message = "With metrics off the loop must be told not to publish, and the metrics output must be null."
  }

  assert {
    condition = toset([
      for metric in concat([for widget in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : widget.properties.metrics]...) : metric[0]
    ]) == toset(["AWS/States"])
    error_message = "With metrics off the dashboard must graph the loop's executions only."
  }
}

run "accepts_the_longest_namespace_and_dashboard_name" {
  command = plan

  variables {
    create_dashboard = true
    metrics          = { namespace = "Data:Platform/${format("%0241d", 0)}" }
    dashboard_name   = format("loops_-%0248d", 0)
  }

  assert {
    condition     = aws_cloudwatch_dashboard.this[0].dashboard_name == format("loops_-%0248d", 0)
    error_message = "dashboard_name must name the dashboard."
  }
}

run "refuses_an_aws_namespace" {
  command = plan

  variables {
    metrics = { namespace = "AWS/X" }
  }

  expect_failures = [var.metrics]
}

run "refuses_an_empty_namespace_and_a_dashboard_name_with_a_space" {
  command = plan

  variables {
    metrics        = { namespace = "" }
    dashboard_name = "nightly loop"
  }

  expect_failures = [var.metrics, var.dashboard_name]
}

run "refuses_a_namespace_starting_with_a_colon" {
  command = plan

  variables {
    metrics = { namespace = ":loops" }
  }

  expect_failures = [var.metrics]
}

run "refuses_a_namespace_and_a_dashboard_name_of_256_characters" {
  command = plan

  variables {
    metrics        = { namespace = format("%0256d", 0) }
    dashboard_name = format("%0256d", 0)
  }

  expect_failures = [var.metrics, var.dashboard_name]
}
