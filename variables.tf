################################################################################
# General (main.tf)
################################################################################

variable "create" {
  description = "Whether to create any resource at all. false turns the module into a no-op (for conditional use in a parent module)."
  type        = bool
  default     = true
  nullable    = false
}

variable "name" {
  description = "Name of the state machine; also the default name of its IAM role and log group."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.name))
    error_message = "name must be 1-64 characters of letters, digits, hyphens and underscores (it names the state machine, the IAM role and the log group)."
  }
}

variable "glue_workflow_name" {
  description = "Name of the existing AWS Glue workflow the loop keeps running. Leave it null with create_sample_workflow = true."
  type        = string
  default     = null

  validation {
    condition     = var.glue_workflow_name == null || can(regex("^[A-Za-z0-9_.-]{1,255}$", var.glue_workflow_name))
    error_message = "glue_workflow_name must be 1-255 characters of letters, digits, '.', '-' and '_' (an AWS Glue workflow name)."
  }
}

variable "tags" {
  description = "Tags for every resource the module creates."
  type        = map(string)
  default     = {}
  nullable    = false
}

################################################################################
# Loop state machine (loop.tf)
################################################################################

variable "poll_interval_seconds" {
  description = "Seconds between two GetWorkflowRun calls while a run is in flight. Each poll costs state transitions; a shorter interval notices a finished run sooner."
  type        = number
  default     = 60
  nullable    = false

  validation {
    condition     = var.poll_interval_seconds >= 1 && var.poll_interval_seconds <= 3600 && floor(var.poll_interval_seconds) == var.poll_interval_seconds
    error_message = "poll_interval_seconds must be a whole number of seconds from 1 to 3600."
  }
}

variable "max_polls_per_execution" {
  description = "Polls of one run an execution makes before it hands the run to a fresh execution, which keeps every execution's history under 20,000 events. 0 derives it from that budget (2,196 polls with the defaults; the max_polls_per_execution output shows it). A value set here stands as set: with more than one run per execution, recovery or events mode, keep it at or under the derived one."
  type        = number
  default     = 0
  nullable    = false

  validation {
    # floor((20,000 - 200 reserved - 36 for the run) / 9 events per poll), loop.tf's budget with its cheapest
    # poll (poll mode) and one run: the derived default of the default configuration.
    condition     = var.max_polls_per_execution >= 0 && var.max_polls_per_execution <= 2196 && floor(var.max_polls_per_execution) == var.max_polls_per_execution
    error_message = "max_polls_per_execution must be a whole number from 0 (derived) to 2196 (the most polls a 20,000-event history holds, at 9 events a poll with one run per execution)."
  }
}

variable "runs_per_execution" {
  description = "Clean runs one execution drives before it continues as a new execution (the history budget shrinks accordingly)."
  type        = number
  default     = 1
  nullable    = false

  validation {
    condition     = var.runs_per_execution >= 1 && var.runs_per_execution <= 100 && floor(var.runs_per_execution) == var.runs_per_execution
    error_message = "runs_per_execution must be a whole number from 1 to 100."
  }
}

