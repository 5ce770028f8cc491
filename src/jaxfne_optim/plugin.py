"""Entry point ``optim`` of the ``jaxfne`` group: registers metrics and optimizers."""
from jaxfne_core import hookimpl

from .metrics import all_metrics
from .agsdr import AGSDR
from .cmaes import CMAES
from .gsdr import GSDR
from .gsdr_blackbox import GSDRBlackbox
from .optax_adapter import OptaxOptimizer
from .random_search import RandomSearch


@hookimpl
def jaxfne_register_objectives(registry):
    for metric in all_metrics():
        registry.add(metric)


@hookimpl
def jaxfne_register_optimizers(registry):
    for optimizer in (RandomSearch, GSDR, GSDRBlackbox, AGSDR, CMAES, OptaxOptimizer):
        registry.add(optimizer)
