"""Source ``compartments``: the transmembrane currents of detailed cells' compartments.

It reads the emitter's own membrane currents (``membrane_current[nA](compartment,)``, e.g. from
the Jaxley bridge) instead of building synapses, places one source on every compartment, and
gives line-source fields each compartment's segment. The currents are physical (nA) and each
cell's sum to zero, so fields downstream may report uV.
"""
from __future__ import annotations

import attrs
import jax.numpy as jnp

from jaxfne_core.claims import ChargeConservation, SourceCalibration
from jaxfne_core.errors import ConfigError
from jaxfne_core.ports import Port
from jaxfne_core.stages import Circuit, MembraneSource


@attrs.frozen
class CompartmentOptions:
    """(No options: geometry and currents come from the emitter.)"""


class CompartmentSource(MembraneSource):
    """One line source per compartment, carrying the emitter's membrane current (nA)."""

    name = "compartments"
    Options = CompartmentOptions
    inputs = (Port("membrane_current", "nA", ("compartment",)),)

    def provides(self, upstream):
        return {"source_calibration": SourceCalibration.NANOAMPERE,
                "charge_conservation": ChargeConservation.CONSERVED}

    @staticmethod
    def _compartments(circuit: Circuit):
        if circuit.compartments is None:
            raise ConfigError([("$.source.kind", "'compartments' needs an emitter of detailed cells "
                                "(the circuit has no compartments); allowed with emitter 'jaxley'")])
        return circuit.compartments

    def positions_um(self, circuit):
        return self._compartments(circuit).centres_um

    def segments_um(self, circuit):
        return self._compartments(circuit).segments_um

    def cell_of_source(self, circuit):
        return self._compartments(circuit).cell

    def init_params(self, circuit, dt):
        return {}

    def init_state(self, params):
        return ()

    def step_membrane(self, params, state, spikes, membrane):
        return state, jnp.asarray(membrane, jnp.float32)
