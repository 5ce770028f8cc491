"""The reference's ``runtime(...)``: how spikes travel and which synaptic kernel integrates them.

``recurrent_backend``: ``dense`` or ``edge_list`` (network.connectivity; also ``event`` and
``auto``). ``synaptic_kernel``: ``exponential`` (one time constant for all synapses) or
``receptor_exponential`` (one per receptor: AMPA/GABA_A/NMDA/GABA_B, the source
``receptor_exponential``). Apply it with ``construct(cfg, runtime=rt)`` or
``configuration().runtime(rt)``. The reference's other arguments (backend, dtype, jit, vmap,
precision) are refused: jaxfne always jits and vmaps, runs float32 (float64 with JAX's x64
flag) on JAX's default device, and an option that changed nothing would be a lie.
"""
from __future__ import annotations

from typing import Optional

import attrs

from jaxfne_core.errors import ConfigError
from jaxfne_core.validators import one_of

KERNELS = ("exponential", "receptor_exponential")      # the source kinds of the same names


@attrs.frozen
class RuntimeConfig:
    recurrent_backend: Optional[str] = attrs.field(
        default=None, validator=attrs.validators.optional(one_of("dense", "edge_list", "event", "auto")))
    synaptic_kernel: Optional[str] = attrs.field(
        default=None, validator=attrs.validators.optional(one_of(*KERNELS)))

    def apply(self, builder):
        """The fluent builder with this runtime's choices applied."""
        return builder.runtime(self)


def runtime(recurrent_backend: Optional[str] = None, synaptic_kernel: Optional[str] = None, **refused) -> RuntimeConfig:
    if refused:
        raise ConfigError([(f"runtime.{k}", f"{v!r}: not an option of jaxfne's runtime (it always jits and vmaps, "
                            "in float32 on JAX's default device); allowed: recurrent_backend, synaptic_kernel")
                           for k, v in refused.items()])
    return RuntimeConfig(recurrent_backend, synaptic_kernel)
