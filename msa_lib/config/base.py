"""The machinery every config dataclass shares: typed loading and declarative constraints.

A config dataclass derives from :class:`Checked` and states its constraints as data:

- ``BOUNDS``: one entry per constrained field: a range (``">= 1"``, ``"> 0"``, ``"[0, 1)"``),
  ending in ``" | null"`` where None is allowed, or starting with ``"each "`` to hold every item
  of a tuple or every value of a mapping; or a tuple of the allowed values. ``Noted(bound,
  note)`` adds a note to the message (``Noted(">= 2", "BatchNorm")``);
- ``RULES``: constraints between fields, ``(predicate, message)`` pairs whose message is
  formatted with the config's fields.

Every violation is a :class:`ConfigError` naming the field, the constraint and the value, raised
when the config is built, so a bad value in a settings file fails once, when the file is read.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, NamedTuple, TypeVar

T = TypeVar("T")


class ConfigError(ValueError):
    """A configuration value or key is wrong; the message names where it came from."""


# ----------------------------------------------------------------- declarative constraints
_RANGE = re.compile(r"^(>=|>|<=|<)\s*(\S+)$")
_INTERVAL = re.compile(r"^([\[(])\s*(\S+)\s*,\s*(\S+)\s*([\])])$")


def satisfies(value: Any, spec: str) -> bool:
    """Whether ``value`` lies in the range ``spec`` (``">= 1"``, ``"[0, 1)"``, ...)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    m = _RANGE.match(spec)
    if m:
        op, bound = m.group(1), float(m.group(2))
        return {">=": value >= bound, ">": value > bound, "<=": value <= bound, "<": value < bound}[
            op
        ]
    m = _INTERVAL.match(spec)
    if m:
        lo, hi = float(m.group(2)), float(m.group(3))
        above = value >= lo if m.group(1) == "[" else value > lo
        below = value <= hi if m.group(4) == "]" else value < hi
        return above and below
    raise ValueError(f"unknown constraint {spec!r}")


def describe(spec: str) -> str:
    """The constraint in words: ``">= 1"`` stays, an interval reads ``"in [0, 1)"``."""
    return f"in {spec}" if _INTERVAL.match(spec) else spec


class Noted(NamedTuple):
    """A BOUNDS entry with a note for its message: ``Noted(">= 2", "BatchNorm")``."""

    bound: Any
    note: str


def check_field(name: str, value: Any, bound: Any) -> None:
    """A ConfigError unless ``value`` meets ``bound`` (a BOUNDS entry)."""
    note = ""
    if isinstance(bound, Noted):
        bound, note = bound
    suffix = f" ({note})" if note else ""
    if isinstance(bound, tuple):  # allowed values
        if value not in bound:
            raise ConfigError(f"{name} must be one of {list(bound)}{suffix}, got {value!r}")
        return
    spec, nullable = bound, False
    if spec.endswith("| null"):
        spec, nullable = spec.removesuffix("| null").strip(), True
    if nullable and value is None:
        return
    if spec.startswith("each "):
        spec = spec.removeprefix("each ")
        if isinstance(value, Mapping):
            for key, v in value.items():
                if not satisfies(v, spec):
                    raise ConfigError(f"{name}[{key!r}] must be {describe(spec)}, got {v!r}")
            return
        ok = isinstance(value, (tuple, list)) and len(value) > 0
        if not (ok and all(satisfies(v, spec) for v in value)):
            raise ConfigError(f"{name} must be one or more numbers {describe(spec)}, got {value}")
        return
    if not satisfies(value, spec):
        what = f"{describe(spec)}{suffix}" + (" or null" if nullable else "")
        raise ConfigError(f"{name} must be {what}, got {value!r}")


class Checked:
    """Base of the config dataclasses: ``BOUNDS`` and ``RULES`` checked when one is built."""

    BOUNDS: ClassVar[Mapping[str, Any]] = {}
    RULES: ClassVar[tuple[tuple[Callable[[Any], bool], str], ...]] = ()

    def __post_init__(self) -> None:
        validate(self)


