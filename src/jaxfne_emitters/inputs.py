"""External inputs with arbitrary timing (the reference's stimulus schedule, done for real):
Poisson trains (homogeneous, windowed or with a piecewise-linear rate), evoked volleys with
jitter, rhythmic bursts and given spike trains. Each input is a set of M input units (like
hnn-core's artificial drive cells) wired to target cells with a weight, receptor and delay;
its spikes go through the source's synapses like recurrent ones, so an input makes the
transmembrane currents of its own synapses.

Timing: a unit spiking at time T ms spikes in step s = round(T / dt); like a recurrent spike
of step s it changes its targets' synaptic state at step s + d for a delay of d steps.
Randomness comes from the run key (so trials differ and a trial is reproducible): Poisson
units spike in step s with probability rate(s dt) dt (Bernoulli per step: the Poisson count
to O((rate dt)^2)); timed spikes fall at T + sigma z, z ~ N(0, 1) drawn once per run and
spike.
"""
from __future__ import annotations

import zlib
from typing import Optional

import attrs
import jax
import jax.numpy as jnp
import numpy as np

from jaxfne_core.errors import ConfigError
from jaxfne_core.rng import counter_normal, counter_uniform_bits
from jaxfne_core.validators import FieldValueError, number, one_of, optional

POISSON_STREAM, JITTER_STREAM, DRIVE_STREAM = 0x506F6973, 0x4A697474, 0x44726976
#: kind -> the timing options it reads (the others must stay unset)
TIMING = {"poisson": ("rate_hz", "start_ms", "stop_ms", "rate_times_ms", "rate_hz_profile"),
          "evoked": ("times_ms", "jitter_ms", "spikes_per_unit"),
          "rhythmic": ("start_ms", "stop_ms", "interval_ms", "burst_spikes", "burst_isi_ms", "jitter_ms"),
          "spike_times": ("times_ms", "units", "file"),
          "drive": ("drive_index",)}
KINDS = tuple(TIMING)


def _floats(inst, attr, value):
    if value is None:
        return
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                      and np.isfinite(v) for v in value):
        raise FieldValueError(attr.name, f"{attr.name!r} must be a list of finite numbers, got {value!r}")


