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
