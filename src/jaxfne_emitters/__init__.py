"""Built-in emitters (Izhikevich networks) and synaptic current sources for jaxfne."""
from .izhikevich import IzhikevichEmitter, IzhikevichOptions
from .network_config import LayerConfig, NetworkConfig, PathwayConfig
from .presets import CELL_TYPES, PRESETS
from .synapses import RECEPTORS, ExponentialSource, ReceptorExponentialSource

__all__ = ["IzhikevichEmitter", "IzhikevichOptions", "LayerConfig", "NetworkConfig", "PathwayConfig", "CELL_TYPES",
           "PRESETS", "RECEPTORS", "ExponentialSource", "ReceptorExponentialSource"]
