"""Code-generation hints for XLA's CPU backend, applied by jaxfne's entry points.

On CPUs with AVX-512, ``--xla_cpu_prefer_vector_width=512`` lets LLVM use the full vector
width (XLA's default prefers 256 bits). Measured on a 2-core AMD EPYC: the noise generator
1.8 -> 1.1 ns a draw, the canonical network's step 5.7 -> 5.1 ns per neuron-step, 10^4 cells
for 1 s 0.66 -> 0.60 s (``benchmarks/batch_bound.py``, ``benchmarks/canonical.py``).

XLA reads ``XLA_FLAGS`` when it creates the CPU backend, i.e. at the first computation, so the
hint must be applied before anything runs. The benchmarks apply it; the command line only
with ``jaxfne run --wide-vectors`` or ``JAXFNE_XLA_TUNING=1``, because vector width changes
the order of floating-point reductions: results differ in the last bits with and without it
(LFP by ~1e-7 relative), and a ``jaxfne run`` must give the same signals as the same config and
seed run from Python. A library user can set the variable themselves. It never overrides a
width already given, and ``JAXFNE_XLA_TUNING=0`` turns it off; receipts record ``XLA_FLAGS``.
"""
from __future__ import annotations

import os

WIDE_VECTORS = "--xla_cpu_prefer_vector_width=512"


def cpu_has_avx512() -> bool:
    """Whether this CPU reports AVX-512 Foundation (Linux /proc/cpuinfo; False elsewhere)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return "avx512f" in line.split()
    except OSError:
        pass
    return False


def backend_started() -> bool:
    """Whether JAX has already created its backends (then XLA_FLAGS is read and fixed)."""
    try:
        from jax._src import xla_bridge
        return bool(getattr(xla_bridge, "_backends", {}))
    except Exception:                                   # pragma: no cover - private API moved
        return True


def use_wide_vectors() -> bool:
    """Add the 512-bit vector hint to ``XLA_FLAGS`` where it helps and still can take effect.
    Returns whether the hint is in force for this process's backend."""
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_prefer_vector_width" in flags:
        return WIDE_VECTORS in flags.split()
    if os.environ.get("JAXFNE_XLA_TUNING", "1") == "0" or not cpu_has_avx512() or backend_started():
        return False
    os.environ["XLA_FLAGS"] = (flags + " " + WIDE_VECTORS).strip()
    return True
