"""Entry point ``jaxley`` of the ``jaxfne`` group: registers the Jaxley bridge emitter."""
from jaxfne_core import hookimpl

from .jaxley import JaxleyEmitter


@hookimpl
def jaxfne_register_emitters(registry):
    registry.add(JaxleyEmitter)