variable "stop_policy" {
  description = "Which unsuccessful actions stop the loop, and how many of each kind a run may have and still count as clean. A run that ends STOPPED or ERROR always stops it."
  type = object({
    stop_on_failed_actions    = optional(bool, true)
    stop_on_timed_out_actions = optional(bool, true)
    stop_on_stopped_actions   = optional(bool, true)
    stop_on_errored_actions   = optional(bool, true)
    tolerated_actions         = optional(number, 0)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.stop_policy.tolerated_actions >= 0 && floor(var.stop_policy.tolerated_actions) == var.stop_policy.tolerated_actions
    error_message = "stop_policy.tolerated_actions must be a whole number of 0 or more."
  }
}

variable "recovery" {
  description = "Recovery before stopping, off by default. With enabled, a run that ends COMPLETED and would stop the loop by a kind of action in on_actions (failed, timed_out, stopped, errored) is resumed: after backoff_seconds the loop calls glue:ResumeWorkflowRun with every job and crawler node of the run that did not succeed, then waits for and judges the resumed run like any run, at most max_attempts times per run. When they are spent, when_exhausted says what follows: stop, as without recovery (the cause lists every attempt), or continue, which publishes the notice and goes on with the next run. A run that ends STOPPED or ERROR cannot be resumed and always stops the loop."
  type = object({
    enabled         = optional(bool, false)
    max_attempts    = optional(number, 2)
    backoff_seconds = optional(number, 60)
    on_actions      = optional(list(string), ["failed", "timed_out"])
    when_exhausted  = optional(string, "stop")
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.recovery.max_attempts >= 1 && var.recovery.max_attempts <= 10 && floor(var.recovery.max_attempts) == var.recovery.max_attempts
    error_message = "recovery.max_attempts must be a whole number from 1 to 10."
  }

  validation {
    condition     = var.recovery.backoff_seconds >= 0 && var.recovery.backoff_seconds <= 86400 && floor(var.recovery.backoff_seconds) == var.recovery.backoff_seconds
    error_message = "recovery.backoff_seconds must be a whole number from 0 to 86400."
  }

  validation {
    condition     = length(var.recovery.on_actions) > 0 && alltrue([for kind in var.recovery.on_actions : contains(["failed", "timed_out", "stopped", "errored"], kind)])
    error_message = "recovery.on_actions must name one or more of failed, timed_out, stopped and errored."
  }

  validation {
    condition     = contains(["stop", "continue"], var.recovery.when_exhausted)
    error_message = "recovery.when_exhausted must be stop or continue."
  }
}

variable "max_runs" {
  description = "Clean runs after which the chain ends on its own; 0 runs forever."
  type        = number
  default     = 0
  nullable    = false

  validation {
    condition     = var.max_runs >= 0 && floor(var.max_runs) == var.max_runs
    error_message = "max_runs must be a whole number of 0 (forever) or more."
  }
}

variable "cooldown_seconds" {
  description = "Seconds to wait after a clean run before starting the next one."
  type        = number
  default     = 0
  nullable    = false

  validation {
    condition     = var.cooldown_seconds >= 0 && var.cooldown_seconds <= 86400 && floor(var.cooldown_seconds) == var.cooldown_seconds
    error_message = "cooldown_seconds must be a whole number from 0 to 86400."
  }
}

variable "pacing" {
  description = "Backs off when runs find nothing, off by default. A job of the workflow marks its run idle by setting the workflow run property idle_property to \"true\" (glue:PutWorkflowRunProperties; the sample workflow's clean_sales does when no file arrived since the previous run started). The loop reads it from the GetWorkflowRun it makes anyway and counts idle runs in a row: after k of them the next run waits min(max_seconds, initial_seconds x multiplier^(k-1)) instead of cooldown_seconds, and a run not marked idle sets the wait back to cooldown_seconds. The pause flag is read after the wait, so a pause during it ends the chain without starting a run. Attributes: enabled, idle_property, initial_seconds, multiplier, max_seconds."
  type = object({
    enabled         = optional(bool, false)
    idle_property   = optional(string, "glue_loop_idle")
    initial_seconds = optional(number, 60)
    multiplier      = optional(number, 2)
    max_seconds     = optional(number, 3600)
  })
  default  = {}
  nullable = false

  validation {
    condition     = length(var.pacing.idle_property) >= 1 && length(var.pacing.idle_property) <= 255
    error_message = "pacing.idle_property must be a run property name of 1 to 255 characters."
  }

  validation {
    condition     = var.pacing.initial_seconds >= 1 && var.pacing.initial_seconds <= 86400 && floor(var.pacing.initial_seconds) == var.pacing.initial_seconds
    error_message = "pacing.initial_seconds must be a whole number from 1 to 86400."
  }

  validation {
    condition     = var.pacing.multiplier >= 1 && var.pacing.multiplier <= 10
    error_message = "pacing.multiplier must be a number from 1 (the same wait after every idle run) to 10."
  }

  validation {
    condition     = var.pacing.max_seconds >= var.pacing.initial_seconds && var.pacing.max_seconds <= 86400 && floor(var.pacing.max_seconds) == var.pacing.max_seconds
    error_message = "pacing.max_seconds must be a whole number from pacing.initial_seconds to 86400."
  }
}

variable "wake_on_data" {
  description = "Starts the next run the moment new data lands, and none before, off by default; needs pacing.enabled and completion_mode \"events\". The wait before a run (after an idle run, and after a busy one when cooldown_seconds is 0) becomes a task-token wait, bounded by the pacing back-off (a safety net for a lost event, so with wake_on_data a long one, e.g. initial_seconds = 3600, starts fewer empty runs), that the callback state machine ends on an EventBridge event of new data: S3 \"Object Created\" in bucket_name (under any of prefixes, all keys without), the sample workflow's bucket and its raw/sales/ prefix with create_sample_workflow, or any event matching event_pattern, an EventBridge pattern of your own (JSON). S3 sends Object Created to EventBridge only from a bucket with EventBridge notifications on: the sample workflow turns them on for its bucket; for a bucket of yours, turn them on yourself (aws_s3_bucket_notification with eventbridge = true). Data that landed since the previous run started, whether or not its event came while the loop waited, starts the next run at once. Attributes: enabled, bucket_name, prefixes, event_pattern."
  type = object({
    enabled       = optional(bool, false)
    bucket_name   = optional(string)
    prefixes      = optional(list(string), [])
    event_pattern = optional(string)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.wake_on_data.bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.wake_on_data.bucket_name))
    error_message = "wake_on_data.bucket_name must be an S3 bucket name (3 to 63 lowercase letters, digits, dots and hyphens), or null."
  }

  validation {
    condition     = alltrue([for prefix in var.wake_on_data.prefixes : length(prefix) >= 1 && length(prefix) <= 1024])
    error_message = "wake_on_data.prefixes must be key prefixes of 1 to 1024 characters (leave the list empty for every key)."
  }

  validation {
    condition     = var.wake_on_data.event_pattern == null || can(keys(jsondecode(var.wake_on_data.event_pattern)))
    error_message = "wake_on_data.event_pattern must be an EventBridge event pattern: a JSON object, or null."
  }

  validation {
    condition     = var.wake_on_data.event_pattern == null || (var.wake_on_data.bucket_name == null && length(var.wake_on_data.prefixes) == 0)
    error_message = "wake_on_data takes either event_pattern or bucket_name with prefixes, not both."
  }
}

variable "adopt_run_in_flight" {
  description = "When the workflow is already running at its concurrency limit (ConcurrentRunsExceededException), wait for that run (found through GetWorkflow's last run) instead of stopping."
  type        = bool
  default     = true
  nullable    = false
}

variable "completion_mode" {
  description = "How the loop learns that a run has ended: \"poll\" calls GetWorkflowRun every poll_interval_seconds; \"events\" waits on a task token that a callback state machine returns when a Glue job or crawler event finds the run ended, with a GetWorkflowRun safety poll every completion_events.safety_poll_seconds in case an event is lost."
  type        = string
  default     = "poll"
  nullable    = false

  validation {
    condition     = contains(["poll", "events"], var.completion_mode)
    error_message = "completion_mode must be \"poll\" or \"events\"."
  }
}

variable "state_machine_tags" {
  description = "Tags for the state machine only, merged over tags."
  type        = map(string)
  default     = {}
  nullable    = false
}

################################################################################
# Sample workflow (sample_workflow.tf)
################################################################################

variable "create_sample_workflow" {
  description = "Whether to create the sample retail Glue workflow (modules/sample-glue-workflow) and keep it running instead of glue_workflow_name."
  type        = bool
  default     = false
  nullable    = false
}

variable "sample_workflow" {
  description = "Settings of the sample workflow: name (defaults to name), an existing bucket_name with create_bucket = false, bucket_force_destroy, upload_sample_data and job_timeout_minutes."
  type = object({
    name                 = optional(string)
    create_bucket        = optional(bool, true)
    bucket_name          = optional(string)
    bucket_force_destroy = optional(bool, false)
    upload_sample_data   = optional(bool, true)
    job_timeout_minutes  = optional(number, 10)
  })
  default  = {}
  nullable = false
}

################################################################################
# Events mode (events.tf)
################################################################################

variable "completion_events" {
  description = "Events mode: the workflow's job and crawler names whose terminal states wake the loop (taken from the sample workflow when it is created), or prefixes that those names share (EventBridge prefix matching, for workflows whose names would not fit in one event pattern's 2,048 characters), the seconds a wait lasts before the loop polls the run itself, and the seconds the callback keeps reading a run that still reads running after a job or crawler event (every 5 s; 0: not at all)."
  type = object({
    job_names     = optional(list(string), [])
    crawler_names = optional(list(string), [])
    # A run whose end sends no event (its last job ends in ERROR, its last crawl is cancelled, it
    # is stopped between nodes) or whose event is lost is noticed only by the safety poll, up to
    # this late. 300 s bounds that to five minutes for 3 state transitions, 13 history events and
    # one GetWorkflowRun per safety poll: 36 transitions an hour, a fifth of polling every 60 s,
    # and 1,521 safety polls (5.3 days) per execution before the handoff. Runs whose last node
    # does send its event are noticed within seconds whatever this is (make bench).
    safety_poll_seconds = optional(number, 300)
    # Whether a run reads ended before its last node's event is sent is undocumented; the
    # callback assumes it may not, and reads a running run again for this long. An EXPRESS execution lasts at most five
    # minutes ("Choosing workflow type in Step Functions",
    # https://docs.aws.amazon.com/step-functions/latest/dg/choosing-workflow-type.html), hence at
    # most 180 s: the watch ends at this deadline, and the callback's longest execution, every
    # read timing out and retried, is then 250 s (tests/test_asl.py computes it).
    callback_watch_seconds = optional(number, 120)
    # EventBridge prefix filters: one pattern holds about 2,048 characters of names.
    job_name_prefixes     = optional(list(string), [])
    crawler_name_prefixes = optional(list(string), [])
  })
  default  = {}
  nullable = false

  validation {
    condition = (
      var.completion_events.safety_poll_seconds >= 1 && var.completion_events.safety_poll_seconds <= 86400
      && floor(var.completion_events.safety_poll_seconds) == var.completion_events.safety_poll_seconds
    )
    error_message = "completion_events.safety_poll_seconds must be a whole number of seconds from 1 to 86400."
  }

  validation {
    condition = (
      var.completion_events.callback_watch_seconds >= 0 && var.completion_events.callback_watch_seconds <= 180
      && floor(var.completion_events.callback_watch_seconds) == var.completion_events.callback_watch_seconds
    )
    error_message = "completion_events.callback_watch_seconds must be a whole number of seconds from 0 to 180 (an EXPRESS execution lasts at most 5 minutes, and the callback's reads and their retries may take 70 s more)."
  }

  validation {
    condition = alltrue([
      for name in concat(var.completion_events.job_names, var.completion_events.crawler_names, var.completion_events.job_name_prefixes, var.completion_events.crawler_name_prefixes) :
      trimspace(name) != ""
    ])
    error_message = "completion_events.job_names, crawler_names, job_name_prefixes and crawler_name_prefixes must not contain empty names (an empty prefix would match every job or crawler)."
  }
}

variable "token_table_name" {
  description = "Events mode: name of the DynamoDB table that holds the waiting execution's task token. Defaults to <name>-task-tokens."
  type        = string
  default     = null

  validation {
    condition     = var.token_table_name == null || can(regex("^[A-Za-z0-9_.-]{3,255}$", var.token_table_name))
    error_message = "token_table_name must be 3-255 characters of letters, digits and _.- (a DynamoDB table name)."
  }
}

variable "token_table_kms_key_arn" {
  description = "Events mode: ARN of a customer managed KMS key for the token table. Null uses the AWS managed key for DynamoDB."
  type        = string
  default     = null

  validation {
    condition     = var.token_table_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.token_table_kms_key_arn))
    error_message = "token_table_kms_key_arn must be a KMS key ARN."
  }
}