@attrs.frozen(kw_only=True)
class InputSpec:
    """One external input. name: its label (tunable ``gain_input.<name>``). kind: ``poisson``
    (rate_hz between start_ms and stop_ms, or the piecewise-linear ``rate_times_ms`` /
    ``rate_hz_profile``), ``evoked`` (volleys at ``times_ms``, each unit spiking
    ``spikes_per_unit`` times per volley with jitter SD ``jitter_ms``), ``rhythmic`` (from start_ms
    to stop_ms every ``interval_ms`` a burst of ``burst_spikes`` spikes ``burst_isi_ms`` apart,
    jittered by ``jitter_ms``) or ``spike_times`` (unit ``units[i]`` spikes at ``times_ms[i]``;
    or ``file``: an .npz with arrays ``units`` and ``times_ms``) or ``drive`` (Poisson units whose
    rate in Hz is the time course of task drive number ``drive_index``, a drive with
    ``delivery = synaptic``: the paradigm's events then arrive as spikes through synapses).
    target: the cells it reaches,
    a population (``L4_E``), a class (``E``), a layer (``L4``) or ``*``. n_units: its units
    (default: one per target cell, each cell its own unit). indegree: units per target cell
    (distinct, drawn at random when n_units is given). weight / weight_dist / weight_sd: as for
    pathways (native). excitatory: the sign of its synapses. receptor: their receptor (for
    sources with receptors). delay_ms (+- delay_spread_ms): transmission delay. seed: of the
    wiring (the spikes follow the run's seed)."""

    name: str
    kind: str = attrs.field(validator=one_of(*KINDS))
    target: str = "*"
    n_units: Optional[int] = attrs.field(default=None, validator=optional(number(1, 10_000_000)))
    indegree: int = attrs.field(default=1, validator=number(1, 100_000))
    weight: float = attrs.field(default=1.0, validator=number(0, 1e6))
    weight_dist: str = attrs.field(default="constant", validator=one_of("uniform", "constant", "normal", "lognormal"))
    weight_sd: float = attrs.field(default=0.0, validator=number(0, 1e6))
    excitatory: bool = True
    receptor: Optional[str] = None
    delay_ms: Optional[float] = attrs.field(default=None, validator=optional(number(0, 1000)))
    delay_spread_ms: float = attrs.field(default=0.0, validator=number(0, 1000))
    rate_hz: float = attrs.field(default=10.0, validator=number(0, 10_000))
    start_ms: float = attrs.field(default=0.0, validator=number(0, 1e9))
    stop_ms: Optional[float] = attrs.field(default=None, validator=optional(number(0, 1e9)))
    rate_times_ms: Optional[tuple] = attrs.field(default=None, validator=_floats, converter=lambda v: tuple(v) if isinstance(v, list) else v)
    rate_hz_profile: Optional[tuple] = attrs.field(default=None, validator=_floats, converter=lambda v: tuple(v) if isinstance(v, list) else v)
    times_ms: Optional[tuple] = attrs.field(default=None, validator=_floats, converter=lambda v: tuple(v) if isinstance(v, list) else v)
    units: Optional[tuple] = attrs.field(default=None, converter=lambda v: tuple(v) if isinstance(v, list) else v)
    file: Optional[str] = None
    jitter_ms: float = attrs.field(default=0.0, validator=number(0, 1e6))
    spikes_per_unit: int = attrs.field(default=1, validator=number(1, 1000))
    interval_ms: float = attrs.field(default=100.0, validator=number(0, 1e6, lo_open=True))
    burst_spikes: int = attrs.field(default=1, validator=number(1, 1000))
    burst_isi_ms: float = attrs.field(default=10.0, validator=number(0, 1e6))
    seed: int = attrs.field(default=0, validator=number(0, 2**32 - 1))
    drive_index: Optional[int] = attrs.field(default=None, validator=optional(number(0, 10_000)))

    def __attrs_post_init__(self):
        where = f"input {self.name!r}"
        fields = attrs.fields_dict(type(self))
        others = sorted({n for names in TIMING.values() for n in names} - set(TIMING[self.kind]))
        unused = [n for n in others if getattr(self, n) != fields[n].default]
        replaced = []
        if self.kind == "poisson" and self.rate_times_ms is not None:
            replaced = [n for n in ("rate_hz", "start_ms", "stop_ms") if getattr(self, n) != fields[n].default]
        if self.kind == "spike_times" and self.file is not None and self.times_ms is not None:
            replaced = ["times_ms", "units"]
        if replaced:
            raise FieldValueError(replaced[0], f"{where}: {replaced} would be ignored: "
                                  + ("a rate profile (rate_times_ms) sets the whole rate" if self.kind == "poisson"
                                     else "'file' gives the spike trains") + "; allowed: one or the other")
        if self.weight_sd > 0 and self.weight_dist not in ("normal", "lognormal"):
            unused.append("weight_sd")
        if unused:
            raise FieldValueError(unused[0], f"{where}: {unused} have no effect on a {self.kind!r} input "
                                  f"(weight {self.weight_dist!r}); allowed timing options: {list(TIMING[self.kind])}")
        if (self.kind == "drive") != (self.drive_index is not None):
            raise FieldValueError("drive_index", f"{where}: 'drive_index' (the task drive setting the rate) goes "
                                  "with kind 'drive', and only with it")
        if self.kind == "poisson" and (self.rate_times_ms is None) != (self.rate_hz_profile is None):
            raise FieldValueError("rate_times_ms", f"{where}: 'rate_times_ms' and 'rate_hz_profile' go together")
        if self.rate_times_ms is not None:
            t = np.asarray(self.rate_times_ms)
            if len(t) != len(self.rate_hz_profile) or len(t) < 2 or np.any(np.diff(t) <= 0) \
                    or min(self.rate_hz_profile) < 0:
                raise FieldValueError("rate_times_ms", f"{where}: needs >= 2 increasing times and as many rates >= 0")
        if self.kind in ("evoked", "spike_times") and self.times_ms is None and self.file is None:
            raise FieldValueError("times_ms", f"{where}: kind {self.kind!r} needs 'times_ms'"
                                  + (" or 'file'" if self.kind == "spike_times" else ""))
        if self.kind == "rhythmic" and self.stop_ms is None:
            raise FieldValueError("stop_ms", f"{where}: a rhythmic input needs 'stop_ms'")
        if self.stop_ms is not None and self.stop_ms < self.start_ms:
            raise FieldValueError("stop_ms", f"{where}: stop_ms {self.stop_ms} is before start_ms {self.start_ms}")
        if self.delay_ms is not None and self.delay_spread_ms > self.delay_ms:
            raise FieldValueError("delay_spread_ms", f"{where}: delay_spread_ms exceeds delay_ms")
        if self.kind == "spike_times" and self.times_ms is not None and (
                self.units is None or len(self.units) != len(self.times_ms)):
            raise FieldValueError("units", f"{where}: 'units' must give the unit of every entry of 'times_ms'")


