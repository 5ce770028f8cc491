"""Configuration value objects (attrs) and their strict JSON form (cattrs, ``.jcfg.json``).

Stage sections are tagged unions: ``{"kind": "<registered name>", ...options}``; the options
class comes from the registry, so a third-party stage's options are validated like a built-in's.
The ``network``, ``task`` and ``objective`` sections are plugin sections: their attrs classes
are registered by plugins (``jaxfne_register_sections``: ``jaxfne_emitters``, ``jaxfne_tasks``,
``jaxfne_objectives``), so the core holds only the simulation's time axis and the stage tags.
Unknown keys are refused; every error carries its JSON path, the bad value and what is allowed.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Optional

import attrs
import cattrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError, IterableValidationError

from .errors import ConfigError, UnknownStageError
from .io import write_json_atomic
from .plugins import default_registry
from .stages import PLUGIN_SECTIONS
from .validators import FieldValueError, number, one_of, python_number

SCHEMA = "jaxfne.config/1"


@attrs.frozen
class Simulation:
    """Time axis and seed of one run: duration and step in ms. warmup_ms: the first part of
    the run that is simulated but not recorded (nor measured by metrics): recorded rows start
    at warmup_ms (all times, inputs' included, count from the start of the run)."""

    duration_ms: float = attrs.field(default=100.0, converter=python_number, validator=number(0, lo_open=True))
    dt_ms: float = attrs.field(default=0.1, converter=python_number, validator=number(0, 10, lo_open=True))
    seed: int = attrs.field(default=0, converter=python_number, validator=number(0, 2**32 - 1))
    warmup_ms: float = attrs.field(default=0.0, converter=python_number, validator=number(0))

    def __attrs_post_init__(self):
        if self.warmup_ms >= self.duration_ms:
            raise FieldValueError("warmup_ms", f"{self.warmup_ms} ms is not shorter than duration_ms "
                                  f"{self.duration_ms}; allowed: 0 <= warmup_ms < duration_ms")
        w = self.warmup_ms / self.dt_ms
        if abs(w - round(w)) > 1e-6 * max(1.0, w):
            raise FieldValueError("warmup_ms", f"warmup_ms = {self.warmup_ms!r} is not a whole number of dt_ms = "
                                  f"{self.dt_ms!r} steps; allowed: an integer multiple")
        steps = self.duration_ms / self.dt_ms
        if steps > 1e9:
            raise FieldValueError("duration_ms", f"duration_ms / dt_ms = {steps:.3g} steps; allowed: at most 1e9")
        if abs(steps - round(steps)) > 1e-6 * max(1.0, steps):
            raise FieldValueError("duration_ms", f"duration_ms = {self.duration_ms!r} is not a whole number of "
                             f"dt_ms = {self.dt_ms!r} steps; allowed: an integer multiple")

    @property
    def n_steps(self) -> int:
        return int(round(self.duration_ms / self.dt_ms))

    @property
    def warmup_steps(self) -> int:
        return int(round(self.warmup_ms / self.dt_ms))


@attrs.frozen
class StageConfig:
    """A stage section: the registered ``kind`` and that stage's options object."""

    kind: str
    options: Any


@attrs.frozen
class Configuration:
    """A whole pipeline: network, the stage sections, and optional simulation, objective and
    task. ``network``, ``objective`` and ``task`` hold the attrs objects of the classes that
    plugins registered for those sections (e.g. ``jaxfne_emitters.NetworkConfig``)."""

    network: Any
    emitter: StageConfig
    source: StageConfig
    field: Optional[StageConfig]
    probe: StageConfig
    simulation: Simulation = Simulation()
    objective: Optional[Any] = None
    task: Optional[Any] = None
    schema: str = attrs.field(default=SCHEMA, validator=one_of(SCHEMA))


# ----------------------------------------------------------------------------- converter
STAGE_SECTIONS = ("emitter", "source", "field", "probe")
DEFAULT_SECTIONS = {
    "network": {},
    "emitter": {"kind": "izhikevich"},
    "source": {"kind": "exponential"},
    "field": {"kind": "laminar_proxy"},
    "probe": {"kind": "laminar"},
}
"""What a section that a config leaves out means, whatever the route (``.jcfg.json``, the
builder, a dict): ``field: null`` says "no field"; a missing field is the laminar proxy."""


def _strict(cls):
    """Exact types, no coercion (a string is no number); NumPy scalars count as their Python
    kind. Floats must be finite."""
    def structure(value, _):
        value = python_number(value)
        ok = (isinstance(value, (int, float)) and not isinstance(value, bool)) if cls is float else \
             (isinstance(value, int) and not isinstance(value, bool)) if cls is int else isinstance(value, cls)
        if not ok:
            raise TypeError(f"expected {'a number' if cls is float else cls.__name__}, got {value!r}")
        if cls is float and not math.isfinite(value):
            raise TypeError(f"expected a finite number, got {value!r}")
        return cls(value)
    return structure


class _StageSectionError(ValueError):
    def __init__(self, problems):
        self.problems = problems
        super().__init__(problems)


def make_converter(registry=None) -> cattrs.Converter:
    """A strict converter; stage sections are resolved through ``registry`` (default: installed)."""
    if registry is None:
        registry = default_registry()
    conv = cattrs.Converter(forbid_extra_keys=True)
    for cls in (int, float, str, bool):
        conv.register_structure_hook(cls, _strict(cls))

    def structure_stage(value, _type, stage):
        if not isinstance(value, dict):
            raise TypeError(f"expected an object with a 'kind', got {value!r}")
        if "kind" not in value:
            raise _StageSectionError([("kind", "missing; allowed: " + ", ".join(map(repr, registry.names(stage))))])
        kind = value["kind"]
        try:
            entry = registry.get(stage, kind)
        except UnknownStageError as e:
            raise _StageSectionError([("kind", str(e))]) from None
        rest = {k: v for k, v in value.items() if k != "kind"}
        try:
            options = conv.structure(rest, entry.value.Options)
        except Exception as e:  # noqa: BLE001 - converted to path-bearing errors below
            raise _StageSectionError(_problems(e, "")) from None
        return StageConfig(kind, options)

    def structure_config(value, _type):
        if not isinstance(value, dict):
            raise ConfigError([("$", f"expected a JSON object, got {type(value).__name__}")])
        problems = []
        allowed = {f.name for f in attrs.fields(Configuration)}
        for key in value:
            if key not in allowed:
                problems.append((f"$.{key}", f"unknown key; allowed: {', '.join(sorted(allowed))}"))
        kwargs = {}
        for f in attrs.fields(Configuration):
            if f.name not in value and f.name not in DEFAULT_SECTIONS:
                if f.default is attrs.NOTHING:
                    problems.append((f"$.{f.name}", "required key missing"))
                continue
            # a missing section takes the same default as the builder's (one default per option)
            raw = value[f.name] if f.name in value else DEFAULT_SECTIONS[f.name]
            if f.name in ("simulation",) + PLUGIN_SECTIONS and not isinstance(raw, dict) and (
                    raw is not None or f.name in ("network", "simulation")):
                problems.append((f"$.{f.name}", f"expected an object, got {type(raw).__name__} {raw!r}"))
                continue
            try:
                cls = section_class(f.name, registry) if f.name in PLUGIN_SECTIONS and raw is not None else None
            except ConfigError as e:
                problems += e.problems
                continue
            try:
                if f.name in STAGE_SECTIONS:
                    kwargs[f.name] = None if raw is None and f.name == "field" else structure_stage(raw, None, f.name)
                elif f.name in PLUGIN_SECTIONS:
                    kwargs[f.name] = None if raw is None else conv.structure(raw, cls)
                else:
                    kwargs[f.name] = conv.structure(raw, _TYPES[f.name])
            except _StageSectionError as e:
                problems += [(f"$.{f.name}" + (f".{p}" if p else ""), m) for p, m in e.problems]
            except Exception as e:  # noqa: BLE001
                problems += [(f"$.{f.name}" + (f".{p}" if p else ""), m) for p, m in _problems(e, "")]
        if problems:
            raise ConfigError(problems)
        try:
            return Configuration(**kwargs)
        except (TypeError, ValueError) as e:
            raise ConfigError([("$", str(e))]) from None

    conv.register_structure_hook(Configuration, structure_config)
    conv.register_unstructure_hook(
        StageConfig, lambda s: {"kind": s.kind, **conv.unstructure(s.options)})
    return conv


_TYPES = {"simulation": Simulation, "schema": str}


def section_class(name: str, registry=None) -> type:
    """The attrs class a plugin registered for the configuration section ``name`` (``network``,
    ``task`` or ``objective``); a section no installed plugin declares is a ConfigError."""
    registry = registry if registry is not None else default_registry()
    try:
        return registry.get("section", name).value
    except UnknownStageError as e:
        raise ConfigError([(f"$.{name}", f"no installed plugin declares the {name!r} section "
                            f"(jaxfne_register_sections); {e}")]) from None


def _problems(exc, path) -> list[tuple[str, str]]:
    """Flatten a cattrs exception group into (relative path, message) pairs."""
    out = []
    if isinstance(exc, ForbiddenExtraKeysError):
        allowed = sorted(a.name for a in attrs.fields(exc.cl)) if attrs.has(exc.cl) else []
        for k in sorted(exc.extra_fields):
            out.append((_join(path, k), f"unknown key; allowed: {', '.join(allowed)}"))
    elif isinstance(exc, (ClassValidationError, IterableValidationError)):
        with_notes, without = exc.group_exceptions()
        for sub in without:
            out += _problems(sub, path)
        for sub, note in with_notes:
            name = getattr(note, "name", None)
            idx = getattr(note, "index", None)
            sub_path = _join(path, name) if name is not None else (f"{path}[{idx}]" if idx is not None else path)
            if isinstance(sub, KeyError) and name is not None:
                out.append((sub_path, "required key missing"))
            else:
                out += _problems(sub, sub_path)
    elif isinstance(exc, FieldValueError):
        out.append((_join(path, exc.field), exc.message))
    elif isinstance(exc, ConfigError):
        out += [(_join(path, p) if p not in ("", "$") else path, m) for p, m in exc.problems]
    else:
        out.append((path, str(exc) or type(exc).__name__))
    return out


def _join(path, key):
    return f"{path}.{key}" if path else str(key)


def structure_options(cls, data, path: str, registry=None):
    """Structure a stage's options dict into ``cls``; errors become :class:`ConfigError`."""
    if not isinstance(data, dict):
        raise ConfigError([(path, f"expected an object, got {data!r}")])
    try:
        return make_converter(registry).structure(data, cls)
    except Exception as e:  # noqa: BLE001 - converted to path-bearing errors
        raise ConfigError([(_join(path, p) if p else path, m) for p, m in _problems(e, "")]) from None


# ----------------------------------------------------------------------------- JSON I/O
def config_to_dict(cfg: Configuration, registry=None) -> dict:
    conv = make_converter(registry)
    return {k: conv.unstructure(getattr(cfg, k)) for k in (f.name for f in attrs.fields(Configuration))}


def config_from_dict(data: dict, registry=None) -> Configuration:
    """Structure and validate a config dict (from JSON or the builder); every string must be
    encodable as UTF-8 and every number finite, wherever it sits."""
    problems = list(_unrepresentable(data, "$"))
    if problems:
        raise ConfigError(problems)
    return make_converter(registry).structure(data, Configuration)


MAX_INT = 10**18      # larger integers are no sensible option value and overflow float64 checks


def _unrepresentable(value, path, depth=0):
    """(path, message) for each non-finite number, oversized integer or non-UTF-8 string."""
    if depth > MAX_DEPTH:
        yield path, f"nested deeper than {MAX_DEPTH} levels; allowed: a jaxfne config"
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str) and not _utf8(k):
                yield path, f"key {k!r} is not valid Unicode text (a lone surrogate)"
                continue
            yield from _unrepresentable(v, f"{path}.{k}", depth + 1)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _unrepresentable(v, f"{path}[{i}]", depth + 1)
    elif isinstance(value, str):
        if not _utf8(value):
            yield path, f"{value!r} is not valid Unicode text (a lone surrogate)"
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if abs(value) > MAX_INT:
            yield path, f"{value} is too large; allowed: integers of magnitude <= 1e18"
    elif isinstance(value, float):
        if not math.isfinite(value):
            yield path, f"{value!r} is not finite; allowed: finite numbers"


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def canonical_json(data) -> str:
    """Canonical, strict JSON text (sorted keys, no whitespace, NaN refused)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False, ensure_ascii=False)


MAX_DEPTH = 64      # a config nests about 6 levels; deeper input is refused, not recursed into


def load_config(path, registry=None) -> Configuration:
    """Load and validate a ``.jcfg.json`` file; raises :class:`ConfigError` with JSON paths.
    Refused: a path that is no readable file, text that is not UTF-8 JSON, a key repeated in
    one object (JSON would keep the last silently), NaN/Infinity and numbers that overflow."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise
    except IsADirectoryError:
        raise ConfigError([("CONFIG", f"{str(path)!r} is a folder; allowed: a .jcfg.json file")]) from None
    except OSError as e:
        raise ConfigError([("CONFIG", f"{str(path)!r} cannot be read: {e.strerror or e}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError([("CONFIG", f"{str(path)!r} is not UTF-8 text (byte {e.start}); allowed: a UTF-8 "
                            ".jcfg.json file")]) from None
    return config_from_dict(parse_config_text(text), registry)


