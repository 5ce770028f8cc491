"""Green's functions of the extracellular potential, written once for NumPy and JAX (``xp``).

Units: currents nA, distances um, sigma S/m, potentials uV. With these units
``phi [uV] = 1e3 * I [nA] / (4 pi sigma [S/m] r [um])`` (1 nA at 100 um in 0.3 S/m: 2.6526 uV).
Every function returns the (C, S) matrix of uV per nA from sources S to observation points C.
"""
from __future__ import annotations

import numpy as np

UV_UM_PER_NA_OHM = 1e3   # nA / (S/m * um) = 1e-3 V = 1e3 uV


def point_source(src_um, obs_um, sigma, r_min_um=1.0, xp=np):
    """Point sources in an infinite homogeneous medium, isotropic (scalar sigma) or anisotropic
    (sigma = (sx, sy, sz)): phi = I / (4 pi sqrt(sy sz dx^2 + sx sz dy^2 + sx sy dz^2)).
    Distances are clamped to at least r_min (a coincident pair counts as vertical)."""
    d = obs_um[:, None, :] - src_um[None, :, :]
    r = xp.sqrt(xp.sum(d * d, axis=-1))
    r_clamped = xp.maximum(r, r_min_um)
    sig = xp.asarray(sigma)
    if sig.ndim == 0:
        return UV_UM_PER_NA_OHM / (4.0 * np.pi * sig * r_clamped)
    nonzero = r > 0
    safe = xp.where(nonzero, r, 1.0)
    ux = xp.where(nonzero, d[..., 0] / safe, 0.0)
    uy = xp.where(nonzero, d[..., 1] / safe, 0.0)
    uz = xp.where(nonzero, d[..., 2] / safe, 1.0)
    sx, sy, sz = sig[0], sig[1], sig[2]
    denom = r_clamped * xp.sqrt(sy * sz * ux**2 + sx * sz * uy**2 + sx * sy * uz**2)
    return UV_UM_PER_NA_OHM / (4.0 * np.pi * denom)


def line_source(start_um, end_um, obs_um, sigma, r_min_um=1.0, xp=np):
    """Line sources (Holt 1998), current spread evenly along each segment, isotropic sigma.

    phi = I / (4 pi sigma L) * ln[(a + sqrt(a^2 + r^2)) / (b + sqrt(b^2 + r^2))], with a the
    position of the observer along the segment axis measured from its start, b = a - L, r the
    perpendicular distance clamped to r_min. Evaluated in the reflected frame (a >= L/2) and
    with the cancellation-free form of b + sqrt(b^2 + r^2) for b < 0. Zero-length segments fall
    back to point sources.
    """
    axis = end_um - start_um                                   # (S, 3)
    length = xp.sqrt(xp.sum(axis * axis, axis=-1))             # (S,)
    safe = xp.maximum(length, 1e-12)
    u = axis / safe[:, None]
    rel = obs_um[:, None, :] - start_um[None, :, :]            # (C, S, 3)
    a = xp.sum(rel * u[None], axis=-1)
    perp = rel - a[..., None] * u[None]
    r = xp.maximum(xp.sqrt(xp.sum(perp * perp, axis=-1)), r_min_um)
    a = xp.maximum(a, length[None] - a)                        # reflect: same integral
    b = a - length[None]
    num = a + xp.sqrt(a * a + r * r)
    den = xp.where(b >= 0, b + xp.sqrt(b * b + r * r), r * r / (xp.sqrt(b * b + r * r) - b))
    line = UV_UM_PER_NA_OHM * xp.log(num / den) / (4.0 * np.pi * sigma * safe[None])
    mid = 0.5 * (start_um + end_um)
    point = point_source(mid, obs_um, sigma, r_min_um, xp)
    return xp.where(length[None] > 1e-9, line, point)


def disc_source(src_depth_um, obs_depth_um, sigma, radius_um, xp=np):
    """Discs of radius R centred on the observation axis, total current I spread evenly:
    phi(dz) = I / (pi R^2) / (2 sigma) * (sqrt(dz^2 + R^2) - |dz|) (Pettersen et al. 2006)."""
    dz = obs_depth_um[:, None] - src_depth_um[None, :]
    return (UV_UM_PER_NA_OHM / (2.0 * sigma * np.pi * radius_um**2)
            * (xp.sqrt(dz * dz + radius_um**2) - xp.abs(dz)))
