"""What every point-neuron emitter builds the same way: cells placed in the column (mixed, or
by layer), their populations and signs, random connectivity and its delivery path.

Each emitter names its cell classes (a population ``L4_E`` has class ``E``: the part after
its last ``_``) and says which classes are excitatory; the rest is shared here.
"""
from __future__ import annotations

from typing import ClassVar

import jax.numpy as jnp
import numpy as np

from jaxfne_core.claims import SourceCalibration
from jaxfne_core.errors import ConfigError
from jaxfne_core.rng import counter_normal
from jaxfne_core.stages import Circuit, Emitter
from jaxfne_core.validators import FieldValueError

from .connectivity import random_edges, resolve_connectivity
from .layout import interleaved_cells, layered_cells, population_counts
from .pathways import draw_delays, pathway_edges


def cell_class_of(population: str) -> str:
    """``L4_E`` -> ``E``; ``E`` -> ``E``."""
    return population.rsplit("_", 1)[-1]


def check_fractions(known=None):
    """attrs validator: {class: fraction >= 0} summing to 1 (classes among ``known`` if given)."""
    def check(inst, attr, value):
        if value is None:
            return
        bad = [k for k in value if known is not None and k not in known]
        if bad:
            raise FieldValueError(attr.name, f"unknown cell class(es) {bad!r} in {attr.name!r}; allowed: {sorted(known)}")
        if any(isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 for v in value.values()):
            raise FieldValueError(attr.name, f"{attr.name!r} must map classes to fractions >= 0, got {value!r}")
        if abs(sum(value.values()) - 1.0) > 1e-6:
            raise FieldValueError(attr.name, f"{attr.name!r} must sum to 1, got {sum(value.values())!r}")
    return check


def build_point_network(network, fractions: dict, is_excitatory, rng, *, float_spikes=False,
                        known_classes=None, v_init_mV: float = 0.0, v_init_spread_mV: float = 0.0) -> Circuit:
    """Place cells (``fractions`` {class: share}, or ``network.layers``' counts), draw random
    edges (``network.pathways``, else ``p_connect``) with signs from ``is_excitatory(class) ->
    bool`` and delays, and pick the delivery path.
    ``known_classes``: the classes the emitter has parameters for (layer populations must map
    onto one of them). With ``v_init_spread_mV`` > 0 each cell's initial V is drawn uniformly in
    v_init_mV +- spread (after the edges, so connectivity does not depend on it) and kept in
    ``Circuit.extra["v_init_mV"]`` (N,): the network then does not start synchronously. The
    draw comes from the network seed, so every trial of a model starts from the same V."""
    if network.layers is None:
        counts = population_counts({k: v for k, v in fractions.items() if v > 0}, network.n)
        pop, pos = interleaved_cells(counts, network.thickness_um, network.radius_um, rng)
        group = None
    else:
        counts, pop, pos, group = layered_cells(network.layers, network.radius_um, rng)
    names = tuple(counts)
    if known_classes is not None:
        bad = [n for n in names if cell_class_of(n) not in known_classes]
        if bad:
            raise ConfigError([("$.network.layers", f"unknown cell class(es) in {bad}; allowed: "
                                f"{sorted(known_classes)} (as '<class>' or '<layer>_<class>'), or classes of your own "
                                "declared by the emitter's 'classes' option (jaxfne plugins --options emitter)")])
    exc = np.array([bool(is_excitatory(cell_class_of(names[i]))) for i in pop], bool)
    pathways, edge_pathway = (), None
    if network.pathways is not None:
        pre, post, w, delay, edge_pathway, pathways = pathway_edges(network, names, pop, pos, exc, cell_class_of, rng)
    else:
        pre, post, w = random_edges(exc, network.p_connect, network.weight_exc, network.weight_inh, rng,
                                    group, network.p_between_layers)
        delay = draw_delays(network.delay_ms, network.delay_spread_ms, pre.size, rng)
    connectivity = resolve_connectivity(network.connectivity, network.n, pre.size, float_spikes=float_spikes)
    extra = None
    if v_init_spread_mV > 0:
        extra = {"v_init_mV": (v_init_mV + v_init_spread_mV * rng.uniform(-1.0, 1.0, network.n)).astype(np.float32)}
    return Circuit(names, pop, pos, exc, pre, post, w, connectivity, network.thickness_um, extra=extra,
                   delay_ms=delay, pathways=pathways, edge_pathway=edge_pathway)


def initial_v(circuit: Circuit, v_init_mV: float):
    """(N,) float32 initial V: the spread drawn at build, or ``v_init_mV`` everywhere."""
    if circuit.extra is not None and "v_init_mV" in circuit.extra:
        return jnp.asarray(circuit.extra["v_init_mV"], jnp.float32)
    return jnp.full((circuit.n_cells,), v_init_mV, jnp.float32)


def per_population(circuit: Circuit, value_of) -> np.ndarray:
    """(N,) float32: ``value_of(population name)`` broadcast to the cells."""
    table = np.array([value_of(n) for n in circuit.population_names], np.float32)
    return table[circuit.population]


def lookup(table, name: str, default: float) -> float:
    """A per-population value: by the population's name, then by its class, else ``default``."""
    table = table or {}
    for key in (name, cell_class_of(name)):
        if key in table:
            return float(table[key])
    return float(default)


