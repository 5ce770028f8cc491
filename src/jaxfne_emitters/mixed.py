"""One network, several point-neuron models: each cell class is stepped by its own model (LIF,
AdEx or Hodgkin-Huxley) with its own parameters, e.g. AdEx pyramidal cells with Wang-Buzsaki
interneurons, or regular- and fast-spiking AdEx parameter sets side by side.

The network (placement, layers, pathways, delays) is built once for all classes, exactly as a
single-model network; each model then steps the cells of its class: its inputs are gathered
from the network's (N,) synaptic current and its spikes and V scattered back (static index
arrays, so one gather per output and step). Every model must give its currents in the same
units: physical models (AdEx, HH: nA) mix, and LIF (native mV of R I) mixes only with LIF,
since a native current has no common scale with a physical one (the options refuse it). The
Izhikevich emitter is not offered: its populations are its own cell types (RS, FS, LTS, ...),
which it already steps side by side in one network.
"""
from __future__ import annotations

from typing import ClassVar

import attrs
import jax
import jax.numpy as jnp
import numpy as np

from jaxfne_core.config import structure_options
from jaxfne_core.errors import UsageError
from jaxfne_core.stages import Circuit, Emitter
from jaxfne_core.validators import FieldValueError

from .adex import AdExEmitter
from .hh import HHEmitter
from .lif import LIFEmitter
from .point_network import build_point_network, cell_class_of, check_classes, check_fractions

#: the models a cell class may use: name -> emitter class
MODELS = {"lif": LIFEmitter, "adex": AdExEmitter, "hh": HHEmitter}
SET_BY_MIXED = ("classes", "fractions")


def _default_models():
    return {"E": {"model": "adex"},
            "I": {"model": "hh", "options": {"variant": "wang_buzsaki", "area_um2": 10_000.0}}}


def sub_options(options, cls: str):
    """The structured options of the model stepping cell class ``cls``."""
    spec = options.models[cls]
    model = MODELS[spec["model"]]
    given = dict(spec.get("options") or {})
    data = {**given, "classes": {cls: options.classes[cls]}, "fractions": {cls: 1.0}}
    return model, structure_options(model.Options, data, f"models.{cls}.options")


def check_models(inst, attr, value):
    """attrs validator: {class: {"model": one of MODELS, "options": {...}}}."""
    for cls, spec in value.items():
        if not isinstance(spec, dict) or set(spec) - {"model", "options"} or "model" not in spec:
            raise FieldValueError(attr.name, f"models[{cls!r}] must be {{'model': name, 'options': {{...}}}}, "
                                  f"got {spec!r}")
        if spec["model"] not in MODELS:
            raise FieldValueError(attr.name, f"models[{cls!r}]: unknown model {spec['model']!r}; allowed: "
                                  f"{sorted(MODELS)}")
        if not isinstance(spec.get("options") or {}, dict):
            raise FieldValueError(attr.name, f"models[{cls!r}]['options'] must be an object, got {spec['options']!r}")
        clash = sorted(set(spec.get("options") or {}) & set(SET_BY_MIXED))
        if clash:
            raise FieldValueError(attr.name, f"models[{cls!r}]['options'] sets {clash}: the mixed emitter's own "
                                  "'classes' and 'fractions' say which cells a model steps")


@attrs.frozen
class MixedOptions:
    """classes: cell class -> 'excitatory' or 'inhibitory' (sign of its outgoing weights).
    fractions: share of each class when the network has no layers. models: cell class ->
    {"model": "lif" | "adex" | "hh", "options": that model's options (its own defaults where
    left out; not 'classes' or 'fractions')}; every class needs one, and all models must give
    currents in the same units (nA: adex, hh; native: lif). The default pairs AdEx pyramidal
    cells (the Brette-Gerstner standard set) with Wang-Buzsaki interneurons (10,000 um^2)."""

    classes: dict[str, str] = attrs.field(factory=lambda: {"E": "excitatory", "I": "inhibitory"},
                                          validator=check_classes)
    fractions: dict[str, float] = attrs.field(factory=lambda: {"E": 0.8, "I": 0.2}, validator=check_fractions())
    models: dict[str, dict] = attrs.field(factory=_default_models, validator=check_models)

    def __attrs_post_init__(self):
        missing = sorted(set(self.classes) - set(self.models))
        extra = sorted(set(self.models) - set(self.classes))
        if missing or extra:
            raise FieldValueError("models", f"every class in 'classes' needs exactly one model: without one "
                                  f"{missing}, not a class {extra}; classes: {sorted(self.classes)}")
        unknown = sorted(set(self.fractions) - set(self.classes))
        if unknown:
            raise FieldValueError("fractions", f"classes {unknown} have no entry in 'classes'; allowed: "
                                  f"{sorted(self.classes)}")
        units = {}
        for cls in self.classes:
            model, opts = sub_options(self, cls)
            units.setdefault(model(opts).provides({})["source_calibration"].value, []).append(
                f"{cls}: {self.models[cls]['model']}")
        if len(units) > 1:
            raise FieldValueError("models", f"the models give currents in different units ({units}); a network's "
                                  "synaptic currents need one unit: mix physical models (adex, hh) or native ones (lif)")


@attrs.frozen(eq=False)
class ClassGroup:
    """The cells of one class and the model stepping them: ``cells`` (n,) int indices into the
    network, ``circuit`` the sub-circuit of those cells (no edges), ``stage`` the bound model."""

    cls: str
    stage: Emitter
    cells: np.ndarray
    circuit: Circuit


