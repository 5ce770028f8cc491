"""Abstract stage classes: the contract every plugin implements.

Conventions. Units: ms, mV, um (depth z grows downward from the pia at 0), S/m, nA or
``native`` (Izhikevich units), uV. Step functions are pure and written for ONE unbatched
example; callers ``vmap`` over trials and candidates. Static configuration lives on the stage
object (its ``options``, an attrs value); arrays live in the ``params`` pytree passed to
every pure function, so new data never triggers recompilation.
"""
from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any, ClassVar, Mapping, NamedTuple

import attrs
import jax
import jax.numpy as jnp
import numpy as np

from .ports import Port
from .signals import MODES
from .errors import ConfigError, PluginError, UsageError


@attrs.frozen(eq=False)
class Compartments:
    """Multi-compartment geometry of a circuit (emitters with detailed cells).

    segments_um: (S, 2, 3) start and end (x, y, depth) of every compartment's cylinder axis.
    cell: (S,) index of the cell each compartment belongs to.
    """

    segments_um: np.ndarray
    cell: np.ndarray

    @property
    def n_compartments(self) -> int:
        return int(self.cell.shape[0])

    @property
    def centres_um(self) -> np.ndarray:
        return 0.5 * (self.segments_um[:, 0] + self.segments_um[:, 1])


@attrs.frozen(eq=False)
class Circuit:
    """Cells and connectivity built by an emitter (NumPy arrays; static per model).

    population_names: names in order; population: (N,) int index into them.
    positions_um: (N, 3) soma x, y, depth. excitatory: (N,) bool, sign of outgoing weights.
    pre, post: (E,) int32 edge endpoints; weight: (E,) float32 signed native current jump.
    connectivity: ``dense`` or ``edge_list`` (how sources deliver the edges).
    thickness_um: column depth. compartments: the cells' compartment geometry, for emitters
    of detailed cells (None for point neurons). delay_ms: (E,) float transmission delay of
    each edge (ms; sources round it to whole steps of at least one; NaN: one step), or None:
    one step each.
    pathways: the declared pathways (:class:`Pathway`), and edge_pathway (E,) int32 the one
    each edge belongs to (None: no pathways declared).
    """

    population_names: tuple
    population: np.ndarray
    positions_um: np.ndarray
    excitatory: np.ndarray
    pre: np.ndarray
    post: np.ndarray
    weight: np.ndarray
    connectivity: str
    thickness_um: float
    compartments: "Compartments | None" = None
    extra: Any = None            # emitter-specific build products, opaque to the host
    delay_ms: "np.ndarray | None" = None
    pathways: tuple = ()
    edge_pathway: "np.ndarray | None" = None

    @property
    def n_cells(self) -> int:
        return int(self.population.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.pre.shape[0])


@attrs.frozen
class Pathway:
    """A declared pathway of a circuit: its name (``pre->post``) and the receptor its synapses
    use (None: the source's default for the presynaptic population)."""

    name: str
    receptor: "str | None" = None


@attrs.frozen(eq=False)
class ProbeGeometry:
    """Where a probe's contacts are.

    positions_um: (C, 3) x, y, depth. shanks: tuple of index arrays, each listing the contacts
    of one straight shank in order along it. spacing_um: pitch along every shank.
    """

    positions_um: np.ndarray
    shanks: tuple
    spacing_um: float

    @property
    def n_contacts(self) -> int:
        return int(self.positions_um.shape[0])

    @classmethod
    def single_shank(cls, positions_um, spacing_um):
        return cls(np.asarray(positions_um, float), (np.arange(len(positions_um)),), float(spacing_um))


class Stage(abc.ABC):
    """Base of every stage. Subclasses set ``name``, ``Options`` (an attrs class), ports and claims."""

    stage: ClassVar[str]
    name: ClassVar[str]
    Options: ClassVar[type]
    inputs: ClassVar[tuple] = ()
    outputs: ClassVar[tuple] = ()

    def __init__(self, options=None):
        self.options = options if options is not None else self.Options()
        if not isinstance(self.options, self.Options):
            raise UsageError(f"{self.stage} {self.name!r} needs {self.Options.__name__}, got {options!r}")

    def provides(self, upstream: Mapping[str, Any]) -> Mapping[str, Any]:
        """Claims this stage adds downstream, given the claims of the stages before it."""
        return {}

    def requires(self) -> Mapping[str, tuple]:
        """Claims this stage needs from upstream: claim -> allowed values."""
        return {}

    @property
    def label(self) -> str:
        return f"{self.stage} {self.name!r}"

    def __repr__(self):
        return f"<{self.label} {self.options!r}>"


