"""Entry point ``jaxley`` of the ``jaxfne`` group: the Jaxley bridge emitter and the
``compartments`` source that carries detailed cells' membrane currents."""
from jaxfne_core import hookimpl

from .compartments import CompartmentSource
from .jaxley import JaxleyEmitter


@hookimpl
def jaxfne_register_emitters(registry):
    registry.add(JaxleyEmitter)


@hookimpl
def jaxfne_register_sources(registry):
    registry.add(CompartmentSource)
