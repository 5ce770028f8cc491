"""Configuration value objects (attrs) and their strict JSON form (cattrs, ``.jcfg.json``).

Stage sections are tagged unions: ``{"kind": "<registered name>", ...options}``; the options
class comes from the registry, so a third-party stage's options are validated like a built-in's.
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

from .claims import Amplitude
from .errors import ConfigError, UnknownStageError
from .validators import FieldValueError, is_number, number, one_of, python_number
from .io import write_json_atomic
from .plugins import default_registry

SCHEMA = "jaxfne.config/1"


def _check_counts(inst, attr, value):
    bad = {k: v for k, v in value.items() if isinstance(v, bool) or not isinstance(v, int) or v < 0}
    if bad or not value:
        raise FieldValueError(attr.name, f"'populations' must map cell types to counts >= 0, got {value!r}")


@attrs.frozen
class LayerConfig:
    """A cortical layer: depth range in um and its cell counts by cell type (e.g. {"E": 80})."""

    name: str
    top_um: float = attrs.field(validator=number(0))
    bottom_um: float = attrs.field(validator=number(0))
    populations: dict[str, int] = attrs.field(validator=_check_counts)

    def __attrs_post_init__(self):
        if not self.top_um < self.bottom_um:
            raise FieldValueError("bottom_um", f"layer {self.name!r}: top_um {self.top_um} must be above "
                                  f"(less than) bottom_um {self.bottom_um}")
        if "_" in self.name:
            raise FieldValueError("name", f"layer name {self.name!r} may not contain '_'")


@attrs.frozen
class PathwayConfig:
    """Connectivity from the cells of population(s) ``pre`` to those of ``post``: a population
    name (``L4_E``), a cell class (``E``: every population of that class) or ``*``.

    p: connection probability of each ordered pair (no self-connections), or indegree: the
    number of presynaptic partners of every postsynaptic cell (drawn without replacement).
    lateral_sigma_um: if set, a pair at lateral (x-y) distance r is weighted by
    exp(-r^2 / (2 sigma^2)) (p is the probability at r = 0; in-degree partners are drawn with
    that weight). weight: magnitude of the synaptic jump (native), drawn by weight_dist:
    ``uniform`` U(0, weight) (the default network's rule), ``constant``, ``normal``
    (mean weight, SD weight_sd, clipped at 0) or ``lognormal`` (mean weight, SD weight_sd); the
    sign is the presynaptic cell's. receptor: the receptor of these synapses (for sources with
    receptors; default: the presynaptic population's). delay_ms: transmission delay (default:
    the network's), uniform in delay_ms +- delay_spread_ms; sources round it to whole steps."""

    pre: str
    post: str
    p: Optional[float] = attrs.field(default=None, validator=attrs.validators.optional(number(0, 1)))
    indegree: Optional[int] = attrs.field(default=None, validator=attrs.validators.optional(number(0, 1_000_000)))
    weight: float = attrs.field(default=1.0, validator=number(0, 1e6))
    weight_dist: str = attrs.field(default="uniform", validator=one_of("uniform", "constant", "normal", "lognormal"))
    weight_sd: float = attrs.field(default=0.0, validator=number(0, 1e6))
    receptor: Optional[str] = None
    delay_ms: Optional[float] = attrs.field(default=None, validator=attrs.validators.optional(number(0, 1000)))
    delay_spread_ms: float = attrs.field(default=0.0, validator=number(0, 1000))
    lateral_sigma_um: Optional[float] = attrs.field(default=None,
                                                    validator=attrs.validators.optional(number(0, 10_000, lo_open=True)))

    def __attrs_post_init__(self):
        if (self.p is None) == (self.indegree is None):
            raise FieldValueError("p", f"pathway {self.name!r}: give exactly one of 'p' and 'indegree', got "
                                  f"p = {self.p!r}, indegree = {self.indegree!r}")
        if self.weight_sd > 0 and self.weight_dist not in ("normal", "lognormal"):
            raise FieldValueError("weight_sd", f"pathway {self.name!r}: weight_sd applies to 'normal' and "
                                  f"'lognormal' weights, not {self.weight_dist!r}")
        if self.weight_dist == "lognormal" and self.weight <= 0:
            raise FieldValueError("weight", f"pathway {self.name!r}: a lognormal weight needs a mean > 0")
        if self.delay_ms is not None and self.delay_spread_ms > self.delay_ms:
            raise FieldValueError("delay_spread_ms", f"pathway {self.name!r}: delay_spread_ms {self.delay_spread_ms} "
                                  f"exceeds delay_ms {self.delay_ms}; allowed: delays that stay >= 0")

    @property
    def name(self) -> str:
        return f"{self.pre}->{self.post}"


@attrs.frozen
class NetworkConfig:
    """The circuit's geometry and connectivity.

    n: number of cells. thickness_um: cortical depth of the column (0 = pia, depth grows
    downward). radius_um: lateral radius in which somata are scattered. connectivity: how
    spikes reach their targets, all delivering the same charge for the same weights: ``dense``
    (N x N matrices), ``edge_list`` (``jax.ops.segment_sum`` over every edge each step),
    ``event`` (only the spiking cells' outgoing edges: work ~ spikes x fan-out), or ``auto``
    (event; with surrogate-gradient spikes, dense for small dense-enough networks, else the
    edge list). p_connect: connection probability for each ordered pair.
    weight_exc / weight_inh: magnitude of the synaptic-current jump (native units) one
    presynaptic spike causes; drawn uniformly in [0, weight]. seed: placement/connectivity seed.
    pathways: connectivity per (pre -> post) population pair (:class:`PathwayConfig`); when
    given they replace p_connect, p_between_layers and the weights above (pairs no pathway
    names stay unconnected). delay_ms / delay_spread_ms: transmission delay of every synapse
    without a pathway delay of its own, uniform in delay_ms +- spread (default: one step).
    """

    name: str = "column"
    kind: str = attrs.field(default="cortical_column", validator=one_of("cortical_column"))
    n: int = attrs.field(default=64, validator=number(1, 2_000_000))
    thickness_um: float = attrs.field(default=1600.0, validator=number(0, 10_000, lo_open=True))
    radius_um: float = attrs.field(default=100.0, validator=number(0, 10_000))
    connectivity: str = attrs.field(default="auto", validator=one_of("auto", "dense", "edge_list", "event"))
    p_connect: float = attrs.field(default=0.1, validator=number(0, 1))
    weight_exc: float = attrs.field(default=1.0, validator=number(0))
    weight_inh: float = attrs.field(default=2.0, validator=number(0))
    seed: int = attrs.field(default=0, validator=number(0, 2**32 - 1))
    layers: Optional[tuple[LayerConfig, ...]] = None
    p_between_layers: Optional[float] = attrs.field(default=None, validator=attrs.validators.optional(number(0, 1)))
    pathways: Optional[tuple[PathwayConfig, ...]] = None
    delay_ms: Optional[float] = attrs.field(default=None, validator=attrs.validators.optional(number(0, 1000)))
    delay_spread_ms: float = attrs.field(default=0.0, validator=number(0, 1000))

    def __attrs_post_init__(self):
        if self.pathways is not None and self.p_between_layers is not None:
            raise FieldValueError("p_between_layers", "not allowed with 'pathways', which set every pair's connectivity")
        if self.delay_spread_ms > (self.delay_ms if self.delay_ms is not None else 0.0):
            raise FieldValueError("delay_spread_ms", f"{self.delay_spread_ms} exceeds delay_ms {self.delay_ms}; "
                                  "allowed: a spread within the delay")
        if self.layers is None:
            if self.p_between_layers is not None:
                raise FieldValueError("p_between_layers", "needs 'layers'")
            return
        total = sum(sum(layer.populations.values()) for layer in self.layers)
        if total != self.n:
            raise FieldValueError("n", f"n = {self.n} but the layers hold {total} cells; allowed: n equal to the total")
        names = [layer.name for layer in self.layers]
        if len(set(names)) != len(names):
            raise FieldValueError("layers", f"layer names repeat: {names}")
        spans = sorted((layer.top_um, layer.bottom_um, layer.name) for layer in self.layers)
        for (t0, b0, n0), (t1, b1, n1) in zip(spans, spans[1:]):
            if t1 < b0:
                raise FieldValueError("layers", f"layers {n0!r} ({t0}-{b0} um) and {n1!r} ({t1}-{b1} um) overlap; "
                                      "allowed: layers that meet or leave gaps")
        for layer in self.layers:
            if layer.bottom_um > self.thickness_um:
                raise FieldValueError("layers", f"layer {layer.name!r} ends at {layer.bottom_um} um, below "
                                      f"the column (thickness_um = {self.thickness_um})")


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


def _nonempty(inst, attr, value):
    if len(value) == 0:
        raise FieldValueError(attr.name, f"{attr.name!r} must not be empty")


@attrs.frozen
class DriveConfig:
    """A stimulus drive: native current injected into ``targets`` (population names such as
    ``L4_E``, layer names such as ``L4``, or cell types such as ``E``) at each listed event of
    a trial that is not omitted (fixation ``fx`` and reward ``rw`` only if listed).
    shape: ``box`` (for duration_ms, default the event's duration) or ``alpha``
    ((t / tau) exp(1 - t / tau), peak 1 at tau_ms). delay_ms: latency after the onset.
    stimulus_gain: amplitude factor per stimulus identity (e.g. {"A": 1.0, "B": 0.7}).
    delivery: ``current`` (injected into the targets) or ``synaptic``: nothing is injected;
    the time course (amplitude in Hz) is the rate of the source's ``drive`` inputs that name
    this drive, which spike through synapses (their own transmembrane currents)."""

    name: str
    events: tuple[str, ...] = attrs.field(validator=_nonempty)
    targets: tuple[str, ...] = attrs.field(validator=_nonempty)
    amplitude: float = attrs.field(validator=number())
    shape: str = attrs.field(default="box", validator=one_of("box", "alpha"))
    tau_ms: float = attrs.field(default=10.0, validator=number(0, lo_open=True))
    delay_ms: float = attrs.field(default=0.0, validator=number(0))
    duration_ms: Optional[float] = attrs.field(default=None, validator=attrs.validators.optional(number(0, lo_open=True)))
    stimulus_gain: Optional[dict[str, float]] = None
    delivery: str = attrs.field(default="current", validator=one_of("current", "synaptic"))


@attrs.frozen
class TaskConfig:
    """Trials of a paradigm: which conditions (default all), how many trials each, the drives,
    the trial length (default the paradigm's), trials per vmapped chunk (default all), seed.
    Trials use the simulation section's dt_ms; trial k of condition c gets the random key
    fold_in(fold_in(key(seed), c), k), so results do not depend on chunking."""

    paradigm: str = "standard_visual_omission"       # a registered paradigm (checked at assembly)
    conditions: Optional[tuple[str, ...]] = None
    trials_per_condition: int = attrs.field(default=4, validator=number(1, 100_000))
    drives: tuple[DriveConfig, ...] = ()
    trial_ms: Optional[float] = attrs.field(default=None, validator=attrs.validators.optional(number(0, lo_open=True)))
    chunk_size: Optional[int] = attrs.field(default=None, validator=attrs.validators.optional(number(1)))
    seed: int = attrs.field(default=0, validator=number(0, 2**32 - 1))


@attrs.frozen
class StageConfig:
    """A stage section: the registered ``kind`` and that stage's options object."""

    kind: str
    options: Any


@attrs.frozen
class TermConfig:
    """One objective term. role: loss | regularizer | gate. For gates, ``criterion`` is one of
    below, above, equal, in_range and ``threshold`` is a number (a [lo, hi] pair for in_range).
    units: the target's units; ``uV`` requires the pipeline to deliver physical amplitudes.
    population: restrict a cell metric (spikes, V_m) to one population, layer or cell class
    (``L4_E``, ``L4``, ``E``)."""

    role: str = attrs.field(validator=one_of("loss", "regularizer", "gate"))
    name: str
    metric: str
    target: Optional[float] = None
    weight: float = attrs.field(default=1.0, validator=number(0))
    threshold: Optional[Any] = attrs.field(default=None, converter=lambda t: tuple(t) if isinstance(t, list) else t)
    criterion: Optional[str] = attrs.field(
        default=None, validator=attrs.validators.optional(one_of("below", "above", "equal", "in_range")))
    tolerance: float = attrs.field(default=1e-6, validator=number(0))
    units: Optional[str] = None
    time_window_ms: Optional[tuple[float, float]] = None
    contacts: Optional[tuple[int, int]] = None
    population: Optional[str] = None

    def __attrs_post_init__(self):
        if self.role == "gate":
            if self.criterion is None or self.threshold is None:
                raise FieldValueError("threshold", f"gate {self.name!r} needs 'criterion' and 'threshold'")
            pair = self.criterion == "in_range"
            values = self.threshold if isinstance(self.threshold, (tuple, list)) else (self.threshold,)
            if (pair != isinstance(self.threshold, (tuple, list)) or len(values) != (2 if pair else 1)
                    or not all(is_number(v) and math.isfinite(v) for v in values)):
                raise FieldValueError("threshold", f"gate {self.name!r}: threshold {self.threshold!r} must be "
                                      + ("a [lo, hi] pair of finite numbers" if pair else "a finite number")
                                      + f" for criterion {self.criterion!r}")
            if pair and not values[0] <= values[1]:
                raise FieldValueError("threshold", f"gate {self.name!r}: threshold {list(values)!r} has lo > hi; "
                                      "allowed: [lo, hi] with lo <= hi")
        elif not is_number(self.target) or not math.isfinite(self.target):
            raise FieldValueError("target", f"{self.role} {self.name!r} needs a finite number 'target', "
                                  f"got {self.target!r}")
        if self.time_window_ms is not None:
            w = tuple(self.time_window_ms)
            if len(w) != 2 or not all(is_number(v) and math.isfinite(v) for v in w) or not 0 <= w[0] < w[1]:
                raise FieldValueError("time_window_ms", f"{self.name!r}: time_window_ms {list(w)!r}; allowed: "
                                      "[start_ms, end_ms] with 0 <= start_ms < end_ms")
        if self.contacts is not None:
            c = tuple(self.contacts)
            if (len(c) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in c)
                    or not 0 <= c[0] < c[1]):
                raise FieldValueError("contacts", f"{self.name!r}: contacts {list(c)!r}; allowed: [first, stop) "
                                      "integer contact indices with 0 <= first < stop")


