"""Entry point ``fields`` of the ``jaxfne`` group: registers fields and probes."""
from jaxfne_core import hookimpl

from .laminar_probe import LaminarProbe, MultiShankProbe
from .laminar_proxy import LaminarProxyField
from .volume_conductor import DiscField, LaminarFVField, LineSourceField, PointSourceField


@hookimpl
def jaxfne_register_fields(registry):
    registry.add(LaminarProxyField)
    for field in (PointSourceField, LineSourceField, DiscField, LaminarFVField):
        registry.add(field)


@hookimpl
def jaxfne_register_probes(registry):
    registry.add(LaminarProbe)
    registry.add(MultiShankProbe)
