locals {
  # History budget: a poll of a running run costs these events (poll mode: Wait, GetWorkflowRun
  # task counting the poll in a variable, Choice: 2 + 5 + 2; events mode: a token wait that times
  # out, then the same task and Choice: 6 + 5 + 2), a run started in the execution costs the
  # run's other events, its metrics included (PublishRunMetrics and a second JudgeRun: 5 + 2; all
  # measured in the tests), and the reserve holds the rest, retries included. AWS's hard quota is
  # 25,000 events.
  history_event_budget    = 20000
  history_events_per_poll = { poll = 9, events = 13 }
  history_events_per_run  = 36
  # A recovery attempt (FindFailedNodes, RecoverOrStop, RecoveryBackoff, ResumeWorkflowRun,
  # RecordRecoveryAttempt, then the resumed run's poll, metrics and second JudgeRun:
  # 5 + 2 + 2 + 5 + 2 + 9 + 7 = 32), so that a run
  # recovered on its k-th attempt costs a clean run's events plus k attempts; and a run accepted
  # once its recovery is spent (its last FindFailedNodes and RecoverOrStop, BuildStop, ShouldNotify,
  # Notify, ShouldNotify, JudgeRun again: 7 + 2 + 2 + 5 + 2 + 2 = 20). Measured in poll mode
  # (tests/test_recovery.py). The attempt counts its resumed run's one poll, as a run's events count
  # its one poll; in events mode that poll is a token wait, which costs less (measured too), so 32 is
  # an upper bound there.
  history_events_per_recovery_attempt = 32
  history_events_per_accepted_run     = 20
  history_events_of_recovery_per_run = var.recovery.enabled ? (
    var.recovery.max_attempts * local.history_events_per_recovery_attempt + (var.recovery.when_exhausted == "continue" ? local.history_events_per_accepted_run : 0)
  ) : 0
  history_event_reserve = 200
  # wake_on_data waits before an idle run with a token task (6 events: entered, scheduled, started,
  # submitted, its end, exited) rather than a Wait (2): 4 more per run (measured in
  # tests/test_wake_on_data.py).
  history_events_of_idle_wait    = 4
  history_events_per_run_in_mode = local.history_events_per_run + local.history_events_of_recovery_per_run + (local.wake_on_data ? local.history_events_of_idle_wait : 0)
  max_polls_per_execution = var.max_polls_per_execution > 0 ? var.max_polls_per_execution : floor(
    (local.history_event_budget - local.history_event_reserve - var.runs_per_execution * local.history_events_per_run_in_mode) / local.history_events_per_poll[var.completion_mode]
  )

  # A kind of unsuccessful action that must never stop the loop gets a threshold no run reaches.
  never = 2147483647
  tolerated = {
    for kind in ["failed", "timed_out", "stopped", "errored"] :
    kind => var.stop_policy["stop_on_${kind}_actions"] ? var.stop_policy.tolerated_actions : local.never
  }

  # The workflow ARN is built from the state machine's own ARN so the module needs no
  # aws_region lookup (whose attributes differ between provider 5.x and 6.x).
  state_machine_arn = one(aws_sfn_state_machine.this[*].arn)
  glue_workflow_arn = one([
    for arn in aws_sfn_state_machine.this[*].arn :
    format("arn:%s:glue:%s:%s:workflow/%s", split(":", arn)[1], split(":", arn)[3], split(":", arn)[4], local.glue_workflow_name)
  ])

  # A JSONata function turning a Glue timestamp, in whatever form the aws-sdk integration hands it
  # over, into the one form every JSONata $toMillis reads: ECMAScript's date-time string,
  # YYYY-MM-DDTHH:mm:ss.sssZ or with a +HH:mm offset (jsonata-js parses with Date.parse, which is
  # sure of no other form). How Step Functions serialises an SDK result's timestamps is
  # undocumented: the loop assumes an ISO 8601 string with "T" or " ", "Z", "+00:00" or "+0000",
  # and any number of fraction digits, or epoch seconds, a number (the wire form of Glue's JSON
  # protocol) or its text. Any other form, one without an offset among them (it names no instant), is passed
  # on as it came, and $toMillis refuses it. The sample job's parse_timestamp reads the same forms.
  # No backslash or double quote, as it is spliced into JSON strings of the templates.
  jsonata_timestamp = join(" ", [
    "function($t) {($seconds := $type($t) = 'number' ? $t : $type($t) = 'string' and $contains($t, /^[0-9]+([.][0-9]+)?$/) ? $number($t);",
    "$exists($seconds) ? $fromMillis($round($seconds * 1000)) : $type($t) != 'string' ? $t : (",
    "$g := $match($t, /^([0-9]{4}-[0-9]{2}-[0-9]{2})[T ]([0-9]{2}:[0-9]{2}:[0-9]{2})([.][0-9]+|)(Z|[+-][0-9]{2}:?[0-9]{2})$/).groups;",
    "$offset := $g[3] = 'Z' ? 'Z' : $length($g[3]) = 5 ? $substring($g[3], 0, 3) & ':' & $substring($g[3], 3) : $g[3];",
    "$exists($g) ? $g[0] & 'T' & $g[1] & '.' & $substring($substring($g[2], 1) & '000', 0, 3) & $offset : $t))}",
  ])
  # JSONata functions that bound what a stop carries: names joined within a number of characters,
  # then "and N more"; a text cut to a number of characters, saying how many more there were.
  jsonata_names_within = join(" ", [
    "function($names, $budget) {($names := $append([], $names);",
    "$kept := $append([], $filter($names, function($name, $i) {$sum($map($names[[0..$i]], function($each) {$length($each)})) + 2 * $i <= $budget}));",
    "$count($kept) < $count($names) ? $append($kept, ['and ' & ($count($names) - $count($kept)) & ' more']) : $kept)}",
  ])
  jsonata_clip_text = "function($text, $budget) {$length($text) > $budget ? $substring($text, 0, $budget) & '... (' & ($length($text) - $budget) & ' more characters)' : $text}"
  # A JSONata function of the loop's input and settings: the wait before its next run, and whether
  # it is an idle back-off (pacing in variables.tf), in seconds a Wait accepts (a whole number).
  jsonata_wait_before_run = join(" ", [
    "function($loop, $config) {($pacing := $config.pacing; $idle := $loop.run_number > 1 and $pacing.enabled and $loop.idle_runs > 0;",
    "{'idle': $idle, 'seconds': $loop.run_number = 1 ? 0 : $idle ? $min([$pacing.max_seconds, $round($pacing.initial_seconds * $power($pacing.multiplier, $min([$loop.idle_runs - 1, $pacing.growth_steps])))]) : $config.cooldown_seconds})}",
  ])
  # The format of the input an execution hands its successor (JudgeRun's next in statemachine.asl.json),
  # raised whenever a field is added, removed or changes meaning. A running execution keeps the definition
  # it started with but starts its successor on whatever the state machine holds by then, so a
  # definition reads its own format and the previous release's, and refuses any other (CheckHandoverFormat)
  # rather than misread it. Format 1 has no handover_format field: the module's inputs before formats were
  # numbered, and every start by hand (docs/operations.md, "Upgrading").
  handover_format       = 2
  handover_formats_read = [1, local.handover_format]
  definition_template_variables = {
    partition             = local.partition
    console_domain        = local.console_domain
    glue_workflow_name    = local.glue_workflow_name
    token_table_name      = local.token_table_name
    timestamp             = local.jsonata_timestamp
    names_within          = local.jsonata_names_within
    clip_text             = local.jsonata_clip_text
    wait_before_run       = local.jsonata_wait_before_run
    data_arrival_key      = local.data_arrival_key
    handover_format       = local.handover_format
    handover_formats_read = jsonencode(local.handover_formats_read)
  }
  # The settings the loop reads from $.config, as JSON values: ApplyDefaults gets them here rather
  # than from the template, where a number could only be a string or an intrinsic.
  loop_config = {
    # Names reach JSONata text as values, never spliced into it, so no character of theirs can break it.
    workflow                = local.glue_workflow_name
    poll_interval_seconds   = var.poll_interval_seconds
    safety_poll_seconds     = var.completion_events.safety_poll_seconds
    max_polls_per_execution = local.max_polls_per_execution
    cooldown_seconds        = var.cooldown_seconds
    max_runs                = var.max_runs
    runs_per_execution      = var.runs_per_execution
    tolerated               = local.tolerated
    adopt_run_in_flight     = var.adopt_run_in_flight
    # The first wait before looking for the run a failed start or resume may have made, doubled
    # after each further failure; not an input, a setting the tests shorten.
    look_backoff_seconds = 1
    recovery             = var.recovery
    # growth_steps: the idle runs after which the wait reaches max_seconds, so that the loop's
    # $power never meets an exponent it cannot raise to (a weekend's idle runs, or a year's).
    pacing = merge(var.pacing, {
      growth_steps = var.pacing.multiplier > 1 ? ceil(log(var.pacing.max_seconds / var.pacing.initial_seconds, var.pacing.multiplier)) : 0
    })
    # The definition names "no pause flag" and "no topic" as "": its Choice rules compare strings.
    pause_parameter = local.pause_parameter_name != null ? local.pause_parameter_name : ""
    sns_topic_arn   = local.notify ? local.sns_topic_arn : ""
    # Dimensions in PutMetricData's own shape; names and units are in metrics.tf.
    metrics = { enabled = var.metrics.enabled, namespace = var.metrics.namespace, dimensions = [local.metric_dimension] }
  }
  # The definitions' JSON files (statemachine.*.json, callback.*.json) name these values ${name}.
  # They are filled in by splitting each file at "${" rather than by templatefile, which parses
  # the file as an HCL template twice per evaluation (once for its result type, once to render it):
  # a sixth of Terraform's CPU in a plan of this module (terraform test of tests/validation.tftest.hcl,
  # 22.8 -> 18.8 CPU-s). A name that is not among them, or a ${ not followed by a name and }, fails the
  # plan, as templatefile does.
  # "\u0024{" is "${": python-hcl2, which the tests, the docs and checkov read this file with, fails on "$${".
  definition_template_pieces = {
    for file_name in ["statemachine.asl.json", "statemachine.events.json", "statemachine.wake.json", "callback.asl.json", "callback.wake.json"] :
    file_name => split("\u0024{", file("${path.module}/${file_name}"))
  }
  definition_texts = {
    for file_name, pieces in local.definition_template_pieces : file_name => join("", concat([pieces[0]], [
      for piece in slice(pieces, 1, length(pieces)) :
      "${local.definition_template_variables[one(regex("^(\\w+)}", piece))]}${replace(piece, "/^\\w+}/", "")}"
    ]))
  }
  poll_template = jsondecode(local.definition_texts["statemachine.asl.json"])
  poll_states = merge(local.poll_template.States, {
    ApplyDefaults = merge(local.poll_template.States.ApplyDefaults, {
      Parameters = merge(local.poll_template.States.ApplyDefaults.Parameters, { config = local.loop_config })
    })
  })
  # Events mode swaps the WaitForRun state for a token wait (and its fallback) from statemachine.events.json.
  events_states = jsondecode(local.definition_texts["statemachine.events.json"])
  # wake_on_data adds a wait that new data ends (statemachine.wake.json), which ResumeOrStart takes
  # instead of Cooldown after an idle run, and after a busy one too unless cooldown_seconds asks for
  # a fixed wait: the loop then starts no run before data has arrived or the back-off runs out.
  wake_states = { for name, state in merge(
    jsondecode(local.definition_texts["statemachine.wake.json"]),
    {
      ResumeOrStart = merge(local.poll_states.ResumeOrStart, {
        Choices = concat(local.poll_states.ResumeOrStart.Choices, [{
          And = [
            { Variable = "$.loop.run_number", NumericGreaterThan = 1 },
            { Variable = "$.config.pacing.enabled", BooleanEquals = true },
            { Or = [{ Variable = "$.loop.idle_runs", NumericGreaterThan = 0 }, { Variable = "$.config.cooldown_seconds", NumericEquals = 0 }] },
          ]
          Next = "WaitForData"
        }])
      })
    },
  ) : name => state if local.wake_on_data }
  loop_definition = (var.completion_mode == "poll"
    ? jsonencode(merge(local.poll_template, { States = local.poll_states }))
    : jsonencode(merge(local.poll_template, { States = merge(local.poll_states, local.events_states, local.wake_states) }))
  )

  start_loop_command = one([
    for arn in aws_sfn_state_machine.this[*].arn :
    "aws stepfunctions start-execution --state-machine-arn ${arn} --input '${jsonencode({ run_properties = {} })}'"
  ])
}

