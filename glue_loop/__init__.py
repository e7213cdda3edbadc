"""Operator CLI for a glue-workflow-loop state machine: ``python -m glue_loop --help``."""

# The module's release: the package and CHANGELOG.md carry this one number (tests/test_release.py).
__version__ = "0.1.0"
