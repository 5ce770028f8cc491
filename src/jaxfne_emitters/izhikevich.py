"""Izhikevich (2003) spiking network emitter.

    dv/dt = 0.04 v^2 + 5 v + 140 - u + I      (v in mV, t in ms)
    du/dt = a (b v - u)
    v >= v_peak:  v <- c,  u <- u + d

integrated by forward Euler (Euler-Maruyama for the noise) at step dt. I is the sum of the
synaptic current, the tonic drive of the cell's population and a white-noise current whose
per-step standard deviation is ``noise_sigma * sqrt(1 ms / dt)``, so the diffusion of v does
not depend on dt. Currents are in native (uncalibrated) units.
"""
from __future__ import annotations

from typing import Optional

import functools

import attrs
import jax
import jax.numpy as jnp
import numpy as np

from jaxfne_core.claims import SourceCalibration
from jaxfne_core.errors import ConfigError
from jaxfne_core.rng import counter_normal
from jaxfne_core.stages import Circuit, Emitter
from jaxfne_core.validators import FieldValueError, number, one_of, optional

from .point_network import build_point_network, cell_class_of, initial_v
from .presets import CELL_TYPES, PRESETS

#: Tuning ranges of the Izhikevich parameters (a log-scaled: it spans two decades)
ABCD_BOUNDS = {"a": (0.005, 0.2, "log"), "b": (0.1, 0.3), "c": (-75.0, -40.0), "d": (0.0, 10.0)}


def _known(inst):
    return set(CELL_TYPES) | set(inst.classes or {})


def _check_classes(inst, attr, value):
    if value is None:
        return
    bad = {k: v for k, v in value.items() if v not in CELL_TYPES or "_" in k or not k}
    if bad:
        raise FieldValueError(attr.name, f"'classes' maps your class names (no '_') to Izhikevich cell types; got "
                              f"{bad!r}; allowed types: {sorted(CELL_TYPES)}")


def _check_fractions(inst, attr, value):
    if value is None:
        return
    bad = [k for k in value if k not in _known(inst)]
    if bad:
        raise FieldValueError(attr.name, f"unknown cell type(s) {bad!r} in 'fractions'; allowed: {sorted(_known(inst))}")
    if any((not isinstance(v, (int, float))) or v < 0 for v in value.values()):
        raise FieldValueError(attr.name, f"'fractions' must be non-negative numbers, got {value!r}")
    if abs(sum(value.values()) - 1.0) > 1e-6:
        raise FieldValueError(attr.name, f"'fractions' must sum to 1, got {sum(value.values())!r}")


cell_type_of = cell_class_of      # ``L4_E`` -> ``E``


def _check_drive(inst, attr, value):
    if value is None:
        return
    bad = [k for k in value if cell_type_of(k) not in _known(inst)]
    if bad:
        raise FieldValueError(attr.name, f"unknown population(s) {bad!r} in {attr.name!r}; allowed: cell types "
                              f"{sorted(_known(inst))} or '<layer>_<type>'")
    if attr.name.startswith("noise"):
        negative = {k: v for k, v in value.items() if v < 0}
        if negative:
            raise FieldValueError(attr.name, f"noise SDs must be >= 0, got {negative!r}")


@attrs.frozen
class IzhikevichOptions:
    """classes: your own class names for populations, each mapped onto an Izhikevich cell type
    (e.g. {"I": "FS", "Pyr": "RS"}: a layer population ``L4_I`` then has FS parameters and
    sign). preset: population mix (see presets.PRESETS). fractions: override the mix
    ({cell type: fraction}, summing to 1). drive: tonic native current per population,
    overriding the cell type's default. noise_sigma: noise current SD at dt = 1 ms (native);
    noise_sigma_by_population overrides it per population (type or ``<layer>_<type>``).
    v_init_mV: initial v (u starts at b v). v_init_spread_mV: if > 0, each cell starts at
    v_init_mV + U(-spread, spread), drawn from the network seed (no synchronous start). v_peak_mV: spike cut-off. surrogate_slope: if set,
    spikes are float 0/1 whose gradient is that of a sigmoid of this slope (1/mV) around
    v_peak_mV (surrogate gradients, for tuning by gradient); unset, spikes are bool."""

    classes: Optional[dict[str, str]] = attrs.field(default=None, validator=_check_classes)
    preset: str = attrs.field(default="cortical_eig", validator=one_of(*PRESETS))
    fractions: Optional[dict[str, float]] = attrs.field(default=None, validator=_check_fractions)
    drive: Optional[dict[str, float]] = attrs.field(default=None, validator=_check_drive)
    noise_sigma: float = attrs.field(default=2.0, validator=number(0))
    noise_sigma_by_population: Optional[dict[str, float]] = attrs.field(default=None, validator=_check_drive)
    v_init_mV: float = attrs.field(default=-65.0, validator=number(-120, 30))
    v_init_spread_mV: float = attrs.field(default=0.0, validator=number(0, 100))
    v_peak_mV: float = attrs.field(default=30.0, validator=number(0, 100))
    surrogate_slope: Optional[float] = attrs.field(default=None, validator=optional(number(0, lo_open=True)))


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def spike_surrogate(x, slope):
    """Heaviside(x) forward; fast-sigmoid derivative 1 / (1 + slope |x|)^2 backward."""
    return (x >= 0).astype(x.dtype)


@spike_surrogate.defjvp
def _spike_surrogate_jvp(slope, primals, tangents):
    (x,), (dx,) = primals, tangents
    return spike_surrogate(x, slope), dx / (1.0 + slope * jnp.abs(x)) ** 2


