variable "region" {
  description = "AWS Region of the Glue workflow and the state machine."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name of the state machine, its IAM role and its log group."
  type        = string
  default     = "glue-workflow-loop"
}

variable "glue_workflow_name" {
  description = "Name of the existing Glue workflow to keep running."
  type        = string
}

variable "poll_interval_seconds" {
  description = "Seconds between two polls of a running workflow run."
  type        = number
  default     = 60
}
