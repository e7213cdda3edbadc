"""Test harness: Terraform through python-terraform, moto as the AWS emulator, a Glue run simulator."""
