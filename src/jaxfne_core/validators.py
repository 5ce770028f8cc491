"""attrs validators whose messages name the value and what is allowed (the path comes from cattrs)."""
from __future__ import annotations

import math
import numbers

import numpy as np

from .errors import ConfigError


class FieldValueError(ConfigError):
    """A validator's error that knows which field it is about (for JSON paths); raised as it
    is where a value object is built from Python, so ``except JaxfneError`` catches it."""

    def __init__(self, field: str, message: str):
        self.field, self.message = field, message
        super().__init__([(field, message)])


def described(text: str):
    """Attach ``text`` (the allowed values, for ``jaxfne plugins --options``) to a validator."""
    def mark(check):
        check.allowed = text
        return check
    return mark


def one_of(*allowed):
    @described(", ".join(repr(a) for a in allowed))
    def check(inst, attr, value):
        if value not in allowed:
            raise FieldValueError(attr.name, f"{value!r} is not allowed for {attr.name!r}; allowed: "
                             + ", ".join(repr(a) for a in allowed))
    return check


def subset_of(*allowed):
    @described("any of " + ", ".join(repr(a) for a in allowed))
    def check(inst, attr, value):
        bad = [v for v in value if v not in allowed]
        if bad:
            raise FieldValueError(attr.name, f"{bad!r} not allowed in {attr.name!r}; allowed: "
                             + ", ".join(repr(a) for a in allowed))
        if len(set(value)) != len(value):
            raise FieldValueError(attr.name, f"{attr.name!r} has repeated entries: {list(value)!r}")
    return check


def _is_int_field(attr) -> bool:
    return str(attr.type) in ("int", "Optional[int]", "<class 'int'>", "typing.Optional[int]")


def is_number(value) -> bool:
    """A real number (Python or NumPy), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, _np_bool()))


def _np_bool():
    return np.bool_


def python_number(value):
    """NumPy scalars as Python int/float (other values unchanged): an attrs converter, so
    ``np.int64(64)`` is accepted where ``64`` is, and configs stay JSON-serialisable."""
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, _np_bool())):
        return int(value)
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, _np_bool(), int, float)):
        return float(value)
    return value


def number(lo=None, hi=None, lo_open=False, hi_open=False, finite=True):
    """Bounds check for an int/float attribute (Python or NumPy numbers); None means unbounded
    on that side. An attribute annotated ``int`` must be a whole number."""
    left, right = "(" if lo_open else "[", ")" if hi_open else "]"

    @described(f"{left}{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}{right}")
    def check(inst, attr, value):
        if not is_number(value):
            raise FieldValueError(attr.name, f"{attr.name!r} must be a number, got {value!r}")
        if _is_int_field(attr) and not isinstance(value, numbers.Integral):
            raise FieldValueError(attr.name, f"{attr.name!r} must be an integer, got {value!r}")
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


SIGMA_RANGE_S_PER_M = (1e-3, 10.0)
"""Conductivities accepted, in S/m: grey matter is about 0.1-0.5 (Logothetis et al. 2007),
cerebrospinal fluid about 1.8; the range leaves a decade either side and refuses values that
only a typo gives (1e-300 or 1e300)."""


@described(f"[{SIGMA_RANGE_S_PER_M[0]}, {SIGMA_RANGE_S_PER_M[1]}] S/m")
def conductivity(inst, attr, value):
    """A tissue conductivity in S/m within :data:`SIGMA_RANGE_S_PER_M`."""
    lo, hi = SIGMA_RANGE_S_PER_M
    if not is_number(value) or not math.isfinite(value) or not lo <= value <= hi:
        raise FieldValueError(attr.name, f"{attr.name!r} = {value!r} S/m is outside the physiological range; "
                              f"allowed: [{lo}, {hi}] S/m (grey matter ~0.3, CSF ~1.8)")


@described("not empty")
def nonempty(inst, attr, value):
    if value is not None and len(value) == 0:
        raise FieldValueError(attr.name, f"{attr.name!r} must not be empty")


def optional(check):
    @described(f"{getattr(check, 'allowed', 'any')} or null")
    def wrapped(inst, attr, value):
        if value is not None:
            check(inst, attr, value)
    return wrapped
