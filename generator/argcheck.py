"""LOAD-phase net for definition values of the wrong kind: `strength="strong"`, `sources="000"`,
`then="advice"`, `conditions("vertebral-fracture")`...

Why: the model classes are dataclasses whose annotations say what each field holds; a string
where a `Strength`, a list of `Source`s, an activity or a `ValueSet` belongs used to travel on and
crash a later phase ("internal error"). This walk compares the values with the annotations and
reports `ARG001` at the line that built the object. It is deliberately narrow (no false alarms on
shapes it does not understand): it reports only a plain value (str, number, bool, dict) where the
annotation admits none of those, or a non-list where only a list is admitted.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from typing import Any

from generator.diagnostics import DiagnosticBag, SourceLocation

__all__ = ["check_argument_types"]

_PLAIN = (str, int, float, bool, dict)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls)
    except Exception:  # noqa: BLE001 - an annotation we cannot resolve is not checked
        return {}


def _options(hint: Any) -> list[Any]:
    """The alternatives of a Union / Optional / X | Y hint (one element otherwise)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return [o for a in typing.get_args(hint) for o in _options(a)]
    return [hint]


def _admits_plain(hint: Any, value: Any) -> bool | None:
    """Whether `hint` admits this plain value; None when the hint is beyond this check."""
    for option in _options(hint):
        origin = typing.get_origin(option) or option
        if option is Any or not isinstance(origin, type):
            return None  # Any, Literal, Callable, TypeVar, forward references...: not judged
        if isinstance(value, origin):
            return True
        if issubclass(origin, (int, float)) and isinstance(value, (int, float)) and not isinstance(value, bool):
            return True
    return False


def _describe(hint: Any) -> str:
    names = []
    for option in _options(hint):
        origin = typing.get_origin(option)
        if origin in (list, tuple):
            args = typing.get_args(option)
            names.append(f"a list of {_describe(args[0])}" if args else "a list")
        else:
            names.append("None" if option is type(None) else getattr(option, "__name__", str(option)))
    return " or ".join(names)


def _problem(hint: Any, value: Any) -> str | None:
    options = _options(hint)
    if value is None:
        return None  # missing values are the author rules' business (RULE0xx)
    lists_only = all(typing.get_origin(o) in (list, tuple) or o is type(None) for o in options)
    if lists_only and not isinstance(value, (list, tuple)):
        return f"expected {_describe(hint)}, got {type(value).__name__} {value!r:.60}"
    if isinstance(value, _PLAIN) and _admits_plain(hint, value) is False:
        hint_enum = next((o for o in options if isinstance(o, type) and issubclass(o, enum.Enum)), None)
        suggestion = f" (e.g. {hint_enum.__name__}.{next(iter(hint_enum)).name})" if hint_enum else ""
        return f"expected {_describe(hint)}, got {type(value).__name__} {value!r:.60}{suggestion}"
    if isinstance(value, (list, tuple)):
        item_hints = [typing.get_args(o)[0] for o in options if typing.get_origin(o) in (list, tuple) and typing.get_args(o)]
        for index, item in enumerate(value):
            if item_hints and all(_problem(h, item) for h in item_hints):
                return f"item {index}: {_problem(item_hints[0], item)}"
    return None


def check_argument_types(root: Any, bag: DiagnosticBag) -> bool:
    """Report every model field holding a value of the wrong kind (ARG001); True when none."""
    ok = True
    seen: set[int] = set()
    stack: list[tuple[Any, SourceLocation | None]] = [(root, getattr(root, "location", None))]
    while stack:
        node, where = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, (list, tuple)):
            stack.extend((item, where) for item in node)
            continue
        if isinstance(node, dict):
            stack.extend((item, where) for item in node.values())
            continue
        if not dataclasses.is_dataclass(node) or isinstance(node, type):
            continue
        location = getattr(node, "location", None)
        location = location if isinstance(location, SourceLocation) else where
        hints = _hints(type(node))
        for f in dataclasses.fields(node):
            value = getattr(node, f.name, None)
            hint = hints.get(f.name)
            problem = _problem(hint, value) if hint is not None else None
            if problem:
                ok = False
                bag.error("ARG001", f"{type(node).__name__}.{f.name}: {problem}", location=location)
            elif isinstance(value, (list, tuple, dict)) or dataclasses.is_dataclass(value):
                stack.append((value, location))
    return ok