class Emitter(Stage):
    """A spiking circuit. Ports out: spikes and V_m per cell."""

    stage = "emitter"
    outputs = (Port("spikes", "1", ("cell",)), Port("membrane_potential", "mV", ("cell",)))

    @abc.abstractmethod
    def build(self, network) -> Circuit:
        """Cells, positions and connectivity for the ``network`` section (the class a plugin
        registers for it; built-in: :class:`jaxfne_emitters.NetworkConfig`). Returns everything it
        builds (in the Circuit; emitter-specific products in ``Circuit.extra``) and never
        changes the stage."""

    def bind(self, circuit: Circuit) -> Emitter:
        """The stage that steps ``circuit``: a stage whose step needs what :meth:`build` made
        (a compiled cell model, say) returns a new stage carrying ``circuit.extra``; the
        default, for emitters whose arrays live in params, is this stage itself."""
        return self

    @abc.abstractmethod
    def init_params(self, circuit: Circuit) -> dict:
        """Array parameters (pytree) of the neurons."""

    @abc.abstractmethod
    def init_state(self, params) -> Any:
        """Initial state pytree for one example."""

    @abc.abstractmethod
    def step(self, params, state, current, key, dt: float, *, noise=None):
        """Advance one step of ``dt`` ms under ``current`` (N,) (native units).

        ``key`` is this step's PRNG key. ``noise``: for emitters that declare
        :meth:`noise_shape`, the engine passes this step's standard-normal draws of that
        shape (generated for blocks of steps at once, which is several times cheaper on a
        CPU than drawing inside the step); otherwise None.
        Returns ``(state, spikes (N,) bool, v (N,) mV)``. Pure.
        """

    def noise_shape(self, params):
        """Shape of the standard-normal draws ``step`` needs per step (e.g. ``(N,)``), or None
        when it draws its own random numbers from ``key`` (the default)."""
        return None

    @classmethod
    def cell_classes(cls) -> dict:
        """Cell classes a population may be of: class -> what it means (sign of its synapses,
        default receptor, parameters). A population ``<layer>_<class>`` (``L4_E``) is of the
        class after its last ``_``. Listed by ``jaxfne plugins --options``."""
        return {}

    def membrane_potential(self, state):
        """(N,) membrane potential (mV) held in ``state``: by default ``state["v"]``. Read
        before the first step by sources that need it (:attr:`Source.needs_voltage`)."""
        if not (isinstance(state, Mapping) and "v" in state):
            raise UsageError(f"{self.label} keeps no state['v']: override membrane_potential(state) "
                             "to use sources that need the membrane potential")
        return state["v"]

    def membrane_currents(self, params, state):
        """(S,) transmembrane current of every compartment (nA, outward positive) in ``state``.

        Only emitters of detailed cells implement it; they declare the output port
        ``membrane_current[nA](compartment,)`` so that sources reading it can be checked.
        """
        raise NotImplementedError(f"{self.label} has no compartments, so no membrane currents")

    def tunables(self, circuit: Circuit) -> dict:
        """Scalar tunables: name -> (default, lower, upper[, "log"])."""
        return {}

    def apply_tunables(self, params, values: Mapping, circuit: Circuit):
        """Return params with tunable ``values`` (traced scalars) applied. Pure."""
        return params

    @property
    def spike_dtype(self):
        """dtype of the spikes ``step`` returns (bool, or float 0/1 for surrogate gradients)."""
        return jnp.bool_

    def differentiability(self) -> str:
        """``none`` (hard spikes: no useful gradient) or ``surrogate`` (a declared surrogate
        spike derivative) or ``exact``."""
        return "none"


class StepInputs(NamedTuple):
    """What the engine hands every source step besides the spikes (a pytree, one example).

    v: (N,) membrane potential (mV) at the start of the step where the source declares
    :attr:`Source.needs_voltage`, else None. t: the global step (int32 scalar). key: the run's
    PRNG key (fold ``t`` in for this step's draws). drive: (K,) this step's task drive time
    courses (for inputs with their own timing and randomness, or a task's synaptic drives).
    """

    v: Any = None
    t: Any = None
    key: Any = None
    drive: Any = None


