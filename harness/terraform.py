"""Terraform driven through python-terraform, in a throw-away copy of the module tree.

Every quirk of python-terraform (and of Terraform 1.x that it predates) stays in this class.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from python_terraform import IsFlagged, IsNotFlagged, Terraform

REPO_ROOT = Path(__file__).resolve().parents[1]
# The root module and its submodules.
MODULE_DIRECTORIES = [REPO_ROOT, *sorted(path for path in (REPO_ROOT / "modules").glob("*") if path.is_dir())]
# Terraform's own tests (.tftest.hcl) and the provider mocks they share.
NATIVE_TEST_DIR = REPO_ROOT / "tests"

# `make` writes the CLI config (provider mirror or registry); a bare `pytest` run reuses it.
_CLI_CONFIG = REPO_ROOT / ".build" / "terraform.rc"
if _CLI_CONFIG.exists():
    os.environ["TF_CLI_CONFIG_FILE"] = str(_CLI_CONFIG)
# Terraform and the 700 MB provider spend about a third of their CPU collecting garbage while they
# load schemas and plan (terraform test of recovery.tftest.hcl: 24.5 CPU-s as Go sets it, 17.3 with
# this). CPU, not memory, is what a test run on two cores runs short of. A value set outside wins.
os.environ.setdefault("GOGC", "400")

# Only what a module consumer would download: no tests, venvs, state or working directories.
_IGNORED = shutil.ignore_patterns(
    ".git", ".venv*", ".build", "tests", "harness", ".terraform", "*.tfstate*", "__pycache__", ".*cache"
)

# A provider's hashes = [...] in .terraform.lock.hcl.
_LOCKED_HASHES = re.compile(r"^ *hashes *= *\[.*?\]\n", re.MULTILINE | re.DOTALL)


@dataclass
class TerraformTestResults:
    """What ``terraform test -json`` reported."""

    # (test file relative to the working directory, run block name) -> pass, fail, error or skip
    runs: dict[tuple[str, str], str] = field(default_factory=dict)
    # The closing line's numbers: status, passed, failed, errored, skipped.
    summary: dict[str, Any] = field(default_factory=dict)
    diagnostics: list[str] = field(default_factory=list)


class TerraformError(RuntimeError):
    def __init__(self, command: str, code: int | None, stdout: str, stderr: str) -> None:
        super().__init__(f"terraform {command} exited {code}\n{stderr or stdout}")
        self.stderr = stderr


def provider_block(region: str, alias: str | None = None) -> str:
    """The aws provider configured for the emulator: fake keys, no AWS metadata lookups, and three
    attempts per call: the in-process server sometimes drops a connection under a loaded machine
    ("use of closed network connection"), which the SDK retries, while errors the emulator means
    (most are not retryable) still fail at once.

    No ``endpoints`` block: the emulator's address reaches the provider as AWS_ENDPOINT_URL (see
    ``_Terraform``). hashicorp/aws 5.100.0 spends about 3 CPU-s checking a provider configuration
    with one (its set of some 250 attributes per element), once per walk: a third of an apply's CPU."""
    alias_line = "" if alias is None else f'  alias                       = "{alias}"\n'
    return f"""provider "aws" {{
{alias_line}  region                      = "{region}"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  s3_use_path_style           = true
  max_retries                 = 3
}}
"""


