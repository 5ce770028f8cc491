"""Cell morphologies and passive cables: where synaptic currents flow out of the membrane.
Registers the ``cable`` source (entry point ``cells``)."""
from .cable import Cable, compartmentalise, kernels
from .morphology import MORPHOLOGIES, Morphology, from_swc
from .source import CableOptions, CableSource

__all__ = ["Cable", "CableOptions", "CableSource", "MORPHOLOGIES", "Morphology", "compartmentalise", "from_swc",
           "kernels"]
