"""How a setting is declared, checked and offered: :func:`setting` fields with a :class:`Spec`, the checks every
settings dataclass runs when made (:func:`check`), and argparse flags with environment defaults
(:func:`add_arguments`, :func:`from_arguments`). The settings themselves are declared in :mod:`dancegen.config`.

Light on purpose (no torch, no gradio).
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import math
import os
import types
import typing
from typing import Any

from .errors import SettingsError


@dataclasses.dataclass(frozen=True)
class Spec:
    """What a setting allows, beyond its type and default."""

    help: str  # one line for --help and the README
    env: str | None = None  # environment variable that gives the default, if any
    flag: str | None = None  # command-line flag; None: derived from the name; "" for no flag
    low: float | None = None  # smallest allowed value (numbers; each element of a pair)
    high: float | None = None  # largest allowed value
    step: float | None = None  # slider step in the app
    multiple_of: int | None = None  # integers must be multiples of this
    metavar: str | tuple[str, ...] | None = None  # argparse's placeholder
    choices: tuple[str, ...] | None = None  # the values a text setting may take (None: any)


def setting(default: Any, help: str, **spec: Any) -> Any:
    """A dataclass field with its :class:`Spec` (see the module docstring)."""
    return dataclasses.field(default=default, metadata={"spec": Spec(help, **spec)})


def spec(cls: type, name: str) -> Spec:
    """The :class:`Spec` of field ``name`` of a settings class."""
    return next(f for f in dataclasses.fields(cls) if f.name == name).metadata["spec"]


def _types(cls: type) -> dict[str, tuple[Any, bool]]:
    """Field name -> (inner type, None allowed) from the annotations."""
    out = {}
    for name, hint in typing.get_type_hints(cls).items():
        args = typing.get_args(hint)
        optional = isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
        if optional:
            inner = [a for a in args if a is not type(None)]
            hint = inner[0]
        out[name] = (hint, optional)
    return out


def _in_range(name: str, value: float, s: Spec) -> None:
    if not math.isfinite(value):
        raise SettingsError(f"{name} must be a finite number, got {value}")
    if (s.low is not None and value < s.low) or (s.high is not None and value > s.high):
        lo = "" if s.low is None else f"{s.low:g}"
        hi = "" if s.high is None else f"{s.high:g}"
        what = f"between {lo} and {hi}" if lo and hi else (f"at least {lo}" if lo else f"at most {hi}")
        raise SettingsError(f"{name} must be {what}, got {value:g}")
    if s.multiple_of and int(value) % s.multiple_of:
        raise SettingsError(f"{name} must be a multiple of {s.multiple_of}, got {value:g}")


def _coerce(name: str, value: Any, kind: Any, s: Spec) -> Any:
    """``value`` as ``kind`` (strings become enums, lists pairs, ints floats), checked against ``s``."""
    label = (s.flag or "--" + name.replace("_", "-")).lstrip("-").replace("-", " ")
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        try:
            return kind(value)
        except ValueError:
            allowed = ", ".join(m.value for m in kind)
            raise SettingsError(f"{label} must be one of {allowed}, got {value!r}") from None
    if kind is bool:
        if not isinstance(value, bool):
            raise SettingsError(f"{label} must be true or false, got {value!r}")
        return value
    if kind in (int, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SettingsError(f"{label} must be a number, got {value!r}")
        if kind is int and float(value) != int(value):
            raise SettingsError(f"{label} must be a whole number, got {value!r}")
        value = kind(value)
        _in_range(label, float(value), s)
        return value
    if typing.get_origin(kind) is tuple:
        if not isinstance(value, (tuple, list)) or len(value) != len(typing.get_args(kind)):
            raise SettingsError(f"{label} must be {len(typing.get_args(kind))} numbers, got {value!r}")
        return tuple(_coerce(name, v, k, s) for v, k in zip(value, typing.get_args(kind)))
    if kind is str and not isinstance(value, str):
        raise SettingsError(f"{label} must be text, got {value!r}")
    if s.choices is not None and value not in s.choices:
        raise SettingsError(f"{label} must be one of {', '.join(s.choices)}, got {value!r}")
    return value


def check(obj: Any) -> None:
    """Coerce and check every field of a settings dataclass in place (call from ``__post_init__``)."""
    kinds = _types(type(obj))
    for f in dataclasses.fields(obj):
        kind, optional = kinds[f.name]
        value = getattr(obj, f.name)
        if value is None and optional:
            continue
        object.__setattr__(obj, f.name, _coerce(f.name, value, kind, f.metadata["spec"]))


# ------------------------------------------------------------------------------------------- command lines


def _env_value(name: str, raw: str, kind: Any) -> Any:
    """An environment variable's text as ``kind``; SettingsError naming the variable when it does not parse."""
    try:
        if kind is bool:
            low = raw.strip().lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("", "0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if kind in (int, float):
            return kind(raw)
        return raw
    except ValueError:
        raise SettingsError(f"the environment variable {name} cannot be {raw!r}") from None


def flag_of(f: dataclasses.Field) -> str | None:
    s: Spec = f.metadata["spec"]
    if s.flag == "":
        return None
    return s.flag or "--" + f.name.replace("_", "-")


def add_arguments(parser: argparse.ArgumentParser, cls: type, *, env: bool = True,
                  skip: tuple[str, ...] = ()) -> None:
    """One flag per field of ``cls`` that has one (defaults from the dataclass, or its environment variable)."""
    kinds = _types(cls)
    for f in dataclasses.fields(cls):
        flag = flag_of(f)
        if flag is None or f.name in skip:
            continue
        s: Spec = f.metadata["spec"]
        kind, _ = kinds[f.name]
        default = f.default
        raw = os.environ.get(s.env) if env and s.env else None
        if raw is not None and (raw != "" or kind is bool):
            default = _env_value(s.env, raw, kind)
        shown = default.value if isinstance(default, enum.Enum) else default
        tail = f" (default: {shown})" if shown not in (None, False) else ""
        help_ = s.help + tail + (f" [{s.env}]" if s.env else "")
        kw: dict[str, Any] = dict(dest=f.name, default=default, help=help_)
        if kind is bool:
            parser.add_argument(flag, action="store_true", **kw)
            continue
        if isinstance(kind, type) and issubclass(kind, enum.Enum):
            kw.update(choices=[m.value for m in kind], type=str)
        elif typing.get_origin(kind) is tuple:
            kw.update(nargs=len(typing.get_args(kind)), type=typing.get_args(kind)[0])
        else:
            kw.update(type=kind)
        if s.choices is not None:
            kw["choices"] = list(s.choices)
        if s.metavar is not None:
            kw["metavar"] = s.metavar
        parser.add_argument(flag, **kw)


def from_arguments(cls: type, args: argparse.Namespace, **overrides: Any) -> Any:
    """The dataclass ``cls`` from parsed flags (fields without a flag keep their defaults)."""
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)}
    values.update(overrides)
    return cls(**values)
