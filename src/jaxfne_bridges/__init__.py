"""Bridges to other simulators (Jaxley)."""
from .jaxley import JaxleyEmitter, require_jaxley

__all__ = ["JaxleyEmitter", "require_jaxley"]
