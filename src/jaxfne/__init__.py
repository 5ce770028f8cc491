"""jaxfne: a JAX-native source-to-field neurophysiology engine.

    import jaxfne as jtfne
    model = jtfne.construct(jtfne.configuration().network(n=64))
    signals = model.simulate(jtfne.simulation(duration_ms=100.0, dt_ms=0.1, seed=0))

A thin facade over :mod:`jaxfne_core` (the plugin host), the objectives of
:mod:`jaxfne_objectives`, the tuning calls of :mod:`jaxfne_optim`, the task paradigms of
:mod:`jaxfne_tasks`, the optimizers' ``minimize`` and the reference page's calls (stimulus
schedules, trial batches, laminar geometry, configuration helpers, the manifest; see
``docs/reference_api.md``); stages come from plugins (``jaxfne plugins``).
"""
import importlib

from jaxfne_core import *  # noqa: F401,F403
from jaxfne_core import __all__ as _core_all
from jaxfne_core import __version__  # noqa: F401
from jaxfne_objectives import (Metric, Objective, ObjectiveConfig, ObjectiveReport, ReadoutResult, ReadoutSpec, TermConfig,
                               compute_readout, objective, readout_spec)
from jaxfne_optim.hookspecs import Optimizer
from jaxfne_optim.problem import OptimResult, TuneProblem
from jaxfne_optim import (Evaluator, LocalEvaluator, OptimizerSpec, TuneReport, agsdr, gsdr, optax_adam, optax_sgd,
                          random_search)
from jaxfne_formats.circuit_io import load_circuit, save_circuit
from jaxfne_tasks.paradigm import global_local_oddball, standard_visual_omission
from jaxfne_tasks.hookspecs import Paradigm
from jaxfne_tasks.task_config import DriveConfig, TaskConfig

from .builder import ConfigBuilder, configuration, from_config
from .config_standard import (ConfigValidationResult, JaxFNEConfig, config_to_configuration, config_to_geometry,
                              config_to_simulation, config_to_trial_batch, config_truth_boundary, validate_config)
from .geometry import LaminarPopulation, LaminarSourceGeometry, laminar_source_geometry
from .minimize import Minimum, minimize
from .reference_model import ReferenceModel, construct
from .runtime import RuntimeConfig, runtime
from .stimulus import StimulusSchedule, stimulus_schedule
from .trial_batch import TrialBatch, TrialBatchResult, TrialResult, TrialSpec, run_trials, trial_batch

_REFERENCE = ["ConfigValidationResult", "JaxFNEConfig", "config_to_configuration", "config_to_geometry",
              "config_to_simulation", "config_to_trial_batch", "config_truth_boundary", "validate_config",
              "LaminarPopulation", "LaminarSourceGeometry", "laminar_source_geometry", "ReferenceModel",
              "RuntimeConfig", "runtime", "StimulusSchedule", "stimulus_schedule", "TrialBatch", "TrialBatchResult",
              "TrialResult", "TrialSpec", "run_receipt", "run_trials", "trial_batch"]
_STAGES = ["LayerConfig", "NetworkConfig", "PathwayConfig", "DriveConfig", "TaskConfig", "Objective",
           "ObjectiveConfig", "TermConfig", "ObjectiveReport", "ReadoutResult", "ReadoutSpec", "compute_readout",
           "objective", "readout_spec", "Evaluator", "LocalEvaluator", "OptimResult", "TuneProblem", "Metric",
           "Optimizer", "Paradigm", "OptimizerSpec", "TuneReport", "agsdr", "gsdr", "optax_adam", "optax_sgd",
           "random_search"]
__all__ = list(_core_all) + _STAGES + ["ConfigBuilder", "configuration", "from_config", "Minimum",
                                       "global_local_oddball", "load_circuit", "minimize", "save_circuit",
                                       "standard_visual_omission"] + _REFERENCE


def run_receipt(model, signals):
    """``model.run_receipt(signals)`` (the reference's module-level spelling)."""
    return model.run_receipt(signals)


_LAZY = {"LayerConfig": "jaxfne_emitters.network_config", "NetworkConfig": "jaxfne_emitters.network_config",
         "PathwayConfig": "jaxfne_emitters.network_config"}
"""Section classes re-exported on first use, so ``import jaxfne`` loads no plugin implementation."""


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    if name == "_KNOWN_READOUT_METRICS":      # the reference's constant: every registered metric, now
        return frozenset(default_registry().names("objective"))
    raise AttributeError(f"module 'jaxfne' has no attribute {name!r}")
