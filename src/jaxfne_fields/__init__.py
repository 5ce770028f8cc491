"""Built-in fields and probes for jaxfne."""
from .laminar_probe import LaminarProbe, LaminarProbeOptions
from .laminar_proxy import LaminarProxyField, LaminarProxyOptions, second_difference

__all__ = ["LaminarProbe", "LaminarProbeOptions", "LaminarProxyField", "LaminarProxyOptions",
           "second_difference"]