class Source(Stage):
    """Synaptic kernel: spikes -> synaptic input per cell, and the same currents as
    charge-conserving transmembrane sources placed in space."""

    stage = "source"
    inputs = (Port("spikes", "1", ("cell",)),)
    outputs = (Port("transmembrane_current", "*", ("source",)),)

    @abc.abstractmethod
    def positions_um(self, circuit: Circuit) -> np.ndarray:
        """(S, 3) positions of the source points."""

    @abc.abstractmethod
    def cell_of_source(self, circuit: Circuit) -> np.ndarray:
        """(S,) index of the cell each source point belongs to (for conservation checks)."""

    def segments_um(self, circuit: Circuit):
        """(S, 2, 3) start and end of each source's segment when the source has an extent of
        its own (compartments), else None; line-source fields use it."""
        return None

    @abc.abstractmethod
    def init_params(self, circuit: Circuit, dt: float) -> dict:
        """Array parameters (weights, decay factors) for step ``dt`` ms."""

    @abc.abstractmethod
    def init_state(self, params) -> Any:
        """Initial state for one example."""

    @abc.abstractmethod
    def step(self, params, state, spikes, inputs: StepInputs):
        """Deliver the previous step's ``spikes`` (N,) bool and decay.

        inputs: this step's :class:`StepInputs` (the engine always passes them; a source that
        needs none ignores them). Returns ``(state, synaptic_current (N,), transmembrane
        (S,))``; transmembrane currents are positive outward (a source), and each cell's sum to
        zero. Pure.
        """

    @property
    def needs_voltage(self) -> bool:
        """Whether :meth:`step` reads ``inputs.v``, the postsynaptic membrane potential
        (conductance synapses); the engine reads it from the emitter only then (default False)."""
        return False

    @property
    def records_weights(self) -> bool:
        """Whether this source's synaptic weights change during a run (plasticity), so that the
        ``weights`` recording mode and :meth:`final_weights` apply (default False)."""
        return False

    def recorded_weights(self, params, state):
        """(K,) the recorded synapses' weights in ``state`` (native weight units); sources whose
        :attr:`records_weights` is true implement it."""
        raise NotImplementedError(f"source {self.name!r} has no plastic synapses to record")

    def recorded_synapses(self, circuit: Circuit) -> np.ndarray:
        """(K,) circuit edge index of each column of the ``weights`` recording."""
        raise NotImplementedError(f"source {self.name!r} has no plastic synapses to record")

    def final_weights(self, params, state, n_edges: int):
        """(E,) signed weights of the circuit's edges held in ``state`` (a plastic source's
        weights at the end of a run; use them as a circuit's ``weight`` to continue)."""
        raise NotImplementedError(f"source {self.name!r} has no plastic synapses")

    def tunables(self, circuit: Circuit) -> dict:
        """name -> (value, lower, upper[, "log"]) of this source's tunable scalars."""
        return {}

    def apply_tunables(self, params, values: Mapping, circuit: Circuit):
        """Pure: ``params`` with tunable ``values`` applied."""
        return params


class ProjectingSource(Source):
    """A source with a fast path for the field: the engine asks it for the field's readout
    rows projected onto its own state, so a step returns ``matrix @ transmembrane`` without
    forming the (S,) transmembrane currents (used when ``sources`` are not recorded)."""

    @abc.abstractmethod
    def field_projection(self, params, matrix: np.ndarray):
        """Arrays (pytree, with ``state0``, the initial projected state) that let
        :meth:`step_projected` return ``matrix @ transmembrane``. matrix: (R, S), the rows of
        :meth:`Field.readout_matrix` for the recorded modes among LFP and CSD (both: all
        rows, LFP first)."""

    @abc.abstractmethod
    def step_projected(self, params, projection, state, projected_state, spikes, inputs: StepInputs):
        """Like :meth:`step`, with the field readout: returns ``(state, projected_state,
        synaptic_current (N,), values (R,))`` with values = matrix @ transmembrane."""

    @property
    def projection_only(self) -> bool:
        """True when this source's field exists only as its projection (an approximation that
        forms no per-source currents): recording ``sources`` or ``dipole`` is then refused."""
        return False


class MembraneSource(Source):
    """A source that reads the emitter's own compartment currents (detailed cells): the engine
    steps the emitter first and calls :meth:`step_membrane` with the emitter's
    :meth:`Emitter.membrane_currents` after that step; it delivers no synaptic current."""

    def step(self, params, state, spikes, inputs=None):
        raise UsageError(f"{self.label} reads the emitter's membrane currents: the engine calls "
                         "step_membrane(params, state, spikes, membrane)")

    @abc.abstractmethod
    def step_membrane(self, params, state, spikes, membrane):
        """-> ``(state, transmembrane (S,))`` from this step's ``membrane`` currents (S,) nA."""


