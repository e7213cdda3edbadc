locals {
  # The contract between the loop and everything that reads its metrics: once per judged run (not
  # per poll) the loop publishes each of these to var.metrics.namespace with the unit named here
  # and the one dimension below. The dashboard and the tests take the names from here.
  metric_dimension = { Name = "WorkflowName", Value = local.glue_workflow_name }
  metric_units = {
    Runs             = "Count"   # 1 per judged run
    RunDuration      = "Seconds" # the run's StartedOn to its CompletedOn
    ActionsSucceeded = "Count"
    ActionsFailed    = "Count"
    ActionsTimedOut  = "Count"
    ActionsStopped   = "Count"
    ActionsErrored   = "Count"
    Polls            = "Count"   # GetWorkflowRun reads of the run (poll mode) or wake-ups (events mode)
    RecoveryAttempts = "Count"   # ResumeWorkflowRun calls for the run
    DetectionDelay   = "Seconds" # the run's CompletedOn to the loop judging it
    IdleRuns         = "Count"   # 1 for a run marked idle (pacing.idle_property), else 0
    IdleWait         = "Seconds" # the back-off before the run after idle runs (pacing), else 0
    WakeDelay        = "Seconds" # data landing to the start of the run it woke (wake_on_data); sent only then
  }

  create_dashboard = var.create && var.create_dashboard
  dashboard_name   = coalesce(var.dashboard_name, var.name)
  # AWS documents a metric widget's region as required ("Dashboard Body Structure and Syntax",
  # https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html);
  # it is read from the loop's ARN, as the workflow ARN is in loop.tf.
  dashboard_region = one([for arn in aws_sfn_state_machine.this[*].arn : split(":", arn)[3]])
  dashboard_period = 3600

  # Without metrics there is nothing of the loop's own to graph, and the executions remain.
  run_widgets = [for widget in [
    { title = "Runs per hour", metrics = ["Runs"], stats = ["Sum"], stacked = false },
    { title = "Run duration", metrics = ["RunDuration"], stats = ["Average", "Maximum"], stacked = false },
    { title = "Unsuccessful actions per hour", metrics = ["ActionsFailed", "ActionsTimedOut", "ActionsErrored", "ActionsStopped"], stats = ["Sum"], stacked = true },
    { title = "Recovery attempts per hour", metrics = ["RecoveryAttempts"], stats = ["Sum"], stacked = false },
    { title = "Polls per run", metrics = ["Polls"], stats = ["Average", "Maximum"], stacked = false },
    { title = "Detection delay", metrics = ["DetectionDelay"], stats = ["Average", "Maximum"], stacked = false },
    { title = "Idle runs per hour", metrics = ["IdleRuns", "Runs"], stats = ["Sum"], stacked = false },
    { title = "Idle wait before a run", metrics = ["IdleWait"], stats = ["Average", "Maximum"], stacked = false },
    { title = "Data landing to run start", metrics = ["WakeDelay"], stats = ["Average", "Maximum"], stacked = false },
  ] : widget if var.metrics.enabled]
  # Step Functions publishes these per state machine, dimension StateMachineArn ("Monitoring Step
  # Functions metrics using Amazon CloudWatch",
  # https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html).
  execution_widgets = concat(
    [{ title = "Loop executions per hour", arn = local.state_machine_arn }],
    local.events_mode ? [{ title = "Callback executions per hour", arn = one(aws_sfn_state_machine.callback[*].arn) }] : [],
  )

  dashboard_widgets = concat(
    [for widget in local.run_widgets : {
      type = "metric"
      properties = {
        title   = widget.title
        region  = local.dashboard_region
        view    = "timeSeries"
        stacked = widget.stacked
        period  = local.dashboard_period
        # Indexing metric_units fails the plan on a name outside the contract.
        yAxis = { left = { label = join(", ", distinct([for name in widget.metrics : local.metric_units[name]])), showUnits = false } }
        metrics = [
          for pair in setproduct(widget.metrics, widget.stats) :
          [var.metrics.namespace, pair[0], local.metric_dimension.Name, local.metric_dimension.Value, { stat = pair[1], label = "${pair[0]} (${pair[1]})" }]
        ]
      }
    }],
    [for widget in local.execution_widgets : {
      type = "metric"
      properties = {
        title   = widget.title
        region  = local.dashboard_region
        view    = "timeSeries"
        stacked = false
        period  = local.dashboard_period
        metrics = [
          for metric in ["ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed"] :
          ["AWS/States", metric, "StateMachineArn", widget.arn, { stat = "Sum" }]
        ]
      }
    }],
  )
}

################################################################################
# Dashboard
################################################################################

resource "aws_cloudwatch_dashboard" "this" {
  count = local.create_dashboard ? 1 : 0

  dashboard_name = local.dashboard_name
  # Two 12-column widgets per row of the 24-column grid.
  dashboard_body = jsonencode({
    widgets = [
      for index, widget in local.dashboard_widgets :
      merge(widget, { x = (index % 2) * 12, y = floor(index / 2) * 6, width = 12, height = 6 })
    ]
  })
}
