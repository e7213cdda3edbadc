"""python-hcl2's reading of HCL text, kept on disk from one run to the next.

python-hcl2 parses with a pure-Python grammar (lark): half a CPU-second for variables.tf, and every
test process, and every Python the tests start, reads the same files again (make test-fast: 9 CPU-s
in its five processes). What it makes of a text depends on the text, the options and python-hcl2's
version alone, so it is kept by their hash under .build/hcl-cache (harness.kept).
"""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path
from typing import Any

import hcl2

from harness.kept import CACHES, kept

_CACHE = CACHES / "hcl-cache"
_PARSER = f"python-hcl2 {version('python-hcl2')}"


def parse(text: str, options: hcl2.SerializationOptions | None = None) -> dict[str, Any]:
    """hcl2.loads(text), with python-hcl2's default options unless given."""

    def read() -> bytes:
        parsed = hcl2.loads(text) if options is None else hcl2.loads(text, serialization_options=options)
        return json.dumps(parsed).encode()

    parsed: dict[str, Any] = json.loads(kept(_CACHE, f"{_PARSER}\0{options!r}\0{text}", read, ".json"))
    return parsed


def parse_file(path: Path) -> dict[str, Any]:
    return parse(path.read_text())
