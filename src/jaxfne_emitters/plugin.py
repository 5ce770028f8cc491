"""Entry point ``izhikevich`` of the ``jaxfne`` group: registers emitters and sources."""
from jaxfne_core import hookimpl

from .izhikevich import IzhikevichEmitter
from .synapses import ExponentialSource, ReceptorExponentialSource


@hookimpl
def jaxfne_register_emitters(registry):
    registry.add(IzhikevichEmitter)


@hookimpl
def jaxfne_register_sources(registry):
    registry.add(ExponentialSource)
    registry.add(ReceptorExponentialSource)