def class_circuit(circuit: Circuit, cls: str, offsets, stage) -> "tuple[np.ndarray, Circuit]":
    """The cells of class ``cls`` and their edge-free sub-circuit, populations renumbered;
    initial V from the model's v_init_mV and v_init_spread_mV (``offsets`` (N,) U(-1, 1))."""
    names = tuple(n for n in circuit.population_names if cell_class_of(n) == cls)
    old = np.array([circuit.population_names.index(n) for n in names], np.int64)
    cells = np.flatnonzero(np.isin(circuit.population, old)).astype(np.int32)
    renumber = np.full(len(circuit.population_names), -1, np.int32)
    renumber[old] = np.arange(len(names), dtype=np.int32)
    o = stage.options
    extra = None
    if o.v_init_spread_mV > 0:
        extra = {"v_init_mV": (o.v_init_mV + o.v_init_spread_mV * offsets[cells]).astype(np.float32)}
    none = np.zeros(0, np.int32)
    sub = Circuit(names, renumber[circuit.population[cells]], circuit.positions_um[cells],
                  circuit.excitatory[cells], none, none, np.zeros(0, np.float32), circuit.connectivity,
                  circuit.thickness_um, extra=extra)
    return cells, sub


class MixedEmitter(Emitter):
    """Point neurons of several models in one network: one model (LIF, AdEx, HH) per cell class."""

    name = "mixed"
    Options = MixedOptions
    SEED_TAG: ClassVar[int] = 0x313D

    def __init__(self, options=None, groups=None, order=None):
        super().__init__(options)
        self.models = {c: sub_options(self.options, c) for c in self.options.classes}
        self.groups = groups          # bound: tuple of ClassGroup with cells
        self.order = order            # bound: (N,) position of each cell in the concatenated groups

    @classmethod
    def cell_classes(cls) -> dict:
        return {"(yours)": "any class declared in the 'classes' option as 'excitatory' or 'inhibitory', stepped "
                "by the model that 'models' names for it"}

    def provides(self, upstream):
        model, opts = next(iter(self.models.values()))
        return model(opts).provides(upstream)

    def build(self, network) -> Circuit:
        o = self.options
        rng = np.random.default_rng([network.seed, self.SEED_TAG])
        circuit = build_point_network(network, o.fractions, lambda c: o.classes[c] == "excitatory", rng,
                                      known_classes=o.classes, v_init_mV=0.0, v_init_spread_mV=1.0)
        # the spread drawn after the edges, U(-1, 1) per cell: each model scales it by its own spread
        return attrs.evolve(circuit, extra={"v_init_offset": circuit.extra["v_init_mV"]})

    def bind(self, circuit: Circuit) -> "MixedEmitter":
        if self.groups is not None:
            return self
        offsets = circuit.extra["v_init_offset"]
        groups = []
        for cls, (model, opts) in self.models.items():
            stage = model(opts)
            cells, sub = class_circuit(circuit, cls, offsets, stage)
            if cells.size:
                groups.append(ClassGroup(cls, stage.bind(sub), cells, sub))
        concatenated = np.concatenate([g.cells for g in groups])
        order = np.empty(circuit.n_cells, np.int32)
        order[concatenated] = np.arange(circuit.n_cells, dtype=np.int32)
        if np.array_equal(order, np.arange(circuit.n_cells)):
            order = None              # classes already in order: no scatter needed
        return MixedEmitter(self.options, tuple(groups), order)

    def _bound(self):
        if self.groups is None:
            raise UsageError("the mixed emitter must be bound to its circuit (emitter.bind(circuit)) before it "
                             "is stepped")
        return self.groups

    def _scatter(self, parts):
        out = jnp.concatenate(parts) if len(parts) > 1 else parts[0]
        return out if self.order is None else out[self.order]

    def init_params(self, circuit: Circuit) -> dict:
        stage = self.bind(circuit)
        return {g.cls: g.stage.init_params(g.circuit) for g in stage._bound()}

    def init_state(self, params):
        return {g.cls: g.stage.init_state(params[g.cls]) for g in self._bound()}

    def noise_shape(self, params):
        groups = self._bound()
        if all(g.stage.noise_shape(params[g.cls]) is None for g in groups):
            return None
        return (sum(int(g.cells.size) for g in groups),)

    def step(self, params, state, current, key, dt, *, noise=None):
        new_state, spikes, v = {}, [], []
        for k, g in enumerate(self._bound()):
            own_noise = None
            if noise is not None and g.stage.noise_shape(params[g.cls]) is not None:
                own_noise = noise[g.cells]
            new_state[g.cls], s, vm = g.stage.step(params[g.cls], state[g.cls], current[g.cells],
                                                   jax.random.fold_in(key, k), dt, noise=own_noise)
            spikes.append(s)
            v.append(vm)
        return new_state, self._scatter(spikes), self._scatter(v)

    def membrane_potential(self, state):
        return self._scatter([g.stage.membrane_potential(state[g.cls]) for g in self._bound()])

    @staticmethod
    def _public(cls, name):
        return name if name.startswith("drive.") else f"{cls}.{name}"

    def tunables(self, circuit: Circuit) -> dict:
        """Each model's tunables: drives as ``drive.<population>``, the rest ``<class>.<name>``."""
        stage = self.bind(circuit)
        return {self._public(g.cls, k): v for g in stage._bound() for k, v in g.stage.tunables(g.circuit).items()}

    def apply_tunables(self, params, values, circuit: Circuit):
        stage = self.bind(circuit)
        out = dict(params)
        for g in stage._bound():
            own = {k: values[self._public(g.cls, k)] for k in g.stage.tunables(g.circuit)
                   if self._public(g.cls, k) in values}
            if own:
                out[g.cls] = g.stage.apply_tunables(params[g.cls], own, g.circuit)
        return out
