"""Strict JSON for results, logs and cache keys: NaN and inf become null, never bare ``NaN``."""

from __future__ import annotations

import dataclasses
import json
import math
import os
from typing import Any

import numpy as np


def jsonable(obj: Any) -> Any:
    """``obj`` with NaN/inf as None, paths as strings, numpy values and dataclasses as plain ones."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return jsonable(dataclasses.asdict(obj))
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return jsonable(obj.item())
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, (str, int, bool)) or obj is None:
        return obj
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return str(obj)


def dumps(obj: Any, indent: int | None = 2, sort_keys: bool = False) -> str:
    """Strict JSON text of :func:`jsonable` (``allow_nan=False``: a NaN that slipped through fails)."""
    return json.dumps(jsonable(obj), indent=indent, sort_keys=sort_keys, allow_nan=False)
