"""Entry point ``objectives`` of the ``jaxfne`` group: the built-in metrics and the scoring hooks."""
from jaxfne_core import hookimpl

from . import hookspecs
from .metrics import all_metrics
from .objective_config import ObjectiveConfig
from .objective import evaluate
from .readouts import compute_readout


@hookimpl
def jaxfne_declare_kinds():
    return [(hookspecs.KIND, hookspecs)]


@hookimpl
def jaxfne_register_objectives(registry):
    for metric in all_metrics():
        registry.add(metric)


@hookimpl
def jaxfne_register_sections(registry):
    registry.add(ObjectiveConfig, name="objective")


@hookimpl(trylast=True)
def jaxfne_evaluate(model, signals, objective, readouts):
    return evaluate(objective, signals, model.registry, model.truth, readouts)


@hookimpl(trylast=True)
def jaxfne_readout(signals, specs, registry):
    return compute_readout(signals, specs, registry)
