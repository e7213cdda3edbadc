"""Reading ``terraform show -json`` plans."""

from __future__ import annotations

import json
from typing import Any


def planned_resources(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Planned values of every resource instance that will be created, by address."""
    return {
        change["address"]: change["change"]["after"]
        for change in plan["resource_changes"]
        if change["change"]["actions"] == ["create"]
    }


def rendered_definition(plan: dict[str, Any], address: str = "aws_sfn_state_machine.this[0]") -> dict[str, Any]:
    """The state machine definition exactly as Terraform rendered it."""
    return json.loads(planned_resources(plan)[address]["definition"])