def parse_config_text(text: str):
    """Parse config JSON strictly (see :func:`load_config`); returns plain dicts and lists."""
    if _nesting_depth(text) > MAX_DEPTH:
        raise ConfigError([("$", f"nested deeper than {MAX_DEPTH} levels; allowed: a jaxfne config")])
    try:
        data = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float,
                          object_pairs_hook=_KeyCountingDict)
    except json.JSONDecodeError as e:
        raise ConfigError([("$", f"not valid JSON: {e}")]) from None
    except (ValueError, RecursionError) as e:
        raise ConfigError([("$", str(e) or "nested too deeply")]) from None
    duplicates = list(_duplicate_keys(data, "$"))
    if duplicates:
        raise ConfigError(duplicates)
    return _plain(data)


def _nesting_depth(text: str) -> int:
    """Bracket depth of JSON text, ignoring brackets inside strings (a cheap pre-check that
    keeps the parser from recursing on hostile input)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


class _KeyCountingDict(dict):
    """A JSON object that remembers the keys given more than once."""

    def __init__(self, pairs):
        super().__init__()
        self.repeated = []
        for k, v in pairs:
            if k in self and k not in self.repeated:
                self.repeated.append(k)
            self[k] = v


def _duplicate_keys(value, path):
    if isinstance(value, _KeyCountingDict):
        for k in value.repeated:
            yield f"{path}.{k}", "key given more than once in the same object; allowed: each key once"
        for k, v in value.items():
            yield from _duplicate_keys(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _duplicate_keys(v, f"{path}[{i}]")


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _refuse_constant(name):
    raise ValueError(f"{name} is not allowed in a jaxfne config; allowed: finite numbers")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} overflows to {value}; allowed: finite numbers (|x| < 1.8e308)")
    return value


def save_config(cfg: Configuration, path, *, overwrite=False, registry=None) -> Path:
    return write_json_atomic(path, config_to_dict(cfg, registry), overwrite=overwrite)
