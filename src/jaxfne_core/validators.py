"""attrs validators whose messages name the value and what is allowed (the path comes from cattrs)."""
from __future__ import annotations

import math


class FieldValueError(ValueError):
    """A validator's error that knows which field it is about (for JSON paths)."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


def one_of(*allowed):
    def check(inst, attr, value):
        if value not in allowed:
            raise FieldValueError(attr.name, f"{value!r} is not allowed for {attr.name!r}; allowed: "
                             + ", ".join(repr(a) for a in allowed))
    return check


def subset_of(*allowed):
    def check(inst, attr, value):
        bad = [v for v in value if v not in allowed]
        if bad:
            raise FieldValueError(attr.name, f"{bad!r} not allowed in {attr.name!r}; allowed: "
                             + ", ".join(repr(a) for a in allowed))
        if len(set(value)) != len(value):
            raise FieldValueError(attr.name, f"{attr.name!r} has repeated entries: {list(value)!r}")
    return check


def number(lo=None, hi=None, lo_open=False, hi_open=False, finite=True):
    """Bounds check for an int/float attribute; None means unbounded on that side."""
    def check(inst, attr, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise FieldValueError(attr.name, f"{attr.name!r} must be a number, got {value!r}")
        if finite and not math.isfinite(value):
            raise FieldValueError(attr.name, f"{attr.name!r} must be finite, got {value!r}")
        bad = ((lo is not None and (value <= lo if lo_open else value < lo))
               or (hi is not None and (value >= hi if hi_open else value > hi)))
        if bad:
            left = "(" if lo_open else "["
            right = ")" if hi_open else "]"
            rng = f"{left}{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}{right}"
            raise FieldValueError(attr.name, f"{attr.name!r} = {value!r} is out of range; allowed: {rng}")
    return check


def optional(check):
    def wrapped(inst, attr, value):
        if value is not None:
            check(inst, attr, value)
    return wrapped
