"""Bridges to other simulators (Jaxley)."""
from .compartments import CompartmentSource
from .jaxley import JaxleyEmitter, require_jaxley

__all__ = ["CompartmentSource", "JaxleyEmitter", "require_jaxley"]
