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
