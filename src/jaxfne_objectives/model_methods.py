"""The scoring methods this package adds to every Model (``jaxfne_register_model_methods``):
``model.evaluate`` (alias ``evaluate_report``), ``model.check_objective``,
``model.objective_config`` and ``model.compute_readout``."""
from __future__ import annotations

from jaxfne_core.assemble import compatibility_problems
from jaxfne_core.config import section_class
from jaxfne_core.errors import ConfigError, IncompatibleStagesError, UsageError

from .objective import evaluate as score
from .readouts import compute_readout as readout


def compute_readout(model, signals, specs):
    """Compute readout ``specs`` on ``signals``.

    specs: readout specifications (``jaxfne.readout_spec``) or their dicts. Returns a
    :class:`~jaxfne_objectives.readouts.Readout`."""
    return readout(signals, specs, model.registry)


def objective_config(model, objective=None):
    """The objective section object of ``objective`` (default: the configuration's).

    objective: a ``jaxfne.objective()...``, a section object (``cfg.objective``, of the class
    registered for ``objective``; built-in :class:`~jaxfne_objectives.ObjectiveConfig`), or None."""
    objective = objective if objective is not None else model.config.objective
    if objective is None:
        raise ConfigError([("$.objective", "no objective given and the configuration has none")])
    cfg = getattr(objective, "config", objective)
    if not isinstance(cfg, section_class("objective", model.registry)):
        raise UsageError(f"an objective is a jaxfne.objective()... or a config's objective section, "
                         f"got {type(objective).__name__}")
    return cfg


def check_objective(model, objective):
    """Refuse an objective whose terms this pipeline cannot deliver (claims, probe modes)."""
    _, problems = compatibility_problems(model.pipeline.stages, [objective_config(model, objective)],
                                         model.registry)
    if problems:
        raise IncompatibleStagesError(problems)


def evaluate(model, signals, objective=None, *, readout_specs=None):
    """Score ``signals`` with ``objective``, its claims checked first.

    objective: a ``jaxfne.objective()...`` or a config's ObjectiveConfig (default: the
    configuration's objective section); readout_specs: readouts to compute alongside. Returns
    an :class:`~jaxfne_objectives.objective.ObjectiveReport`."""
    objective = objective if objective is not None else objective_config(model)
    check_objective(model, objective)
    readouts = compute_readout(model, signals, readout_specs) if readout_specs else None
    return score(objective, signals, model.registry, model.truth, readouts)


MODEL_METHODS = {"evaluate": evaluate, "evaluate_report": evaluate, "check_objective": check_objective,
                 "objective_config": objective_config, "compute_readout": compute_readout}