variable "token_table_tags" {
  description = "Tags for the token table, on top of tags."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "callback_state_machine_tags" {
  description = "Tags for the events mode callback state machine, on top of tags."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "callback_role_arn" {
  description = "Events mode, with create_role false: ARN of an existing role for the callback state machine. It needs dynamodb:GetItem and dynamodb:DeleteItem on the token table, glue:GetWorkflowRun on the workflow, states:SendTaskSuccess on all resources (it supports no resource-level permissions), and log delivery and X-Ray permissions if those are enabled."
  type        = string
  default     = null

  validation {
    condition     = var.callback_role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.callback_role_arn))
    error_message = "callback_role_arn must be an IAM role ARN (arn:<partition>:iam::<account-id>:role/<name>)."
  }
}

variable "event_rule_role_arn" {
  description = "Events mode, with create_role false: ARN of an existing role EventBridge assumes to start the callback state machine (states:StartExecution on it)."
  type        = string
  default     = null

  validation {
    condition     = var.event_rule_role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.event_rule_role_arn))
    error_message = "event_rule_role_arn must be an IAM role ARN (arn:<partition>:iam::<account-id>:role/<name>)."
  }
}

variable "create_event_dead_letter_queue" {
  description = "Events mode: whether to give the EventBridge rule's target a dead-letter queue (SQS, encrypted with a customer managed KMS key) for the Glue events it could not deliver to the callback, with an alarm on its depth that notifies the SNS topic if there is one."
  type        = bool
  default     = true
  nullable    = false
}

