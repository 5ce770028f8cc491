"""Entry point ``izhikevich`` of the ``jaxfne`` group: registers emitters and sources."""
from jaxfne_core import hookimpl

from .adex import AdExEmitter
from .hh import HHEmitter
from .izhikevich import IzhikevichEmitter
from .lif import LIFEmitter
from .mixed import MixedEmitter
from .network_config import NetworkConfig
from .rate import RateEmitter
from .synapses import ExponentialSource, ReceptorExponentialSource


@hookimpl
def jaxfne_register_sections(registry):
    registry.add(NetworkConfig, name="network")


@hookimpl
def jaxfne_register_emitters(registry):
    registry.add(IzhikevichEmitter)
    registry.add(LIFEmitter)
    registry.add(AdExEmitter)
    registry.add(HHEmitter)
    registry.add(MixedEmitter)
    registry.add(RateEmitter)


@hookimpl
def jaxfne_register_sources(registry):
    registry.add(ExponentialSource)
    registry.add(ReceptorExponentialSource)
