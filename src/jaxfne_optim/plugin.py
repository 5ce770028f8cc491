"""Entry point ``optim`` of the ``jaxfne`` group: registers the optimizers and the tuning hook."""
from jaxfne_core import hookimpl

from . import hookspecs
from .agsdr import AGSDR
from .cmaes import CMAES
from .gsdr import GSDR
from .gsdr_blackbox import GSDRBlackbox
from .optax_adapter import OptaxOptimizer
from .random_search import RandomSearch
from .tuning import tune_model


@hookimpl
def jaxfne_declare_kinds():
    return [(hookspecs.KIND, hookspecs)]


@hookimpl
def jaxfne_register_optimizers(registry):
    for optimizer in (RandomSearch, GSDR, GSDRBlackbox, AGSDR, CMAES, OptaxOptimizer):
        registry.add(optimizer)


@hookimpl(trylast=True)
def jaxfne_tune(model, objective, optimizer, steps, settings):
    return tune_model(model, objective, optimizer, steps, **settings)
