"""Entry point ``optim`` of the ``jaxfne`` group: registers the optimizers and ``model.tune``."""
from jaxfne_core import hookimpl

from . import hookspecs
from .agsdr import AGSDR
from .cmaes import CMAES
from .gsdr import GSDR
from .gsdr_blackbox import GSDRBlackbox
from .optax_adapter import OptaxOptimizer
from .random_search import RandomSearch
from .tuning import tune


@hookimpl
def jaxfne_declare_kinds():
    return [(hookspecs.KIND, hookspecs)]


@hookimpl
def jaxfne_register_optimizers(registry):
    for optimizer in (RandomSearch, GSDR, GSDRBlackbox, AGSDR, CMAES, OptaxOptimizer):
        registry.add(optimizer)


@hookimpl
def jaxfne_register_model_methods(registry):
    registry.add(tune, name="tune")
