"""The reference's configuration helpers (v0.0.15) over jaxfne's ``.jcfg.json`` standard.

jaxfne's configuration document is :class:`jaxfne_core.Configuration` (``JaxFNEConfig`` is
that class; ``load_config`` reads a ``.jcfg.json`` file into it, refusing bad input with its
JSON path). These helpers take a Configuration, a dict or a path:

- ``validate_config`` -> :class:`ConfigValidationResult` (valid, issues as ``path: message``,
  warnings, the truth boundary), never raising for a bad configuration: it checks what
  ``jaxfne validate`` checks (stages, circuit, probe geometry, recording, task);
- ``config_to_simulation`` / ``config_to_configuration`` (the fluent builder) /
  ``config_to_geometry`` (the network's layers as a laminar geometry, or None) /
  ``config_to_trial_batch`` (the task section's conditions x trials);
- ``config_truth_boundary``: the claim labels the assembled pipeline really earns (computed
  from its stages, not copied from the file).
"""
from __future__ import annotations

from typing import Optional

import attrs

from jaxfne_core.assemble import assemble
from .builder import from_config
from jaxfne_core.claims import truth_labels
from jaxfne_core.config import Configuration, config_from_dict, load_config
from jaxfne_core.errors import ConfigError, JaxfneError, UsageError
from jaxfne_core.model import Model
from jaxfne_core.plugins import default_registry

from .geometry import LaminarPopulation, LaminarSourceGeometry
from .trial_batch import TrialBatch, trial_batch

JaxFNEConfig = Configuration


@attrs.frozen
class ConfigValidationResult:
    valid: bool
    issues: tuple
    warnings: tuple
    truth_boundary: dict

    def to_dict(self) -> dict:
        return {"valid": self.valid, "issues": list(self.issues), "warnings": list(self.warnings),
                "truth_boundary": dict(self.truth_boundary)}


def _config(cfg, registry=None) -> Configuration:
    if isinstance(cfg, Configuration):
        return cfg
    if isinstance(cfg, dict):
        return config_from_dict(cfg, registry)
    if isinstance(cfg, (str, bytes)) or hasattr(cfg, "__fspath__"):
        return load_config(cfg, registry)
    if hasattr(cfg, "build"):
        return cfg.build()
    raise UsageError(f"a configuration (Configuration, dict or .jcfg.json path) is needed, got {type(cfg).__name__}")


def validate_config(cfg, registry=None) -> ConfigValidationResult:
    """Check ``cfg`` as ``jaxfne validate`` does, without raising: structure and values, stage
    compatibility, the built circuit and probe geometry (warnings: odd placements), the
    recording interval and memory, and the task."""
    registry = registry if registry is not None else default_registry()
    try:
        c = _config(cfg, registry)
        model = Model(assemble(c, registry))
        if c.task is not None:
            model.check_task(c.task, c.simulation)
        else:
            model.check_simulation(c.simulation)
    except ConfigError as e:
        return ConfigValidationResult(False, tuple(f"{p}: {m}" for p, m in e.problems), (), {})
    except JaxfneError as e:
        return ConfigValidationResult(False, (str(e),), (), {})
    return ConfigValidationResult(True, (), tuple(model.warnings), truth_labels(model.pipeline.claims))


def config_truth_boundary(cfg, registry=None) -> dict:
    """The claim labels of the pipeline ``cfg`` assembles to."""
    registry = registry if registry is not None else default_registry()
    return truth_labels(assemble(_config(cfg, registry), registry).claims)


def config_to_simulation(cfg, registry=None):
    return _config(cfg, registry).simulation


def config_to_configuration(cfg, registry=None):
    """The fluent builder holding ``cfg`` (to change it call by call)."""
    return from_config(_config(cfg, registry), registry)


def config_to_geometry(cfg, registry=None) -> Optional[LaminarSourceGeometry]:
    """The network's layers as a geometry (population ``<layer>_<pop>``, depths as fractions
    of thickness_um), or None without layers."""
    net = _config(cfg, registry).network
    if not net.layers:
        return None
    pops = [LaminarPopulation(f"{layer.name}_{name}", name, layer.name, layer.top_um / net.thickness_um,
                              layer.bottom_um / net.thickness_um, int(n))
            for layer in net.layers for name, n in layer.populations.items() if n > 0]
    return LaminarSourceGeometry(tuple(pops), sum(p.n_units for p in pops))


def config_to_trial_batch(cfg, registry=None, *, seed_policy: str = "unique_per_trial") -> TrialBatch:
    """The task section's conditions x trials_per_condition as a trial batch (the paradigm's
    prestimulus time as the alignment onset). Seeds follow the reference's seed policies
    (task.seed + replicate or + index), and the drive is the batch's schedule into every cell,
    so these are not the trials of ``model.run_trials()`` on the task itself (its own drives,
    keys fold_in(seed, condition, trial))."""
    registry = registry if registry is not None else default_registry()
    c = _config(cfg, registry)
    if c.task is None:
        raise ConfigError([("$.task", "the configuration has no task section")])
    definition = registry.get("paradigm", c.task.paradigm).value().definition()
    names = c.task.conditions or tuple(definition.condition_names())
    return trial_batch([definition.condition(n) for n in names], c.task.trials_per_condition,
                       c.task.seed, seed_policy, prestim_ms=definition.prestim_ms)
