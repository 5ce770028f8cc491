"""Built-in fields and probes for jaxfne."""
from .laminar_probe import LaminarProbe, LaminarProbeOptions, MultiShankProbe
from .csd import icsd, icsd_forward_matrix, second_difference, standard_csd
from .laminar_proxy import LaminarProxyField, LaminarProxyOptions
from .volume_conductor import DiscField, LaminarFVField, LineSourceField, PointSourceField

__all__ = ["DiscField", "LaminarFVField", "LineSourceField", "PointSourceField", "MultiShankProbe", "LaminarProbe", "LaminarProbeOptions", "LaminarProxyField", "LaminarProxyOptions",
           "second_difference", "icsd", "icsd_forward_matrix", "standard_csd"]
