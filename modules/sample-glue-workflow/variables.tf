variable "create" {
  description = "Whether to create any resource at all."
  type        = bool
  default     = true
  nullable    = false
}

variable "name" {
  description = "Prefix of every name: workflow, crawlers, jobs, triggers, role, catalog database (hyphens become underscores there) and created bucket."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,36}$", var.name))
    error_message = "name must be 1-37 characters of lowercase letters, digits and hyphens, starting with a letter or digit (it prefixes an S3 bucket name)."
  }
}

variable "create_bucket" {
  description = "Whether to create the S3 bucket for data and scripts. Set false and pass bucket_name to use an existing bucket."
  type        = bool
  default     = true
  nullable    = false
}

variable "bucket_name" {
  description = "Name of the bucket: the existing bucket to use when create_bucket is false (required then), otherwise the name to create (null lets AWS add a unique suffix to name)."
  type        = string
  default     = null

  validation {
    condition     = var.bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be null or a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)."
  }
}

variable "bucket_force_destroy" {
  description = "Whether terraform destroy may delete the created bucket with the data in it."
  type        = bool
  default     = false
  nullable    = false
}

variable "data_prefix" {
  description = "Key prefix under which the pipeline keeps raw/, cleaned/, rejected/, aggregated/, errors/, dashboard/ and scripts/."
  type        = string
  default     = "retail/"
  nullable    = false

  validation {
    condition     = var.data_prefix == "" || can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*/$", var.data_prefix))
    error_message = "data_prefix must be empty or end with '/' (for example \"retail/\"), with no leading '/'."
  }
}

variable "upload_sample_data" {
  description = "Whether to upload the module's small sample data set (two days of sales, three stores) under data_prefix."
  type        = bool
  default     = true
  nullable    = false
}

variable "job_timeout_minutes" {
  description = "Minutes after which Glue stops a job run and marks it TIMEOUT (which sends the workflow down its error branch)."
  type        = number
  default     = 10
  nullable    = false

  validation {
    condition     = var.job_timeout_minutes >= 1 && var.job_timeout_minutes <= 2880 && floor(var.job_timeout_minutes) == var.job_timeout_minutes
    error_message = "job_timeout_minutes must be a whole number from 1 to 2880."
  }
}

variable "idle_property" {
  description = "The workflow run property clean_sales sets to \"true\" when no file arrived since the previous loop run started, so that a loop with pacing backs off (the root module's pacing.idle_property)."
  type        = string
  default     = "glue_loop_idle"
  nullable    = false

  validation {
    condition     = length(var.idle_property) >= 1 && length(var.idle_property) <= 255
    error_message = "idle_property must be a run property name of 1 to 255 characters."
  }
}

variable "eventbridge_notifications" {
  description = "Whether the bucket the module creates sends its events to EventBridge (S3 sends \"Object Created\" there only then), so that a loop's wake_on_data wakes on new raw sales files."
  type        = bool
  default     = false
  nullable    = false
}

variable "tags" {
  description = "Tags for every resource the module creates."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "workflow_tags" {
  description = "Tags for the Glue workflow only, merged over tags."
  type        = map(string)
  default     = {}
  nullable    = false
}
