"""Entry point ``lif`` of the ``jaxfne`` group (see pyproject.toml)."""
from jaxfne_core import hookimpl

from .emitter import LIFEmitter


@hookimpl
def jaxfne_register_emitters(registry):
    registry.add(LIFEmitter)