class PointNeuronEmitter(Emitter):
    """Shared by the LIF and AdEx emitters: cells of named classes (``Options.classes``,
    ``Options.fractions``), a tonic drive and a noise SD per population (``Options.drive``,
    ``Options.noise_sigma[_by_population]``), both tunable. Subclasses set ``SEED_TAG``,
    ``DRIVE_DEFAULT`` (the option holding the default drive) and the tunables' ranges."""

    SEED_TAG: ClassVar[int]
    DRIVE_DEFAULT: ClassVar[str] = "drive_default"
    DRIVE_RANGE: ClassVar[tuple] = (-50.0, 100.0)
    NOISE_MAX: ClassVar[float] = 50.0
    FLOAT_SPIKES: ClassVar[bool] = False     # spikes as float counts (rate units), not 0/1

    @classmethod
    def cell_classes(cls) -> dict:
        return {"E": "excitatory (default receptor AMPA), by default", "I": "inhibitory (default receptor GABA_A), "
                "by default", "(yours)": "any class declared in the 'classes' option as 'excitatory' or 'inhibitory'"}

    def _drive(self, name):
        return lookup(self.options.drive, name, getattr(self.options, self.DRIVE_DEFAULT))

    def _noise(self, name):
        return lookup(self.options.noise_sigma_by_population, name, self.options.noise_sigma)

    def build(self, network) -> Circuit:
        o = self.options
        return build_point_network(network, o.fractions, lambda c: o.classes[c] == "excitatory",
                                   np.random.default_rng([network.seed, self.SEED_TAG]), known_classes=o.classes,
                                   float_spikes=self.FLOAT_SPIKES, v_init_mV=o.v_init_mV,
                                   v_init_spread_mV=o.v_init_spread_mV)

    def init_params(self, circuit: Circuit) -> dict:
        return {"drive": jnp.asarray(per_population(circuit, self._drive), jnp.float32),
                "noise_sigma": jnp.asarray(per_population(circuit, self._noise), jnp.float32),
                "population": jnp.asarray(circuit.population, jnp.int32),
                "v0": initial_v(circuit, self.options.v_init_mV)}

    @property
    def noisy(self) -> bool:
        """Whether any population has noise (without it no random numbers are drawn at all)."""
        o = self.options
        return o.noise_sigma > 0 or any(v > 0 for v in (o.noise_sigma_by_population or {}).values())

    def noise_shape(self, params):
        return params["drive"].shape if self.noisy else None

    def input_current(self, params, current, key, dt, noise):
        """Synaptic current plus tonic drive plus white noise of SD noise_sigma sqrt(1 ms / dt)."""
        if not self.noisy:
            return current + params["drive"]
        if noise is None:
            noise = counter_normal(key, current.shape, jnp.float32)
        return current + params["drive"] + params["noise_sigma"] * np.float32(np.sqrt(1.0 / dt)) * noise

    def tunables(self, circuit):
        lo, hi = self.DRIVE_RANGE
        out = {f"drive.{n}": (self._drive(n), lo, hi) for n in circuit.population_names}
        if self.noisy and self.options.noise_sigma_by_population is None:    # noise-free runs draw none
            out["noise_sigma"] = (self.options.noise_sigma, 0.0, self.NOISE_MAX)
        return out

    def apply_tunables(self, params, values, circuit):
        params = dict(params)
        for i, n in enumerate(circuit.population_names):
            if f"drive.{n}" in values:
                params["drive"] = jnp.where(params["population"] == i, values[f"drive.{n}"], params["drive"])
        if "noise_sigma" in values:
            params["noise_sigma"] = jnp.full_like(params["noise_sigma"], values["noise_sigma"])
        return params


class NanoampereEmitter(PointNeuronEmitter):
    """Point neurons in physical units (AdEx, Hodgkin-Huxley): drives and noise in nA, and the
    emitter claims ``source_calibration = nA``, so its sources need no declared scale."""

    DRIVE_DEFAULT: ClassVar[str] = "drive_default_nA"
    DRIVE_RANGE: ClassVar[tuple] = (-5.0, 10.0)
    NOISE_MAX: ClassVar[float] = 5.0

    def provides(self, upstream):
        return {"source_calibration": SourceCalibration.NANOAMPERE}


def check_classes(inst, attr, value):
    """attrs validator: {cell class: 'excitatory' | 'inhibitory'}, not empty."""
    bad = {k: v for k, v in value.items() if v not in ("excitatory", "inhibitory")}
    if bad or not value:
        raise FieldValueError(attr.name, f"'classes' maps cell classes to 'excitatory' or 'inhibitory', got {value!r}")


def check_per_population(inst, attr, value):
    """attrs validator: {population or class: number} naming only known classes (>= 0 for noise)."""
    if value is None:
        return
    known = set(inst.classes)
    bad = [k for k in value if k not in known and cell_class_of(k) not in known]
    if bad:
        raise FieldValueError(attr.name, f"unknown population(s) {bad!r} in {attr.name!r}; allowed: classes "
                              f"{sorted(known)} or '<layer>_<class>'")
    if attr.name.startswith("noise") and any(v < 0 for v in value.values()):
        raise FieldValueError(attr.name, f"noise SDs must be >= 0, got {value!r}")
