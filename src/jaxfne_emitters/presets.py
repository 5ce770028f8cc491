"""Izhikevich (2003) cell types and population presets.

Parameters a, b (1/ms, dimensionless), c (mV), d (native current) and the tonic drive
(native current) of each type. ``cortical_eig`` is the reference package's preset (E, PV, SST,
VIP); the classic firing types are Izhikevich's RS, IB, CH, FS, LTS, TC, RZ.
"""
from __future__ import annotations

import attrs


@attrs.frozen
class CellType:
    a: float
    b: float
    c: float
    d: float
    drive: float = 0.0       # tonic native current
    excitatory: bool = True  # sign of outgoing weights


CELL_TYPES = {
    # reference "cortical_eig" types
    "E": CellType(0.02, 0.20, -65.0, 8.0, 5.0, True),
    "PV": CellType(0.10, 0.20, -65.0, 2.0, 3.0, False),
    "SST": CellType(0.02, 0.25, -65.0, 2.0, 3.5, False),
    "VIP": CellType(0.02, -0.10, -55.0, 6.0, 3.0, False),
    # Izhikevich (2003) classic firing types (drive 0 unless set by options)
    "RS": CellType(0.02, 0.20, -65.0, 8.0, 0.0, True),
    "IB": CellType(0.02, 0.20, -55.0, 4.0, 0.0, True),
    "CH": CellType(0.02, 0.20, -50.0, 2.0, 0.0, True),
    "FS": CellType(0.10, 0.20, -65.0, 2.0, 0.0, False),
    "LTS": CellType(0.02, 0.25, -65.0, 2.0, 0.0, False),
    "TC": CellType(0.02, 0.25, -65.0, 0.05, 0.0, True),
    "RZ": CellType(0.10, 0.26, -65.0, 2.0, 0.0, False),
}

#: preset -> {population: fraction}; population names are cell types.
PRESETS = {
    "cortical_eig": {"E": 0.8, "PV": 0.1, "SST": 0.1},
    "cortical_eig_vip": {"E": 0.8, "PV": 0.1, "SST": 0.05, "VIP": 0.05},
    "RS_FS": {"RS": 0.8, "FS": 0.2},
    **{name: {name: 1.0} for name in ("RS", "IB", "CH", "FS", "LTS", "TC", "RZ")},
}