class IzhikevichEmitter(Emitter):
    """Izhikevich (2003) point-neuron network with interleaved cell types (native currents)."""

    name = "izhikevich"
    Options = IzhikevichOptions

    def provides(self, upstream):
        return {"source_calibration": SourceCalibration.NATIVE}

    @classmethod
    def cell_classes(cls) -> dict:
        return {k: f"{'excitatory' if t.excitatory else 'inhibitory'} (default receptor "
                   f"{'AMPA' if t.excitatory else 'GABA_A'}); a = {t.a}, b = {t.b}, c = {t.c} mV, d = {t.d}, "
                   f"tonic drive {t.drive} (native)" for k, t in CELL_TYPES.items()} | {
            "(yours)": "any name mapped onto one of these by the 'classes' option"}

    def _type(self, name: str):
        """The Izhikevich cell type of a population (by its class, through 'classes')."""
        c = cell_type_of(name)
        return CELL_TYPES[(self.options.classes or {}).get(c, c)]

    def populations(self) -> dict:
        fr = self.options.fractions or PRESETS[self.options.preset]
        return {k: v for k, v in fr.items() if v > 0}

    def build(self, network) -> Circuit:
        if network.layers is not None and self.options.fractions is not None:
            raise ConfigError([("$.emitter.fractions", "not allowed with network.layers, which give "
                                "the cell counts")])
        return build_point_network(network, self.populations(), lambda c: self._type(c).excitatory,
                                   np.random.default_rng([network.seed, 0x1A7]),
                                   float_spikes=self.options.surrogate_slope is not None,
                                   known_classes=set(CELL_TYPES) | set(self.options.classes or {}),
                                   v_init_mV=self.options.v_init_mV, v_init_spread_mV=self.options.v_init_spread_mV)

    def _drive_of(self, name):
        over = self.options.drive or {}
        if name in over:
            return float(over[name])
        return float(over.get(cell_type_of(name), self._type(name).drive))

    def _noise_of(self, name):
        over = self.options.noise_sigma_by_population or {}
        for key in (name, cell_type_of(name)):
            if key in over:
                return float(over[key])
        return self.options.noise_sigma

    def init_params(self, circuit: Circuit) -> dict:
        names, pop = circuit.population_names, circuit.population
        table = {k: np.array([getattr(self._type(n), k) for n in names], np.float32)
                 for k in ("a", "b", "c", "d")}
        drive = np.array([self._drive_of(n) for n in names], np.float32)
        f32 = lambda x: jnp.asarray(x, jnp.float32)
        return {**{k: f32(v[pop]) for k, v in table.items()},
                "drive": f32(drive[pop]),
                "noise_sigma": f32(np.array([self._noise_of(n) for n in names], np.float32)[pop]),
                "population": jnp.asarray(pop, jnp.int32),
                "v0": initial_v(circuit, self.options.v_init_mV)}

    def init_state(self, params):
        v = params["v0"]
        return {"v": v, "u": params["b"] * v}

    def noise_shape(self, params):
        return params["a"].shape

    def step(self, params, state, current, key, dt, *, noise=None):
        v, u = state["v"], state["u"]
        if noise is None:
            noise = counter_normal(key, v.shape, v.dtype)
        i_total = current + params["drive"] + params["noise_sigma"] * np.float32(np.sqrt(1.0 / dt)) * noise
        v2 = v + dt * (0.04 * v * v + 5.0 * v + 140.0 - u + i_total)
        u2 = u + dt * (params["a"] * (params["b"] * v - u))
        slope = self.options.surrogate_slope
        if slope is None:
            spikes = v2 >= self.options.v_peak_mV
            v_new = jnp.where(spikes, params["c"], v2)
            u_new = jnp.where(spikes, u2 + params["d"], u2)
        else:                           # same values, written so the surrogate carries gradients
            spikes = spike_surrogate(v2 - self.options.v_peak_mV, float(slope))
            v_new = v2 * (1.0 - spikes) + params["c"] * spikes
            u_new = u2 + params["d"] * spikes
        return {"v": v_new, "u": u_new}, spikes, v_new

    @property
    def spike_dtype(self):
        return jnp.float32 if self.options.surrogate_slope is not None else jnp.bool_

    def differentiability(self):
        return "surrogate" if self.options.surrogate_slope is not None else "none"

    def tunables(self, circuit):
        """drive.<pop> (native), noise_sigma, and Izhikevich's a, b, c (mV), d per population
        (``a.L4_E``...) within the ranges of Izhikevich (2003, Fig. 2) widened by half."""
        out = {f"drive.{n}": (self._drive_of(n), -10.0, 30.0) for n in circuit.population_names}
        if self.options.noise_sigma_by_population is None:
            out["noise_sigma"] = (self.options.noise_sigma, 0.0, 20.0)
        for n in circuit.population_names:
            for k, (lo, hi, *scale) in ABCD_BOUNDS.items():
                out[f"{k}.{n}"] = (float(getattr(self._type(n), k)), lo, hi, *scale)
        return out

    def apply_tunables(self, params, values, circuit):
        params = dict(params)
        for i, n in enumerate(circuit.population_names):
            for k in ("drive", *ABCD_BOUNDS):
                if f"{k}.{n}" in values:
                    params[k] = jnp.where(params["population"] == i, values[f"{k}.{n}"], params[k])
        if "noise_sigma" in values:
            params["noise_sigma"] = jnp.full_like(params["noise_sigma"], values["noise_sigma"])
        return params