def input_targets(spec: InputSpec, circuit, class_of) -> np.ndarray:
    """Indices of the cells an input reaches (population, class, layer or ``*``)."""
    names = circuit.population_names
    if spec.target == "*":
        return np.arange(circuit.n_cells)
    chosen = [i for i, n in enumerate(names) if spec.target in (n, class_of(n), n.split("_", 1)[0])]
    if not chosen:
        allowed = sorted(set(names) | {class_of(n) for n in names} | {n.split("_", 1)[0] for n in names})
        raise ConfigError([("$.source.inputs", f"input {spec.name!r}: target {spec.target!r} names no population, "
                            f"class or layer; allowed: {allowed + ['*']}")])
    return np.nonzero(np.isin(circuit.population, chosen))[0]


def _timed_spikes(spec: InputSpec, n_units: int):
    """(unit (Q,), mean time ms (Q,)) of an evoked, rhythmic or spike_times input."""
    if spec.kind == "evoked":
        mean = np.repeat(np.asarray(spec.times_ms, float), n_units * spec.spikes_per_unit)
        unit = np.tile(np.repeat(np.arange(n_units), spec.spikes_per_unit), len(spec.times_ms))
        return unit, mean
    if spec.kind == "rhythmic":
        starts = np.arange(spec.start_ms, spec.stop_ms, spec.interval_ms)
        burst = (starts[:, None] + spec.burst_isi_ms * np.arange(spec.burst_spikes)[None, :]).ravel()
        burst = burst[burst < spec.stop_ms]
        return np.tile(np.arange(n_units), burst.size), np.repeat(burst, n_units)
    if spec.file is not None:
        try:
            with np.load(spec.file, allow_pickle=False) as z:
                unit, mean = np.asarray(z["units"]), np.asarray(z["times_ms"], float)
        except (OSError, KeyError, ValueError) as e:
            raise ConfigError([("$.source.inputs", f"input {spec.name!r}: file {spec.file!r} is not an .npz with "
                                f"'units' and 'times_ms' ({e})")]) from None
    else:
        unit, mean = np.asarray(spec.units), np.asarray(spec.times_ms, float)
    if unit.size and (unit.dtype.kind not in "iu" or unit.min() < 0 or unit.max() >= n_units or mean.min() < 0):
        raise ConfigError([("$.source.inputs", f"input {spec.name!r}: units must be integers in 0 .. {n_units - 1} "
                            "and times >= 0 ms")])
    return unit.astype(np.int64), mean