variable "event_dead_letter_queue_kms_key_arn" {
  description = "Events mode: ARN of a customer managed KMS key to encrypt the dead-letter queue with; its policy must let events.amazonaws.com use kms:GenerateDataKey and kms:Decrypt. Null creates one (an AWS managed key cannot grant EventBridge)."
  type        = string
  default     = null

  validation {
    condition     = var.event_dead_letter_queue_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.event_dead_letter_queue_kms_key_arn))
    error_message = "event_dead_letter_queue_kms_key_arn must be a KMS key ARN."
  }
}

variable "event_dead_letter_queue_tags" {
  description = "Tags for the dead-letter queue, its KMS key and its alarm, on top of tags."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "event_rule_tags" {
  description = "Tags for the events mode EventBridge rule, on top of tags."
  type        = map(string)
  default     = {}
  nullable    = false
}

################################################################################
# Pause flag (pause.tf)
################################################################################

variable "create_pause_parameter" {
  description = "Whether to create the SSM parameter the loop reads before each run: set it to \"true\" and the loop ends (Succeeded, reason \"paused\") once the run in flight has finished."
  type        = bool
  default     = true
  nullable    = false
}

variable "pause_parameter_name" {
  description = "Name of the pause parameter. Defaults to /glue-workflow-loop/<name>/paused."
  type        = string
  default     = null

  validation {
    # The length is checked apart: RE2 refuses repetition counts over 1000, and can() would turn that into "invalid".
    condition     = var.pause_parameter_name == null ? true : can(regex("^/[A-Za-z0-9_./-]+$", var.pause_parameter_name)) && length(var.pause_parameter_name) <= 1011
    error_message = "pause_parameter_name must be a fully qualified SSM parameter name starting with '/'."
  }
}

################################################################################
# IAM role (iam.tf)
################################################################################

variable "create_role" {
  description = "Whether to create the state machine's IAM role. Set false and pass role_arn to bring your own."
  type        = bool
  default     = true
  nullable    = false
}

variable "role_arn" {
  description = "ARN of an existing IAM role for the state machine, used when create_role is false. It needs glue:StartWorkflowRun, glue:GetWorkflowRun, glue:GetWorkflowRuns and glue:GetWorkflow on the workflow (and glue:ResumeWorkflowRun with recovery on), states:StartExecution on the state machine, and what each feature turned on adds: docs/operations.md, \"Roles you bring\", lists it, generated from the policies the module creates."
  type        = string
  default     = null

  validation {
    condition     = var.role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.role_arn))
    error_message = "role_arn must be an IAM role ARN (arn:<partition>:iam::<account-id>:role/<name>)."
  }
}

