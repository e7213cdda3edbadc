variable "region" {
  description = "AWS Region of the sample workflow and the state machine."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name of the state machine and prefix of the sample workflow's resources."
  type        = string
  default     = "retail-sample"
}

variable "poll_interval_seconds" {
  description = "Seconds between two polls of a running workflow run."
  type        = number
  default     = 30
}

variable "recovery" {
  description = "Recovery before stopping, passed to the module's recovery input (off by default): with enabled, a run whose unsuccessful jobs or crawlers would stop the loop is resumed (glue:ResumeWorkflowRun) up to max_attempts times, backoff_seconds after each try, before the loop stops (when_exhausted = \"stop\") or goes on (\"continue\")."
  type = object({
    enabled         = optional(bool, false)
    max_attempts    = optional(number, 2)
    backoff_seconds = optional(number, 60)
    on_actions      = optional(list(string), ["failed", "timed_out"])
    when_exhausted  = optional(string, "stop")
  })
  default  = {}
  nullable = false
}

variable "completion_mode" {
  description = "How the loop learns that a run has ended, passed to the module's completion_mode: \"poll\" (GetWorkflowRun every poll_interval_seconds) or \"events\" (the sample workflow's job and crawler events, with a safety poll)."
  type        = string
  default     = "poll"
  nullable    = false
}

variable "tags" {
  description = "Tags for every resource, merged over the example's own (Example = complete)."
  type        = map(string)
  default     = {}
  nullable    = false
}