def validate(cfg: Any) -> None:
    """Check ``cfg`` against its class's ``BOUNDS``, protocol ``CHOICES`` and ``RULES``."""
    cls = type(cfg)
    for name, bound in cls.BOUNDS.items():
        check_field(name, getattr(cfg, name), bound)
    for name, allowed in getattr(cls, "CHOICES", {}).items():
        value = getattr(cfg, name)
        if value is not None and value not in allowed:
            raise ConfigError(
                f"{name} must be one of {list(allowed)} (or null: the protocol's), got {value!r}"
            )
    values = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg)}
    for ok, message in cls.RULES:
        if not ok(cfg):
            raise ConfigError(message.format(**values))


# ----------------------------------------------------------------- protocols
def resolve_protocol(cfg: Any) -> Any:
    """``cfg`` with every choice left at None set to its protocol's value."""
    preset = type(cfg).PROTOCOLS[cfg.protocol]
    return dataclasses.replace(cfg, **{k: v for k, v in preset.items() if getattr(cfg, k) is None})


# ----------------------------------------------------------------- typed loading
def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def check_type(value: Any, tp: Any, where: str) -> Any:
    """``value`` converted to the annotated type ``tp`` where that is lossless, else a ConfigError.

    Accepted: ``int`` for a ``float`` field, a list for a ``tuple`` field. Refused: strings for
    numbers (``hop_length: "512"``), booleans for numbers, floats for ints.
    """
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        for arm in typing.get_args(tp):
            try:
                return check_type(value, arm, where)
            except ConfigError:
                pass
        raise ConfigError(f"{where}: {value!r} is not a {_type_name(tp)}")
    if tp is type(None):
        if value is None:
            return None
        raise ConfigError(f"{where}: expected null, got {value!r}")
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected true/false, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected an integer, got {value!r} ({type(value).__name__})")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{where}: expected a number, got {value!r} ({type(value).__name__})")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{where}: expected a string, got {value!r} ({type(value).__name__})")
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(check_type(v, args[0], f"{where}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise ConfigError(f"{where}: expected {len(args)} values, got {len(value)}: {value!r}")
        return tuple(check_type(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
    if origin in (dict, Mapping):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        kt, vt = typing.get_args(tp) or (Any, Any)
        return {
            check_type(k, kt, f"{where} key"): check_type(v, vt, f"{where}[{k}]")
            for k, v in value.items()
        }
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        (et,) = typing.get_args(tp) or (Any,)
        return [check_type(v, et, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def config_from_dict(cls: type[T], values: Mapping[str, Any], origin: str = "<dict>") -> T:
    """Build dataclass ``cls`` from ``values``: unknown keys and wrongly typed values are errors.

    Each error names ``origin`` (a file, a section) and the key, so a typo or a quoted number in a
    settings file fails once, when the file is read, not later on every segment.
    """
    if not isinstance(values, Mapping):
        raise ConfigError(f"{origin}: expected a mapping for {cls.__name__}, got {values!r}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(
            f"{origin}: unknown key(s) {unknown} for {cls.__name__}; known keys are {sorted(known)}"
        )
    typed = {k: check_type(v, hints[k], f"{origin}: {k}") for k, v in values.items()}
    try:
        return cls(**typed)
    except ConfigError as exc:
        raise ConfigError(f"{origin}: {exc}") from exc


def sections_from_dict(
    sections: Mapping[str, type], values: Mapping[str, Any], origin: str = "<dict>"
) -> dict[str, Any]:
    """One config per section of ``values`` (``{"train": {...}, "loss": {...}}``); defaults elsewhere."""
    if not isinstance(values, Mapping):
        raise ConfigError(f"{origin}: expected a mapping with sections {sorted(sections)}")
    unknown = sorted(set(values) - set(sections))
    if unknown:
        raise ConfigError(
            f"{origin}: unknown section(s) {unknown}; known sections are {sorted(sections)}"
        )
    out = {}
    for name, cls in sections.items():
        sec = values.get(name) or {}
        out[name] = config_from_dict(cls, sec, f"{origin} [{name}]")
    return out
