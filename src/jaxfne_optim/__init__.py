"""Built-in objective metrics and optimizers for jaxfne."""
from .metrics import ALIASES, BUILTIN_METRICS, all_metrics
from .agsdr import AGSDR, AGSDROptions
from .cmaes import CMAES, CMAESOptions
from .common import NonFiniteGradientError
from .gsdr import GSDR, GSDROptions
from .gsdr_blackbox import GSDRBlackbox, GSDRBlackboxOptions
from .optax_adapter import OptaxOptimizer, OptaxOptions
from .random_search import RandomSearch, RandomSearchOptions

__all__ = ["AGSDR", "AGSDROptions", "CMAES", "CMAESOptions", "GSDR", "GSDROptions", "GSDRBlackbox",
           "GSDRBlackboxOptions", "NonFiniteGradientError", "OptaxOptimizer", "OptaxOptions", "ALIASES",
           "BUILTIN_METRICS", "all_metrics", "RandomSearch", "RandomSearchOptions"]
