"""Entry point ``objectives`` of the ``jaxfne`` group: the built-in metrics, the objective section and the scoring methods."""
from jaxfne_core import hookimpl

from . import hookspecs, model_methods
from .metrics import all_metrics
from .objective_config import ObjectiveConfig


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


@hookimpl
def jaxfne_register_model_methods(registry):
    for name, function in model_methods.MODEL_METHODS.items():
        registry.add(function, name=name)
