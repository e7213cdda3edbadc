"""Operator CLI for a glue-workflow-loop state machine: ``python -m glue_loop --help``."""
