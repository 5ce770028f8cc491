"""Built-in objective metrics and optimizers for jaxfne."""
from .metrics import ALIASES, BUILTIN_METRICS, all_metrics
from .random_search import RandomSearch, RandomSearchOptions

__all__ = ["ALIASES", "BUILTIN_METRICS", "all_metrics", "RandomSearch", "RandomSearchOptions"]