variable "role_name" {
  description = "Name of the created IAM role. Defaults to name."
  type        = string
  default     = null

  validation {
    condition     = var.role_name == null || can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.role_name))
    error_message = "role_name must be 1-64 characters of letters, digits and +=,.@_- (an IAM role name)."
  }
}

variable "role_path" {
  description = "Path of the created IAM role."
  type        = string
  default     = "/"
  nullable    = false

  validation {
    condition     = can(regex("^/([\\x21-\\x7E]+/)?$", var.role_path)) && length(var.role_path) <= 512
    error_message = "role_path must start and end with '/' (for example \"/\" or \"/data-platform/\")."
  }
}

variable "role_permissions_boundary" {
  description = "ARN of a managed policy to set as the created role's permissions boundary."
  type        = string
  default     = null

  validation {
    condition     = var.role_permissions_boundary == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.role_permissions_boundary))
    error_message = "role_permissions_boundary must be an IAM managed policy ARN (arn:<partition>:iam::<account-id or aws>:policy/<name>)."
  }
}

variable "role_tags" {
  description = "Tags for the IAM role only, merged over tags."
  type        = map(string)
  default     = {}
  nullable    = false
}

################################################################################
# Logging and tracing (logging.tf)
################################################################################

variable "logging" {
  description = "Execution logging of the state machine. level is ALL, ERROR, FATAL or OFF; include_execution_data puts state input and output (run properties, run ids) into the log."
  type = object({
    level                  = optional(string, "ERROR")
    include_execution_data = optional(bool, true)
  })
  default  = {}
  nullable = false

  validation {
    condition     = contains(["ALL", "ERROR", "FATAL", "OFF"], var.logging.level)
    error_message = "logging.level must be one of ALL, ERROR, FATAL or OFF."
  }
}

