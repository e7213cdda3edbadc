"""Results kept on disk from one run to the next, by a hash of everything they depend on.

Every test process, and every Python the tests start, would otherwise work out the same results again
from the same texts with pure-Python parsers. The caches live under .build, which `make clean` removes.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from harness.terraform import REPO_ROOT

CACHES = REPO_ROOT / ".build"


def kept(cache: Path, depends_on: str, make: Callable[[], bytes], suffix: str = "") -> bytes:
    """What ``make`` made when it was last called with the same ``depends_on`` in ``cache``, else what it makes now."""
    path = cache / f"{hashlib.sha256(depends_on.encode()).hexdigest()}{suffix}"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    made = make()
    cache.mkdir(parents=True, exist_ok=True)
    # Written whole, then renamed: processes making the same result at once never read half of it.
    with tempfile.NamedTemporaryFile(dir=cache, suffix=".tmp", delete=False) as partial:
        partial.write(made)
    os.replace(partial.name, path)
    return made