def build_inputs(specs, circuit, class_of, draw_weights, draw_delays):
    """Wire the inputs: -> dict of NumPy arrays (``None`` without inputs):
    edges ``pre`` (local unit index, 0 .. M-1), ``post``, signed ``weight``, ``delay_ms`` (NaN:
    one step), ``input`` (E_in,) which input; ``unit_input`` (M,); Poisson units' profiles
    ``poisson_unit`` (P,), ``profile_times`` / ``profile_rates`` (P, L); timed spikes
    ``timed_unit`` (Q,), ``timed_mean_ms`` (Q,), ``timed_sd_ms`` (Q,)."""
    if not specs:
        return None
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise ConfigError([("$.source.inputs", f"input names repeat: {names}")])
    edges, unit_input, poisson, timed, driven = [], [], [], [], []
    offset = 0
    for k, spec in enumerate(specs):
        rng = np.random.default_rng([spec.seed, zlib.crc32(spec.name.encode())])
        targets = input_targets(spec, circuit, class_of)
        m = spec.n_units if spec.n_units is not None else targets.size
        if spec.n_units is None:
            if spec.indegree != 1:
                raise ConfigError([("$.source.inputs", f"input {spec.name!r}: indegree {spec.indegree} needs "
                                    "n_units (without it every target cell has a unit of its own)")])
            pre = np.arange(targets.size)
            post = targets
        else:
            if spec.indegree > m:
                raise ConfigError([("$.source.inputs", f"input {spec.name!r}: indegree {spec.indegree} exceeds "
                                    f"n_units {m}")])
            keys = rng.random((targets.size, m))
            pre = np.argpartition(keys, spec.indegree - 1, axis=1)[:, :spec.indegree].ravel()
            post = np.repeat(targets, spec.indegree)
        w = draw_weights(spec, pre.size, rng) * (1.0 if spec.excitatory else -1.0)
        d = draw_delays(spec.delay_ms, spec.delay_spread_ms, pre.size, rng)
        edges.append((pre + offset, post, w, np.full(pre.size, np.nan) if d is None else d, np.full(pre.size, k)))
        unit_input.append(np.full(m, k))
        if spec.kind == "drive":
            driven.append((np.arange(m) + offset, np.full(m, spec.drive_index)))
        elif spec.kind == "poisson":
            if spec.rate_times_ms is not None:
                t, r = np.asarray(spec.rate_times_ms, float), np.asarray(spec.rate_hz_profile, float)
            else:
                stop = spec.stop_ms if spec.stop_ms is not None else 1e12
                t = np.array([spec.start_ms, spec.start_ms, stop, stop])
                r = np.array([0.0, spec.rate_hz, spec.rate_hz, 0.0])
            poisson.append((np.arange(m) + offset, t, r))
        else:
            unit, mean = _timed_spikes(spec, m)
            timed.append((unit + offset, mean, np.full(mean.size, spec.jitter_ms)))
        offset += m
    cat = lambda parts, i: np.concatenate([p[i] for p in parts])
    out = {"pre": cat(edges, 0), "post": cat(edges, 1), "weight": cat(edges, 2), "delay_ms": cat(edges, 3),
           "input": cat(edges, 4), "unit_input": np.concatenate(unit_input), "n_units": offset}
    if poisson:
        width = max(p[1].size for p in poisson)
        pad = lambda a: np.concatenate([a, np.full(width - a.size, a[-1])])
        out["poisson_unit"] = np.concatenate([p[0] for p in poisson])
        out["profile_times"] = np.concatenate([np.tile(pad(p[1]), (p[0].size, 1)) for p in poisson])
        out["profile_rates"] = np.concatenate([np.tile(pad(p[2]), (p[0].size, 1)) for p in poisson])
    if timed:
        out["timed_unit"], out["timed_mean_ms"], out["timed_sd_ms"] = (cat(timed, i) for i in range(3))
    if driven:
        out["driven_unit"], out["driven_index"] = cat(driven, 0), cat(driven, 1)
    return out


def driven_spikes(arrays, n_units: int, key, step, dt, drive):
    """(M,) bool: the spikes of ``drive`` inputs in ``step``, each unit Bernoulli with
    probability drive[index] (Hz) x dt; ``drive`` (K,) is the step's task drive courses."""
    bits = counter_uniform_bits(jax.random.fold_in(jax.random.fold_in(key, DRIVE_STREAM), step),
                                arrays["driven_unit"].shape)
    u = (bits >> 8).astype(jnp.float32) * np.float32(2.0 ** -24)
    rate = jnp.maximum(drive[arrays["driven_index"]], 0.0)
    fired = u < rate * jnp.asarray(dt, jnp.float32) * np.float32(1e-3)
    return jnp.zeros((n_units,), bool).at[arrays["driven_unit"]].set(fired)


def input_spikes(arrays, n_units: int, key, step, dt):
    """(M,) bool: which input units spike in ``step`` (int32), for the run ``key``; dt in ms
    (a float or a traced scalar). ``arrays``: the jnp versions of :func:`build_inputs`'
    generator arrays."""
    spikes = jnp.zeros((n_units,), bool)
    dt = jnp.asarray(dt, jnp.float32)
    t_ms = step.astype(jnp.float32) * dt
    if "poisson_unit" in arrays:
        rate = jax.vmap(jnp.interp, in_axes=(None, 0, 0))(t_ms, arrays["profile_times"], arrays["profile_rates"])
        bits = counter_uniform_bits(jax.random.fold_in(jax.random.fold_in(key, POISSON_STREAM), step),
                                    arrays["poisson_unit"].shape)
        u = (bits >> 8).astype(jnp.float32) * np.float32(2.0 ** -24)
        spikes = spikes.at[arrays["poisson_unit"]].set(u < rate * dt * np.float32(1e-3))
    if "timed_unit" in arrays:
        z = counter_normal(jax.random.fold_in(key, JITTER_STREAM), arrays["timed_unit"].shape)
        when = jnp.round((arrays["timed_mean_ms"] + arrays["timed_sd_ms"] * z) / dt).astype(jnp.int32)
        spikes = spikes.at[arrays["timed_unit"]].max(when == step)
    return spikes
