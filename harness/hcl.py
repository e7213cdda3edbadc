"""python-hcl2's reading of HCL text, kept on disk from one run to the next.

python-hcl2 parses with a pure-Python grammar (lark): half a CPU-second for variables.tf, and every
test process, and every Python the tests start, reads the same files again (make test-fast: 9 CPU-s
in its five processes). What it makes of a text depends on the text, the options and python-hcl2's
version alone, so it is kept by their hash under .build/hcl-cache, which `make clean` removes.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

import hcl2

from harness.terraform import REPO_ROOT

_CACHE = REPO_ROOT / ".build" / "hcl-cache"
_PARSER = f"python-hcl2 {version('python-hcl2')}"


def parse(text: str, options: hcl2.SerializationOptions | None = None) -> dict[str, Any]:
    """hcl2.loads(text), with python-hcl2's default options unless given."""
    key = hashlib.sha256(f"{_PARSER}\0{options!r}\0{text}".encode()).hexdigest()
    kept = _CACHE / f"{key}.json"
    try:
        parsed: dict[str, Any] = json.loads(kept.read_text())
        return parsed
    except FileNotFoundError:
        pass
    parsed = hcl2.loads(text) if options is None else hcl2.loads(text, serialization_options=options)
    _CACHE.mkdir(parents=True, exist_ok=True)
    # Written whole, then renamed: processes reading the same text at once never see half of it.
    with tempfile.NamedTemporaryFile("w", dir=_CACHE, suffix=".tmp", delete=False) as partial:
        json.dump(parsed, partial)
    os.replace(partial.name, kept)
    return parsed


def parse_file(path: Path) -> dict[str, Any]:
    return parse(path.read_text())