class Field(Stage):
    """Linear map from transmembrane currents to potential and CSD at the probe's contacts."""

    stage = "field"
    inputs = (Port("transmembrane_current", "*", ("source",)),)
    outputs = (Port("potential", "*", ("contact",)), Port("csd", "*", ("contact",)))

    @abc.abstractmethod
    def operator(self, source_positions_um: np.ndarray, probe: "ProbeGeometry",
                 circuit: Circuit, *, segments_um=None) -> dict:
        """Arrays of the linear operator for this geometry (built once per model).

        source_positions_um: (S, 3). probe: the contacts (positions, shanks, pitch).
        segments_um: (S, 2, 3) segment ends when the source stage has them
        (:meth:`Source.segments_um`), else None. Fields that treat sources as points may
        ignore it; the model only passes it when it is not None.
        """

    @abc.abstractmethod
    def apply(self, params, currents):
        """(S,) currents -> dict with ``LFP`` (C,) and ``CSD`` (C,). Pure and linear."""

    def readout_matrix(self, params, n_sources: int) -> np.ndarray:
        """(2C, S) matrix of :meth:`apply`: LFP rows, then CSD rows. The default recovers it
        from ``apply`` by reverse-mode differentiation (2C vector-Jacobian products; exact,
        as apply is linear); fields holding the matrix return it directly."""
        def rows(i):
            f = self.apply(params, i)
            return jnp.concatenate([f["LFP"], f["CSD"]])
        return np.asarray(jax.jacrev(rows)(jnp.zeros((n_sources,), jnp.float32)))

    @staticmethod
    def split_readout(values) -> dict:
        """(2C,) values ordered as :meth:`readout_matrix`'s rows -> {"LFP", "CSD"}."""
        c = values.shape[0] // 2
        return {"LFP": values[:c], "CSD": values[c:]}

    def units(self, claims) -> dict:
        """Units of LFP and CSD given the assembled upstream claims."""
        return {"LFP": "relative", "CSD": "relative"}

    def diagnostics(self, lfp: np.ndarray, csd: np.ndarray) -> dict:
        """Checks computed on recorded (T, C) signals (JSON-safe floats)."""
        return {}

    def tunables(self, circuit: Circuit) -> dict:
        """name -> (default, lower, upper[, "log"]) of tunable scalars (``model.tunables()``
        shows them as ``field.<name>``); none by default."""
        return {}

    def readout_gains(self, values: dict) -> dict:
        """{"LFP"/"CSD": gain} that tunables ``values`` apply to the readout (traced scalars;
        the operator itself is built once per model)."""
        return {}


class Probe(Stage):
    """Electrode: contact positions and recording modes."""

    stage = "probe"
    MODES: ClassVar[tuple] = MODES

    @abc.abstractmethod
    def geometry(self, circuit: Circuit) -> ProbeGeometry:
        """Contact positions, shanks and pitch."""

    def contact_positions_um(self, circuit: Circuit) -> np.ndarray:
        """(C, 3) contact positions."""
        return self.geometry(circuit).positions_um

    def check(self, circuit: Circuit, geometry: ProbeGeometry) -> tuple:
        """Refuse (raise :class:`~jaxfne_core.errors.ConfigError`) a placement ``geometry``
        from which this probe cannot record its modes in ``circuit``; return warnings (str,
        recorded in the receipt) for legal but questionable ones. Default: none."""
        return ()

    def recorded_cells(self, circuit: Circuit, mode: str):
        """(K,) sorted indices of the cells whose ``mode`` (``V_m``) is recorded, or None: all."""
        return None

    @property
    def modes(self) -> tuple:
        return tuple(self.options.modes)

    def lfp_reference(self, n_contacts: int):
        """(C,) weights w of the LFP's reference: the probe records LFP - w . LFP at every
        sample (e.g. 1/C each: common average; a one at contact k: against contact k), or
        None: monopolar, against an infinitely distant reference."""
        return None

    def samples_per_record(self, dt_ms: float) -> int:
        """Steps averaged into one recorded sample (``sample_interval_ms`` / dt, or 1)."""
        interval = getattr(self.options, "sample_interval_ms", None)
        if interval is None:
            return 1
        k = interval / dt_ms
        if not k <= 1e9 or abs(k - round(k)) > 1e-6 * k or round(k) < 1:
            raise ConfigError([("$.probe.sample_interval_ms", f"{interval} ms is not a whole number of "
                                f"dt = {dt_ms} ms steps; allowed: a positive multiple of dt")])
        return int(round(k))


