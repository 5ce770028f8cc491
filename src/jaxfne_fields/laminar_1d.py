"""The 1-D laminar volume conductor: -(sigma(z) phi')' = q with zero-flux ends, mean-zero gauge.

Cell-centred finite volumes on n cells of width dz, face conductivities the harmonic mean of
the adjacent cells. The FV system A phi = q (A symmetric tridiagonal, constants its null space)
is solvable only if sum(q) = 0; the bordered system [[A, 1], [1^T, 0]] [phi, lam] = [q, 0] has
lam = mean(q), the compatibility violation, which is reported rather than hidden. Because the
ends carry no flux, the system factors into prefix sums: J_{i+1/2} = dz sum_{k<=i} q_k (the
exact discrete flux) and phi_{i+1} - phi_i = -dz J_{i+1/2} / sigma_{i+1/2}, solved in O(n) with
``cumsum`` in any float precision (no dense least squares). Second-order convergent.

Units: q in nA/um^3, dz in um, sigma in S/m, phi in uV.
"""
from __future__ import annotations

import numpy as np

from .kernels import UV_UM_PER_NA_OHM


def face_conductivity(sigma_cells, xp=np):
    """(n-1,) harmonic means of adjacent cell conductivities (the interior faces)."""
    a, b = sigma_cells[:-1], sigma_cells[1:]
    return 2.0 * a * b / (a + b)


def fv_matrix(sigma_cells, dz) -> np.ndarray:
    """(n, n) FV operator A with (A phi)_i = -(flux balance)/dz^2, zero-flux ends (for tests)."""
    s = face_conductivity(np.asarray(sigma_cells, np.float64))
    n = len(sigma_cells)
    a = np.zeros((n, n))
    i = np.arange(n - 1)
    a[i, i] += s
    a[i + 1, i + 1] += s
    a[i, i + 1] -= s
    a[i + 1, i] -= s
    return a / dz**2


def solve_neumann_1d(q, sigma_cells, dz, xp=np):
    """Solve -(sigma phi')' = q - mean(q) with zero flux at both ends and mean(phi) = 0.

    q: (..., n) nA/um^3 (leading axes are solved independently). Returns (phi (..., n) uV,
    violation (...,) = mean(q), the net source density that the Neumann problem cannot carry).
    Scaled so that ``fv_matrix(sigma, dz) @ phi == (q - mean(q)) * 1e3`` (uV units).
    """
    violation = xp.mean(q, axis=-1)
    qc = q - violation[..., None]
    flux = dz * xp.cumsum(qc, axis=-1)[..., :-1]                       # interior faces
    steps = -UV_UM_PER_NA_OHM * dz * flux / face_conductivity(sigma_cells, xp)
    zero = xp.zeros(steps.shape[:-1] + (1,), steps.dtype)
    phi = xp.concatenate([zero, xp.cumsum(steps, axis=-1)], axis=-1)
    return phi - xp.mean(phi, axis=-1, keepdims=True), violation


def sigma_profile(depth_um, default_sigma, layers):
    """Conductivity at depths: ``layers`` is a sequence of (top_um, sigma) pairs, each value
    holding from its top down to the next top; above the first top, ``default_sigma``."""
    sig = np.full(np.shape(depth_um), float(default_sigma))
    for top, value in sorted(layers or ()):
        sig = np.where(np.asarray(depth_um) >= top, value, sig)
    return sig
