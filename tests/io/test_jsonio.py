"""Strict JSON: results, logs and cache keys never hold bare NaN."""

import json
import math
from pathlib import Path

import numpy as np

from msa_lib.io.jsonio import dumps


def test_json_never_holds_bare_nan():
    text = dumps(
        {"r": float("nan"), "x": np.float32("inf"), "a": np.array([1.0, np.nan]), "p": Path("/x")}
    )
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"r": None, "x": None, "a": [1.0, None], "p": "/x"}
    assert json.loads(dumps({"ok": np.int64(3), "f": 0.5})) == {"ok": 3, "f": 0.5}
    assert not math.isnan(json.loads(dumps([0.25]))[0])
