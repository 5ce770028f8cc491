"""Entry point ``fields`` of the ``jaxfne`` group: registers fields and probes."""
from jaxfne_core import hookimpl

from .laminar_probe import LaminarProbe, MultiShankProbe
from .laminar_proxy import LaminarProxyField


@hookimpl
def jaxfne_register_fields(registry):
    registry.add(LaminarProxyField)


@hookimpl
def jaxfne_register_probes(registry):
    registry.add(LaminarProbe)
    registry.add(MultiShankProbe)
