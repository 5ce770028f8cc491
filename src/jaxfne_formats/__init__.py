"""Signals in standard formats: run folders (``signals.npz``, ``network.npz``), xarray, NWB and Neo.

xarray, NWB (pynwb) and Neo are optional: ``pip install jaxfne[xarray]``, ``jaxfne[nwb]``,
``jaxfne[neo]``; calling a converter without its package raises :class:`MissingExtraError`.
"""
from .circuit_io import load_circuit, save_circuit
from .neo_io import from_neo, to_neo
from .nwb_io import read_nwb, validate_nwb, write_nwb
from .run_dir import load_run, signals_payload
from .xarray_io import from_xarray, to_xarray

__all__ = ["from_neo", "from_xarray", "load_circuit", "load_run", "save_circuit", "read_nwb", "signals_payload", "to_neo",
           "to_xarray", "validate_nwb", "write_nwb"]
