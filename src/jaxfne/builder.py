"""The fluent configuration builder of the reference API, producing the same value objects
(a :class:`jaxfne_core.config.Configuration`; the core itself only needs ``build()``).

    cfg = (configuration()
           .network(name="V1", kind="cortical_column", n=64)
           .emitter(family="izhikevich", preset="cortical_eig")
           .field(domain="laminar_column", conductivity="proxy", boundary="mean_zero_neumann", gauge="mean_zero")
           .probe(name="laminar_probe", modes=["spikes", "V_m", "CSD", "LFP"]))

Each call validates at once (errors carry JSON paths) and returns a new builder; ``build()``
gives the :class:`Configuration`. Stage calls replace their section; ``network`` merges.
"""
from __future__ import annotations

import copy

import attrs
import cattrs

from jaxfne_core.config import DEFAULT_SECTIONS, Configuration, Simulation, config_from_dict, config_to_dict
from jaxfne_core.errors import UsageError
from jaxfne_objectives.objective_config import ObjectiveConfig


class ConfigBuilder:
    """Immutable fluent builder; see the module docstring."""

    def __init__(self, data=None, registry=None):
        self._data = copy.deepcopy(data) if data is not None else copy.deepcopy(DEFAULT_SECTIONS)
        self._registry = registry
        self._cfg = config_from_dict(self._data, registry)  # validates

    def _with(self, section, value):
        data = copy.deepcopy(self._data)
        data[section] = value
        return ConfigBuilder(data, self._registry)

    @staticmethod
    def _stage(kind, options):
        return {"kind": kind, **{k: (list(v) if isinstance(v, tuple) else v) for k, v in options.items()}}

    def network(self, **options):
        return self._with("network", {**self._data.get("network", {}), **options})

    def emitter(self, kind=None, *, family=None, **options):
        if kind is not None and family is not None and kind != family:
            raise UsageError(f"emitter kind {kind!r} and family {family!r} disagree")
        return self._with("emitter", self._stage(kind or family or "izhikevich", options))

    def source(self, kind="exponential", **options):
        return self._with("source", self._stage(kind, options))

    def field(self, kind="laminar_proxy", **options):
        return self._with("field", self._stage(kind, options))

    def no_field(self):
        return self._with("field", None)

    def probe(self, kind="laminar", **options):
        return self._with("probe", self._stage(kind, options))

    def runtime(self, runtime=None, *, recurrent_backend=None, synaptic_kernel=None):
        """Reference spelling: ``recurrent_backend`` -> network.connectivity ('dense' or
        'edge_list'); ``synaptic_kernel`` -> source kind. ``runtime``: an object with those two
        attributes (``jaxfne.runtime(...)``)."""
        if runtime is not None:
            recurrent_backend = recurrent_backend or runtime.recurrent_backend
            synaptic_kernel = synaptic_kernel or runtime.synaptic_kernel
        b = self
        if recurrent_backend is not None:
            b = b.network(connectivity=recurrent_backend)
        if synaptic_kernel is not None:
            b = b.source(synaptic_kernel)
        return b

    def simulation(self, duration_ms=100.0, dt_ms=0.1, seed=0, warmup_ms=0.0):
        return self._with("simulation", attrs.asdict(Simulation(duration_ms, dt_ms, seed, warmup_ms)))

    def objective(self, objective):
        """The objective section: a ``jaxfne.objective()...`` or an ObjectiveConfig."""
        objective = getattr(objective, "config", objective)
        if not isinstance(objective, ObjectiveConfig):
            raise UsageError(f"objective() needs jaxfne.objective()..., got {objective!r}")
        return self._with("objective", config_to_dict_objective(objective))

    def task(self, paradigm="standard_visual_omission", **options):
        """Trials of a paradigm (see TaskConfig); ``drives`` is a list of dicts (DriveConfig)."""
        return self._with("task", {"paradigm": paradigm, **options})

    def no_task(self):
        return self._with("task", None)

    def no_objective(self):
        return self._with("objective", None)

    def build(self) -> Configuration:
        return self._cfg

    def to_dict(self) -> dict:
        return config_to_dict(self._cfg, self._registry)

    def __repr__(self):
        return f"ConfigBuilder({self.to_dict()!r})"


def config_to_dict_objective(objective: ObjectiveConfig) -> dict:
    return cattrs.Converter().unstructure(objective)


def configuration(registry=None) -> ConfigBuilder:
    """Start a configuration with default sections (izhikevich, exponential, laminar_proxy, laminar)."""
    return ConfigBuilder(registry=registry)


def from_config(cfg: Configuration, registry=None) -> ConfigBuilder:
    return ConfigBuilder(config_to_dict(cfg, registry), registry)


