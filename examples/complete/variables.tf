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