################################################################################
# State machine
################################################################################

resource "aws_sfn_state_machine" "this" {
  count = var.create ? 1 : 0

  name       = var.name
  type       = "STANDARD"
  role_arn   = local.create_role ? aws_iam_role.this[0].arn : var.role_arn
  definition = local.loop_definition

  dynamic "logging_configuration" {
    for_each = local.logging_enabled ? [1] : []
    content {
      level                  = var.logging.level
      include_execution_data = var.logging.include_execution_data
      log_destination        = "${local.log_group_arn}:*"
    }
  }

  tracing_configuration {
    enabled = var.tracing_enabled
  }

  tags = merge(var.tags, var.state_machine_tags)

  lifecycle {
    precondition {
      condition     = var.create_sample_workflow || var.glue_workflow_name != null
      error_message = "glue_workflow_name must be set unless create_sample_workflow is true."
    }
    precondition {
      condition     = local.max_polls_per_execution >= 1
      error_message = "runs_per_execution runs with their recovery attempts leave no room for polls in an execution's history budget: lower runs_per_execution or recovery.max_attempts, or set max_polls_per_execution."
    }
    precondition {
      condition     = var.create_role || var.role_arn != null
      error_message = "role_arn must be set when create_role is false."
    }
    precondition {
      condition     = !var.use_existing_cloudwatch_log_group || var.cloudwatch_log_group_arn != null || var.logging.level == "OFF"
      error_message = "cloudwatch_log_group_arn must be set when use_existing_cloudwatch_log_group is true."
    }
  }

  # Step Functions checks at creation that the role may deliver logs, so that policy must exist first.
  depends_on = [aws_iam_role_policy.observability]
}
