"""Built-in objective metrics and optimizers for jaxfne."""
from .metrics import ALIASES, BUILTIN_METRICS, all_metrics
from .agsdr import AGSDR, AGSDROptions
from .gsdr import GSDR, GSDROptions
from .optax_adapter import OptaxOptimizer, OptaxOptions
from .random_search import RandomSearch, RandomSearchOptions

__all__ = ["AGSDR", "AGSDROptions", "GSDR", "GSDROptions", "OptaxOptimizer", "OptaxOptions", "ALIASES", "BUILTIN_METRICS", "all_metrics", "RandomSearch", "RandomSearchOptions"]
