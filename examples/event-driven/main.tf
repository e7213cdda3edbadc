provider "aws" {
  region = var.region
}

module "glue_loop" {
  source = "../.."

  name = var.name

  create_sample_workflow = true
  sample_workflow = {
    bucket_force_destroy = true
  }

  completion_mode = "events"
  completion_events = {
    safety_poll_seconds = var.safety_poll_seconds
  }
  create_event_dead_letter_queue = var.create_event_dead_letter_queue

  pacing       = var.pacing
  wake_on_data = { enabled = var.wake_on_data }

  tags = {
    Example = "event-driven"
  }
}
