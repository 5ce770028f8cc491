"""Built-in optimizers for jaxfne and the tuning loop that feeds them (the model method ``tune``)."""
from .agsdr import AGSDR, AGSDROptions
from .cmaes import CMAES, CMAESOptions
from .common import NonFiniteGradientError
from .evaluator import Evaluator, LocalEvaluator
from .gsdr import GSDR, GSDROptions
from .gsdr_blackbox import GSDRBlackbox, GSDRBlackboxOptions
from .optax_adapter import OptaxOptimizer, OptaxOptions
from .random_search import RandomSearch, RandomSearchOptions
from .tuning import OptimizerSpec, TuneReport, agsdr, gsdr, optax_adam, optax_sgd, random_search

__all__ = ["AGSDR", "AGSDROptions", "CMAES", "CMAESOptions", "Evaluator", "GSDR", "GSDROptions", "GSDRBlackbox",
           "GSDRBlackboxOptions", "LocalEvaluator", "NonFiniteGradientError", "OptaxOptimizer", "OptaxOptions",
           "OptimizerSpec", "RandomSearch", "RandomSearchOptions", "TuneReport", "agsdr", "gsdr", "optax_adam",
           "optax_sgd", "random_search"]
