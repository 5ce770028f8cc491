"""jaxfne-lif: a template third-party plugin (leaky integrate-and-fire emitter)."""
from .emitter import LIFEmitter, LIFOptions

__all__ = ["LIFEmitter", "LIFOptions"]
