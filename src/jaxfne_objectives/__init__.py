"""The objective stage: metrics, objectives (losses, regularizers, gates) and readouts.

Registers the built-in metrics, the ``objective`` section and the model methods ``evaluate``,
``check_objective``, ``objective_config`` and ``compute_readout`` through entry point
``objectives`` of the ``jaxfne`` group, like a third party's.
"""
from .metric import Metric
from .metrics import ALIASES, BUILTIN_METRICS, all_metrics
from .objective_config import ObjectiveConfig, TermConfig
from .objective import Objective, ObjectiveReport, as_objective, evaluate, objective
from .readouts import ReadoutResult, ReadoutSpec, compute_readout, readout_spec

__all__ = ["ALIASES", "BUILTIN_METRICS", "Metric", "Objective", "ObjectiveConfig", "ObjectiveReport", "TermConfig", "ReadoutResult", "ReadoutSpec",
           "all_metrics", "as_objective", "compute_readout", "evaluate", "objective", "readout_spec"]
