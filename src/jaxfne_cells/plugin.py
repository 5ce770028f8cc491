"""Entry point ``cells`` of the ``jaxfne`` group: registers the ``cable`` source."""
from jaxfne_core import hookimpl

from .source import CableSource


@hookimpl
def jaxfne_register_sources(registry):
    registry.add(CableSource)