variable "use_existing_cloudwatch_log_group" {
  description = "Whether to log to the existing CloudWatch log group cloudwatch_log_group_arn instead of creating one."
  type        = bool
  default     = false
  nullable    = false
}

variable "cloudwatch_log_group_arn" {
  description = "ARN of the existing log group to log to, used when use_existing_cloudwatch_log_group is true."
  type        = string
  default     = null

  validation {
    condition     = var.cloudwatch_log_group_arn == null || can(regex("^arn:aws[a-z-]*:logs:[a-z0-9-]+:[0-9]{12}:log-group:[^:*]+$", var.cloudwatch_log_group_arn))
    error_message = "cloudwatch_log_group_arn must be a log group ARN without a trailing ':*' (arn:<partition>:logs:<region>:<account-id>:log-group:<name>)."
  }
}

variable "cloudwatch_log_group_name" {
  description = "Name of the created log group. Defaults to /aws/vendedlogs/states/<name> (the vendedlogs prefix keeps the account's log resource policy small)."
  type        = string
  default     = null

  validation {
    condition     = var.cloudwatch_log_group_name == null || can(regex("^[A-Za-z0-9_./#-]{1,512}$", var.cloudwatch_log_group_name))
    error_message = "cloudwatch_log_group_name must be 1-512 characters of letters, digits and _-./# (a CloudWatch Logs group name)."
  }
}

variable "cloudwatch_log_group_retention_in_days" {
  description = "Days to keep the created log group's events (0 keeps them forever)."
  type        = number
  default     = 365
  nullable    = false

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.cloudwatch_log_group_retention_in_days)
    error_message = "cloudwatch_log_group_retention_in_days must be one of the values CloudWatch Logs accepts: 0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "cloudwatch_log_group_kms_key_id" {
  description = "ARN of a KMS key to encrypt the created log group with. Null uses CloudWatch Logs' own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.cloudwatch_log_group_kms_key_id == null || can(regex("^arn:aws[a-z-]*:kms:", var.cloudwatch_log_group_kms_key_id))
    error_message = "cloudwatch_log_group_kms_key_id must be a KMS key ARN."
  }
}