@attrs.frozen
class ObjectiveConfig:
    """An objective: named loss, regularizer and gate terms over registered metrics. Its claim:
    a term in ``uV`` needs a pipeline that delivers physical amplitudes (checked at assembly)."""

    name: str = "objective"
    terms: tuple[TermConfig, ...] = ()

    def requires(self) -> dict:
        if any(t.units == "uV" for t in self.terms):
            return {"amplitude": (Amplitude.MICROVOLT,)}
        return {}

    @property
    def label(self) -> str:
        return f"objective {self.name!r}"


@attrs.frozen
class Configuration:
    """A whole pipeline: network, the stage sections, and optional simulation and objective."""

    network: NetworkConfig
    emitter: StageConfig
    source: StageConfig
    field: Optional[StageConfig]
    probe: StageConfig
    simulation: Simulation = Simulation()
    objective: Optional[ObjectiveConfig] = None
    task: Optional[TaskConfig] = None
    schema: str = attrs.field(default=SCHEMA, validator=one_of(SCHEMA))


CONFIG_SECTIONS = (("network", NetworkConfig), ("network.layers[]", LayerConfig),
                   ("network.pathways[]", PathwayConfig), ("simulation", Simulation),
                   ("task", TaskConfig), ("task.drives[]", DriveConfig), ("objective.terms[]", TermConfig))
"""The non-stage sections of a configuration, for the options documentation."""


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
            if f.name in ("network", "simulation", "task", "objective") and raw is not None and not isinstance(raw, dict):
                problems.append((f"$.{f.name}", f"expected an object, got {type(raw).__name__} {raw!r}"))
                continue
            try:
                if f.name in STAGE_SECTIONS:
                    kwargs[f.name] = None if raw is None and f.name == "field" else structure_stage(raw, None, f.name)
                else:
                    kwargs[f.name] = conv.structure(raw, f.type if not isinstance(f.type, str) else _TYPES[f.name])
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


_TYPES = {"network": NetworkConfig, "simulation": Simulation, "objective": Optional[ObjectiveConfig],
          "task": Optional[TaskConfig], "schema": str}


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
