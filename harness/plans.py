"""Reading ``terraform show -json`` plans, and planning many configurations of the root module at once."""

from __future__ import annotations

import json
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.hcl import parse_file
from harness.terraform import TerraformWorkspace, provider_block

# The wrapper's working directory inside the copy of the repository; the root module is its parent.
WRAPPER_DIR = "shared-plans"
# Between a configuration's name and its module's output name in the wrapper's re-exported outputs.
_OUTPUT_SEPARATOR = "__"


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


@dataclass(frozen=True)
class PlanConfig:
    """Variables of the root module, planned by a provider in region (None: the workspace's)."""

    variables: dict[str, Any]
    region: str | None = None


def module_outputs(directory: Path) -> dict[str, bool]:
    """The outputs a module declares, each with whether it is sensitive."""
    found: dict[str, bool] = {}
    for path in sorted(directory.glob("*.tf")):
        for entry in parse_file(path).get("output", []):
            for name, body in entry.items():
                found[name.strip('"')] = body.get("sensitive") is True
    return found


def _alias(region: str) -> str:
    return region.replace("-", "_")


def wrapper_configuration(
    modules: dict[str, PlanConfig], outputs: dict[str, bool], default_region: str
) -> dict[str, Any]:
    """A root configuration (Terraform's JSON syntax) calling the root module, its parent directory, once
    per configuration, each output re-exported as <module>__<output>. A configuration in another region
    gets a provider aliased after it."""
    blocks: dict[str, Any] = {"module": {}, "output": {}}
    for module, config in modules.items():
        call: dict[str, Any] = {"source": "../", **config.variables}
        if config.region not in (None, default_region):
            call["providers"] = {"aws": f"aws.{_alias(config.region)}"}
        blocks["module"][module] = call
        for output, sensitive in outputs.items():
            blocks["output"][f"{module}{_OUTPUT_SEPARATOR}{output}"] = {
                "value": f"${{module.{module}.{output}}}",
                "sensitive": sensitive,
            }
    return blocks


def _strip(value: Any, module: str) -> Any:
    """value with every address of the module's objects as if the module were the root one."""
    prefix = f"module.{module}."
    if isinstance(value, list):
        return [_strip(item, module) for item in value]
    if not isinstance(value, dict):
        return value
    stripped = {}
    for key, item in value.items():
        if key in ("address", "module_address") and isinstance(item, str):
            if item == f"module.{module}":
                continue
            item = item.removeprefix(prefix)
        stripped[key] = _strip(item, module)
    return stripped


def _child(root: dict[str, Any], module: str) -> dict[str, Any]:
    for child in root.get("child_modules", []):
        if child["address"] == f"module.{module}":
            return dict(_strip(child, module))
    return {}


def module_view(plan: dict[str, Any], module: str) -> dict[str, Any]:
    """One module call of a wrapper plan shaped as a plan of the root module alone: its resource changes,
    planned values, outputs, prior state (data sources) and configuration, with addresses unprefixed."""
    prefix = f"{module}{_OUTPUT_SEPARATOR}"

    def outputs(section: dict[str, Any]) -> dict[str, Any]:
        return {name.removeprefix(prefix): value for name, value in section.items() if name.startswith(prefix)}

    view: dict[str, Any] = {
        "format_version": plan["format_version"],
        "terraform_version": plan["terraform_version"],
        "planned_values": {
            "outputs": outputs(plan["planned_values"].get("outputs", {})),
            "root_module": _child(plan["planned_values"]["root_module"], module),
        },
        "output_changes": outputs(plan.get("output_changes", {})),
        "configuration": plan["configuration"]["root_module"]["module_calls"][module]["module"],
    }
    changes = [
        _strip(change, module)
        for change in plan.get("resource_changes", [])
        if change["address"].startswith(f"module.{module}.")
    ]
    if changes:
        view["resource_changes"] = changes
    if "prior_state" in plan:
        view["prior_state"] = {"values": {"root_module": _child(plan["prior_state"]["values"]["root_module"], module)}}
    return view


def plan_together(
    copy_root: Path, configs: dict[str, PlanConfig], endpoint_url: str, region: str
) -> dict[str, dict[str, Any]]:
    """Every configuration of the root module planned by one ``terraform plan`` (in a copy of the repository
    at copy_root, against the AWS emulator at endpoint_url), each as module_view() shows it. Equal
    configurations share one module call."""
    modules: dict[str, PlanConfig] = {}
    module_of: dict[str, str] = {}
    for name, config in configs.items():
        same = next((module for module, planned in modules.items() if planned == config), None)
        module_of[name] = same or name
        modules.setdefault(module_of[name], config)
    workspace = TerraformWorkspace(copy_root, WRAPPER_DIR, endpoint_url, region)
    other_regions = sorted({config.region for config in modules.values() if config.region not in (None, region)})
    (workspace.directory / "regions.tf").write_text(
        "\n".join(provider_block(other, alias=_alias(other)) for other in other_regions)
    )
    wrapper = wrapper_configuration(modules, module_outputs(workspace.directory.parent), region)
    (workspace.directory / "plans.tf.json").write_text(json.dumps(wrapper, indent=2))
    workspace.init()
    # One provider process serves one provider configuration, so only a plan without aliases gets one.
    with nullcontext() if other_regions else workspace.serving_provider():
        plan = workspace.plan({})
    return {name: module_view(plan, module) for name, module in module_of.items()}