variable "cloudwatch_log_group_tags" {
  description = "Tags for the log group only, merged over tags."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "tracing_enabled" {
  description = "Whether to send AWS X-Ray traces of every execution."
  type        = bool
  default     = true
  nullable    = false
}

################################################################################
# Notifications (notifications.tf)
################################################################################

variable "create_sns_topic" {
  description = "Whether to create an SNS topic (KMS-encrypted) that is told when the loop stops: workflow, run id, counts, failed nodes and a console link."
  type        = bool
  default     = false
  nullable    = false
}

variable "sns_topic_arn" {
  description = "ARN of an existing SNS topic to tell instead, used when create_sns_topic is false. Encrypted topics need their key to let the state machine's role (and CloudWatch, for the alarm) use it."
  type        = string
  default     = null

  validation {
    condition     = var.sns_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.sns_topic_arn))
    error_message = "sns_topic_arn must be an SNS topic ARN."
  }
}

variable "sns_topic_kms_key_arn" {
  description = "ARN of the KMS key to encrypt the created topic with. Null creates a key that the state machine's role and CloudWatch alarms may use."
  type        = string
  default     = null

  validation {
    condition     = var.sns_topic_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.sns_topic_kms_key_arn))
    error_message = "sns_topic_kms_key_arn must be a KMS key ARN."
  }
}

variable "sns_topic_tags" {
  description = "Tags for the SNS topic and its KMS key only, merged over tags."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "create_alarm" {
  description = "Whether to create a CloudWatch alarm on the state machine's failed, timed-out and aborted executions, notifying the SNS topic if there is one."
  type        = bool
  default     = false
  nullable    = false
}

################################################################################
# Metrics and dashboard (metrics.tf)
################################################################################

variable "metrics" {
  description = "CloudWatch metrics the loop publishes once per judged run (not per poll) with PutMetricData, dimensioned by WorkflowName: Runs, RunDuration, ActionsSucceeded, ActionsFailed, ActionsTimedOut, ActionsStopped, ActionsErrored, Polls, RecoveryAttempts and DetectionDelay. namespace is where they go; the role may publish to that namespace only. With create_role false, role_arn's role needs cloudwatch:PutMetricData with the condition cloudwatch:namespace = namespace."
  type = object({
    enabled   = optional(bool, true)
    namespace = optional(string, "GlueWorkflowLoop")
  })
  default  = {}
  nullable = false

  # PutMetricData's Namespace: 1-255 characters, pattern [^:].* ("Metric",
  # https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_Metric.html), ASCII
  # without control characters, and never "AWS/..." (reserved for AWS services: "PutMetricData",
  # https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html).
  validation {
    condition = (
      can(regex("^[ -~]{1,255}$", var.metrics.namespace))
      && !startswith(var.metrics.namespace, ":") && !startswith(var.metrics.namespace, "AWS/")
    )
    error_message = "metrics.namespace must be 1-255 printable ASCII characters, not start with ':' and not start with \"AWS/\" (CloudWatch reserves AWS/ namespaces for AWS services)."
  }
}

variable "create_dashboard" {
  description = "Whether to create a CloudWatch dashboard of the workflow's runs (runs per hour, run duration, unsuccessful actions, recovery attempts, polls per run, detection delay) and of the loop's executions (and the callback's in events mode)."
  type        = bool
  default     = false
  nullable    = false
}

variable "dashboard_name" {
  description = "Name of the created dashboard. Defaults to name. Dashboards are global to the account, not regional: set it when the same name runs in several regions."
  type        = string
  default     = null

  validation {
    condition     = var.dashboard_name == null || can(regex("^[A-Za-z0-9_-]{1,255}$", var.dashboard_name))
    error_message = "dashboard_name must be 1-255 characters of letters, digits, '-' and '_' (a CloudWatch dashboard name)."
  }
}
