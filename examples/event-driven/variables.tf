variable "region" {
  description = "AWS Region of the sample workflow and the state machines."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name of the state machine and prefix of the sample workflow's resources."
  type        = string
  default     = "retail-events"
}

variable "safety_poll_seconds" {
  description = "Seconds the loop waits for an event before it looks at the run itself."
  type        = number
  default     = 300
}

variable "create_event_dead_letter_queue" {
  description = "Whether EventBridge keeps the Glue events it could not deliver in an encrypted SQS queue, with an alarm on its depth. Creating the queue takes Terraform some 30 s: the provider waits for its attributes to settle."
  type        = bool
  default     = true
}

variable "pacing" {
  description = "The module's pacing input: back off after runs that found nothing (the sample's clean_sales marks them)."
  type = object({
    enabled         = optional(bool, false)
    initial_seconds = optional(number, 60)
    multiplier      = optional(number, 2)
    max_seconds     = optional(number, 3600)
  })
  default = {}
}

variable "wake_on_data" {
  description = "Whether new raw sales files in the sample bucket end the loop's wait before a run (needs pacing.enabled)."
  type        = bool
  default     = false
}
