"""The ``objective`` kind, declared by this package (``jaxfne_declare_kinds``): its hook spec.
A plugin registers metrics with ``@jaxfne_core.hookimpl def jaxfne_register_objectives``."""
from jaxfne_core.hookspecs import hookspec
from jaxfne_core.registry import StageRegistrar
from jaxfne_core.stages import StageKind

from .metric import Metric


@hookspec
def jaxfne_register_objectives(registry: StageRegistrar) -> None:
    """Register objective metrics: instances of :class:`jaxfne_objectives.metric.Metric`."""


KIND = StageKind("objective", "jaxfne_register_objectives", Metric, instances=True, options=False, order=4)