class Command(abc.ABC):
    """A ``jaxfne`` subcommand, registered through the ``jaxfne_register_commands`` hook.

    ``name`` and ``help`` (one line) are class attributes; ``add_arguments(parser)`` adds its
    flags to an argparse sub-parser; ``run(args)`` does the work and returns the exit code
    (raise a :class:`~jaxfne_core.errors.JaxfneError` to refuse: the command line maps it to
    its exit code)."""

    stage: ClassVar[str] = "command"
    name: ClassVar[str]
    help: ClassVar[str] = ""

    def add_arguments(self, parser) -> None:
        """Add this command's arguments to its argparse sub-parser."""

    @abc.abstractmethod
    def run(self, args) -> int:
        """Run with parsed ``args``; return the exit code."""


@attrs.frozen
class StageKind:
    """One kind of registrable thing: its hook, its base class, and whether registrations are
    instances (objective metrics) or classes, with or without an attrs ``Options`` class.
    Configuration sections register plain attrs classes under a section name."""

    name: str
    hook: str
    base: type
    instances: bool = False
    options: bool = True
    section: bool = False
    order: int = 50              # where the kind appears in listings and docs


STAGE_KINDS = {k.name: k for k in (
    StageKind("emitter", "jaxfne_register_emitters", Emitter, order=0),
    StageKind("source", "jaxfne_register_sources", Source, order=1),
    StageKind("field", "jaxfne_register_fields", Field, order=2),
    StageKind("probe", "jaxfne_register_probes", Probe, order=3),
    StageKind("command", "jaxfne_register_commands", Command, options=False, order=90),
    StageKind("section", "jaxfne_register_sections", object, options=False, section=True, order=91),
    StageKind("method", "jaxfne_register_model_methods", Callable, instances=True, options=False, order=92),
)}
"""The host's registrable kinds: the four pipeline stages, commands, configuration sections
and model methods (functions ``fn(model, ...)`` a Model offers as ``model.<name>(...)``).
Other kinds (objective metrics, optimizers, paradigms) are declared by the packages that own
them through ``jaxfne_declare_kinds``; a plugin manager's ``kinds`` holds them all."""
PLUGIN_SECTIONS = ("network", "task", "objective")
"""The configuration sections whose classes plugins register (``jaxfne_register_sections``)."""


def population_labels(name: str) -> set:
    """Names a population answers to: itself, its layer (before the first ``_``) and its class
    (after the last): ``L4_E`` -> {``L4_E``, ``L4``, ``E``}. Every stage that selects cells by
    name (probes, drives, metrics) uses this rule."""
    return {name, name.split("_", 1)[0], name.rsplit("_", 1)[-1]}


def check_registrable(kind: StageKind, name: str, value, plugin: str) -> None:
    """Refuse registrations that would fail later: wrong base class or missing Options."""
    stage = kind.name
    if kind.section:
        if name not in PLUGIN_SECTIONS or not (isinstance(value, type) and attrs.has(value)):
            raise PluginError(f"plugin {plugin!r}: section {name!r} must be an attrs class registered as one of "
                              f"{', '.join(PLUGIN_SECTIONS)}, got {value!r}")
        return
    if kind.instances:
        if kind.base is Callable and (not name.isidentifier() or name.startswith("_")):
            raise PluginError(f"plugin {plugin!r}: {stage} name {name!r} must be a Python name not starting "
                              "with '_'")
        if not isinstance(value, kind.base):
            raise PluginError(f"plugin {plugin!r}: {stage} {name!r} must be a {kind.base.__qualname__}, "
                              f"got {value!r}")
        return
    base = kind.base
    if not (isinstance(value, type) and issubclass(value, base)):
        raise PluginError(f"plugin {plugin!r}: {stage} {name!r} must subclass {base.__qualname__}")
    if kind.options and not attrs.has(getattr(value, "Options", None)):
        raise PluginError(f"plugin {plugin!r}: {stage} {name!r} needs an attrs 'Options' class")
    if getattr(value, "name", None) != name:
        raise PluginError(f"plugin {plugin!r}: {stage} class {value.__qualname__} has name "
                        f"{getattr(value, 'name', None)!r}, registered as {name!r}")