class _Terraform(Terraform):
    """python-terraform, each command run with environment variables of its own added to the process's:
    AWS_ENDPOINT_URL, the endpoint of every service for the AWS SDKs ("Service-specific endpoints", AWS
    SDKs and Tools Reference Guide), which hashicorp/aws reads as its SDK does ("Custom Service Endpoints"
    guide of the provider), and a provider to reattach to. python-terraform passes os.environ as it is,
    and changing os.environ for a command (patch.dict clears and refills it) would race with the
    emulator's threads, which read it to build their clients."""

    def __init__(self, working_dir: str) -> None:
        super().__init__(working_dir=working_dir)
        self.environment: dict[str, str] = {}

    def cmd(self, cmd: str, *args: Any, **kwargs: Any) -> tuple[int, str, str]:
        """python-terraform's cmd (captured output, no exception) with this environment."""
        command = self.generate_cmd_string(cmd, *args, **kwargs)
        result = subprocess.run(
            command,
            cwd=self.working_dir,
            env={**os.environ, **self.environment},
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode == 0:
            self.read_state_file()
        self.temp_var_files.clean_up()
        return result.returncode, result.stdout, result.stderr


class TerraformWorkspace:
    """One copy of the repository's module tree with one directory of it as the working directory.

    Configurations with their own ``provider "aws"`` block (examples) get an override file;
    the root module, which has none as a registry module should, gets a provider file.
    Without an endpoint none is written: ``terraform test`` runs on mock providers.
    """

    def __init__(
        self, copy_root: Path, relative_dir: str, endpoint_url: str | None = None, region: str | None = None
    ) -> None:
        shutil.copytree(REPO_ROOT, copy_root, ignore=_IGNORED, dirs_exist_ok=True)
        self.directory = copy_root / relative_dir
        self.directory.mkdir(exist_ok=True)
        if endpoint_url is not None and region is not None:
            has_provider = any(
                re.search(r'^provider\s+"aws"', tf.read_text(), re.MULTILINE) for tf in self.directory.glob("*.tf")
            )
            provider_file = "emulator_override.tf" if has_provider else "emulator_provider.tf"
            (self.directory / provider_file).write_text(provider_block(region))
        self._tf = _Terraform(str(self.directory))
        if endpoint_url is not None:
            self._tf.environment["AWS_ENDPOINT_URL"] = endpoint_url
        self._var_files = 0

    @staticmethod
    def _checked(command: str, result: tuple[int | None, str, str], ok_codes: tuple[int, ...] = (0,)) -> str:
        code, stdout, stderr = result
        if code not in ok_codes:
            raise TerraformError(command, code, stdout, stderr)
        return stdout

    def _run(self, command: str, *args: str, ok_codes: tuple[int, ...] = (0,), **options: Any) -> str:
        return self._checked(command, self._tf.cmd(command, *args, no_color=IsFlagged, **options), ok_codes)

    def _var_file(self, variables: dict[str, Any]) -> str:
        # Object and map values survive only through a file: python-terraform's -var does not quote them.
        self._var_files += 1
        path = self.directory / f"test-{self._var_files}.tfvars.json"
        path.write_text(json.dumps(variables))
        return str(path)

    def init(self) -> None:
        """``terraform init``, then the lock file's package hashes dropped.

        Every later command that loads providers hashes the whole provider package to match it against
        those hashes (providerFactories in internal/command/meta_providers.go checks a cached package
        only when its lock entry has hashes): 700 MB of hashicorp/aws, 0.7 CPU-s a command. The hashes
        were written by this init, from the package it has just installed (and, from a registry, checked
        against its signature), into a working directory that lives as long as this object; so checking
        them again proves nothing, and each command still runs the version the lock file names."""
        self._checked("init", self._tf.init(input=False))
        lock_file = self.directory / ".terraform.lock.hcl"
        lock_file.write_text(_LOCKED_HASHES.sub("", lock_file.read_text()))

    def add_native_tests(self) -> None:
        """Copy the ``.tftest.hcl`` files and their mocks (which the module copy leaves out with tests/)."""
        tests = self.directory / "tests"
        tests.mkdir(exist_ok=True)
        for test_file in NATIVE_TEST_DIR.glob("*.tftest.hcl"):
            shutil.copy2(test_file, tests)
        shutil.copytree(NATIVE_TEST_DIR / "mocks", tests / "mocks", dirs_exist_ok=True)

    def test(self, test_file: str | None = None) -> TerraformTestResults:
        """Run ``terraform test`` (of one file, relative to the working directory, or of all) and read its
        machine-readable report."""
        # python-terraform has no test command; a failed run block exits 1 and is reported, not raised.
        code, stdout, stderr = self._tf.cmd("test", json=IsFlagged, filter=test_file)
        results = TerraformTestResults()
        for line in stdout.splitlines():
            message = json.loads(line)
            if message["type"] == "test_run" and "status" in message["test_run"]:
                results.runs[(message["@testfile"], message["@testrun"])] = message["test_run"]["status"]
            elif message["type"] == "diagnostic":
                where = " ".join(message[key] for key in ("@testfile", "@testrun") if key in message)
                diagnostic = message["diagnostic"]
                results.diagnostics.append(f"{where}: {diagnostic['summary']}: {diagnostic.get('detail', '')}")
            elif message["type"] == "test_summary":
                results.summary = message["test_summary"]
        if code not in (0, 1) or not results.summary:
            # Without a summary Terraform stopped before testing (a syntax error, a missing provider).
            raise TerraformError("test", code, stdout, "\n".join(results.diagnostics) or stderr)
        return results

    @contextmanager
    def serving_provider(self) -> Iterator[None]:
        """Serve hashicorp/aws to this workspace's commands from one process, started after ``init``.

        Terraform starts the provider afresh for each walk (two or three per command, one per run block
        of ``terraform test``), and each start loads its schema: a third of an apply's or a destroy's CPU
        against the emulator (examples/complete applied twice and destroyed: 23.8 -> 15.7 CPU-s), and
        validation.tftest.hcl cost 31 CPU-s that way and 11 with one process. Terraform attaches to it as
        to a provider being debugged (TF_REATTACH_PROVIDERS: "Debugging Providers",
        https://developer.hashicorp.com/terraform/plugin/debugging), configuring it once per walk.

        One process is one provider configuration: not for a configuration with aliases (each would
        configure the same process). It runs in the working directory, as Terraform runs it (relative
        paths such as an aws_s3_object's source are read by the provider), with the emulator's address, in a
        process group of its own so that a terminal's Ctrl-C, which Terraform survives to clean up, does not
        stop it under Terraform's feet.
        AWS_CA_BUNDLE (set on some machines) is left out: aws-sdk-go-v2 adds the bundle to the HTTP client
        it is given, and configured a second time the provider hands it its own client, which the SDK
        refuses ("unable to add custom RootCAs HTTPClient, has no WithTransportOptions", config's
        resolveCustomCABundle); the emulator speaks plain HTTP, so no bundle is ever read.
        A process killed with SIGKILL runs no ``finally``: setpriv (util-linux) has the kernel send the
        provider SIGTERM when the thread that started it ends (prctl's PR_SET_PDEATHSIG, which survives
        exec), and that thread is the one in this ``with``. Without setpriv (not Linux), it is left running."""
        providers = self.directory / ".terraform" / "providers"
        # A pattern without ** follows the symlink terraform init makes to an unpacked mirror.
        binary = next(providers.glob("registry.terraform.io/hashicorp/aws/*/*/terraform-provider-aws_*"))
        log = self.directory / "provider-debug.log"
        environment = {**os.environ, **self._tf.environment}
        environment.pop("AWS_CA_BUNDLE", None)
        command = [str(binary), "-debug"]
        if setpriv := shutil.which("setpriv"):
            command = [setpriv, "--pdeathsig", "TERM", "--", *command]
        with log.open("w") as output:
            process = subprocess.Popen(
                command,
                cwd=self.directory,
                env=environment,
                stdout=output,
                stderr=subprocess.STDOUT,
                process_group=0,
            )
        try:
            deadline = time.monotonic() + 120
            while not (found := re.search(r"TF_REATTACH_PROVIDERS='(.+)'", log.read_text())):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise TerraformError("provider -debug", process.returncode, "", log.read_text())
                time.sleep(0.1)
            self._tf.environment["TF_REATTACH_PROVIDERS"] = found[1]
            yield
        finally:
            self._tf.environment.pop("TF_REATTACH_PROVIDERS", None)
            process.terminate()
            process.wait(timeout=30)

    def validate(self) -> dict[str, Any]:
        return json.loads(self._run("validate", json=IsFlagged, ok_codes=(0, 1)))

    def plan(self, variables: dict[str, Any]) -> dict[str, Any]:
        """Plan and return ``terraform show -json`` of the saved plan."""
        plan_file = f"plan-{self._var_files}.tfplan"
        # python-terraform always adds -detailed-exitcode, so "has changes" exits 2.
        self._checked(
            "plan",
            self._tf.plan(out=plan_file, input=False, var_file=self._var_file(variables)),
            ok_codes=(0, 2),
        )
        return json.loads(self._run("show", plan_file, json=IsFlagged))

    def plan_error(self, variables: dict[str, Any]) -> str:
        """Plan something that must be rejected; return Terraform's error text."""
        code, _, stderr = self._tf.plan(input=False, var_file=self._var_file(variables))
        if code != 1:
            raise AssertionError(f"plan with {variables} exited {code}, expected rejection")
        # Drop the box drawing around diagnostics and the line wrapping inside them.
        return " ".join(re.sub("[\u2502\u2577\u2575]", " ", stderr).split())

    def apply(self, variables: dict[str, Any], refresh: bool = True) -> dict[str, Any]:
        """Apply and return the outputs. ``refresh=False`` for a stack that only this workspace has
        changed since its last apply: reading every resource back costs a quarter of the CPU (see
        ``destroy``) and finds nothing new."""
        # python-terraform says -auto-approve through skip_plan.
        self._checked("apply", self._tf.apply(skip_plan=True, refresh=refresh, var_file=self._var_file(variables)))
        return self.outputs()

    def outputs(self) -> dict[str, Any]:
        raw = json.loads(self._run("output", json=IsFlagged))
        return {name: value["value"] for name, value in raw.items()}

    def destroy(self, variables: dict[str, Any]) -> None:
        """Destroy what this workspace applied. Without the refresh: its state is what its own apply just
        wrote, and reading every resource back cost a quarter of a destroy's CPU (18.6 -> 13.7 CPU-s for
        examples/complete) without deleting anything differently."""
        # python-terraform passes -force unless told not to; Terraform 1.x removed it.
        self._checked(
            "destroy",
            self._tf.destroy(
                force=IsNotFlagged, auto_approve=True, input=False, refresh=False, var_file=self._var_file(variables)
            ),
        )

    def state_resources(self) -> list[str]:
        # `state list` rejects the -no-color that every other command here gets.
        return self._checked("state list", self._tf.cmd("state", "list")).split()
