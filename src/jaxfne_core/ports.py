"""Typed ports: what flows along each edge of the pipeline (quantity, units, shape)."""
from __future__ import annotations

import attrs


@attrs.frozen
class Port:
    """A quantity a stage emits or consumes.

    quantity: name such as ``"transmembrane_current"``.
    units: ``"mV"``, ``"nA"``, ``"native"``, ``"uV"``, ``"relative"``, ``"1"``...; ``"*"`` accepts any.
    shape: symbolic axis names, e.g. ``("cell",)`` per time step.
    """

    quantity: str
    units: str
    shape: tuple = ()

    def accepts(self, other: "Port") -> bool:
        return (self.quantity == other.quantity and self.shape == other.shape
                and (self.units == "*" or self.units == other.units))

    def __str__(self):
        return f"{self.quantity}[{self.units}]{tuple(self.shape)}"


def check_ports(consumer_label, inputs, provider_label, outputs):
    """Return messages for each input port not provided by ``outputs``."""
    out = []
    for need in inputs:
        match = [p for p in outputs if p.quantity == need.quantity]
        if not match:
            have = ", ".join(str(p) for p in outputs) or "nothing"
            out.append(f"{consumer_label} needs input {need} but {provider_label} emits {have}")
        elif not any(need.accepts(p) for p in match):
            out.append(f"{consumer_label} needs input {need} but {provider_label} emits {match[0]}")
    return out
