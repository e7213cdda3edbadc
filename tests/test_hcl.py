"""harness.hcl: python-hcl2's reading of a text, kept on disk by the text, the options and the version."""

from __future__ import annotations

import json
from pathlib import Path

import hcl2
import pytest

from harness import hcl
from harness.docs import HCL_TEXT

TEXT = 'variable "name" {\n  default = "loop"\n}\n'


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(hcl, "_CACHE", tmp_path)
    return tmp_path


def test_a_text_is_read_as_python_hcl2_reads_it_and_kept(cache: Path) -> None:
    assert hcl.parse(TEXT) == hcl2.loads(TEXT)
    assert [json.loads(kept.read_text()) for kept in cache.glob("*.json")] == [hcl2.loads(TEXT)]


def test_a_text_read_before_is_taken_from_what_was_kept(cache: Path) -> None:
    hcl.parse(TEXT)
    (kept,) = cache.glob("*.json")
    kept.write_text(json.dumps({"kept": True}))

    assert hcl.parse(TEXT) == {"kept": True}


def test_the_same_text_read_with_other_options_is_read_again(cache: Path) -> None:
    default, as_text = hcl.parse(TEXT), hcl.parse(TEXT, HCL_TEXT)

    assert default["variable"][0]['"name"']["default"] == '"loop"'
    assert as_text["variable"][0]["name"]["default"] == "loop"
    assert len(list(cache.glob("*.json"))) == 2
