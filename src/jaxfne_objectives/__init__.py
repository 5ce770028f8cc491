"""The objective stage: metrics, objectives (losses, regularizers, gates) and readouts.

Registers the built-in metrics and provides the ``jaxfne_evaluate`` and ``jaxfne_readout``
service hooks through entry point ``objectives`` of the ``jaxfne`` group, like a third party's.
"""
from .metric import Metric
from .metrics import ALIASES, BUILTIN_METRICS, all_metrics
from .objective_config import ObjectiveConfig, TermConfig
from .objective import Objective, ObjectiveReport, as_objective, evaluate, objective
from .readouts import ReadoutResult, ReadoutSpec, compute_readout, readout_spec

__all__ = ["ALIASES", "BUILTIN_METRICS", "Metric", "Objective", "ObjectiveConfig", "ObjectiveReport", "TermConfig", "ReadoutResult", "ReadoutSpec",
           "all_metrics", "as_objective", "compute_readout", "evaluate", "objective", "readout_spec"]
