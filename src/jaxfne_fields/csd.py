"""CSD estimation from laminar potentials, in physical units.

Units: potentials in uV, depths and pitch in um, sigma in S/m, CSD in uA/mm^3 (positive =
current source, leaving cells). With these units C = -sigma phi'' reads
``C [uA/mm^3] = -1e3 * sigma [S/m] * phi'' [uV/um^2]`` (not divided by h only once: the
unit slip of elephant's StandardCSD is not copied).

- Standard CSD (Nicholson & Freeman 1975): -sigma times the second difference over h^2; the
  end contacts are duplicated as their own neighbours (Vaknin 1988) so every contact gets a
  value; optional 3-point Hamming smoothing (0.23, 0.54, 0.23) before differencing.
- Inverse CSD (Pettersen et al. 2006): CSD as discs of radius R around the shank, piecewise
  as delta sheets (thickness h), steps (constant over each contact's h-slab) or a natural
  cubic spline through the contacts; phi = F C, C = F^-1 phi.
"""
from __future__ import annotations

import numpy as np
from jaxfne_core.errors import ConfigError

UA_PER_MM3 = 1e3          # C [uA/mm^3] = UA_PER_MM3 * sigma [S/m] * (-phi'') [uV/um^2]
ICSD_METHODS = ("delta", "step", "spline")


def second_difference(n: int, boundary: str) -> np.ndarray:
    """(n, n) D with (D phi)_j = phi_{j+1} - 2 phi_j + phi_{j-1}; ghosts by ``boundary``:
    ``mean_zero_neumann``/``vaknin`` duplicate the end contacts, ``dirichlet_zero`` uses 0."""
    d = -2.0 * np.eye(n) + np.eye(n, k=1) + np.eye(n, k=-1)
    if boundary in ("mean_zero_neumann", "vaknin"):
        d[0, 0] += 1.0
        d[-1, -1] += 1.0
    elif boundary != "dirichlet_zero":
        raise ConfigError(f"boundary {boundary!r}; allowed: 'mean_zero_neumann', 'vaknin', 'dirichlet_zero'")
    return d


def hamming_smoother(n: int) -> np.ndarray:
    """(n, n) 3-point Hamming smoothing with duplicated end contacts."""
    s = 0.54 * np.eye(n) + 0.23 * (np.eye(n, k=1) + np.eye(n, k=-1))
    s[0, 0] += 0.23
    s[-1, -1] += 0.23
    return s


def standard_csd_matrix(n: int, spacing_um: float, sigma, smoothing: bool = False) -> np.ndarray:
    """(n, n) matrix taking uV at n contacts of one shank to CSD in uA/mm^3 (Vaknin ends).

    sigma: a scalar, or (n - 1,) conductivities between consecutive contacts, giving
    C_j = -1e3 (s_{j+1/2} (phi_{j+1} - phi_j) - s_{j-1/2} (phi_j - phi_{j-1})) / h^2.
    """
    faces = np.broadcast_to(np.asarray(sigma, np.float64), (max(n - 1, 0),))
    m = np.zeros((n, n))
    for j, s in enumerate(faces):            # each face's flux leaves one contact, enters the next
        m[j, j] -= s
        m[j, j + 1] += s
        m[j + 1, j + 1] -= s
        m[j + 1, j] += s
    m = -UA_PER_MM3 * m / spacing_um**2
    return m @ hamming_smoother(n) if smoothing else m


def per_shank(geometry, block) -> np.ndarray:
    """Block-diagonal (C, C) operator: ``block(n)`` (or ``block(n, idx)``) along each shank."""
    import inspect
    two = len(inspect.signature(block).parameters) == 2
    c = geometry.n_contacts
    out = np.zeros((c, c))
    for idx in geometry.shanks:
        out[np.ix_(idx, idx)] = block(len(idx), idx) if two else block(len(idx))
    return out


def ground_truth_csd_matrix(source_positions_um, geometry, radius_um=None, every_source: bool = False) -> np.ndarray:
    """(C, S) uA/mm^3 per nA: each source point counts in the slab of its nearest contact along
    its shank (end slabs open-ended), inside a cylinder of ``radius_um`` around the shank
    (default: wide enough for every source). Slab volume: pi R^2 h. A charge-conserving set of
    sources inside the cylinder gives CSD that sums to zero over each shank exactly. With
    ``every_source`` each source counts whatever its lateral position (the fields whose
    potentials spread every source over a disc of ``radius_um`` around the shank: their CSD
    is the same disc's)."""
    src = np.asarray(source_positions_um, np.float64)
    pos = geometry.positions_um
    h = geometry.spacing_um
    out = np.zeros((pos.shape[0], src.shape[0]))
    for idx in geometry.shanks:
        p0 = pos[idx[0]]
        axis = (pos[idx[-1]] - p0) if len(idx) > 1 else np.array([0.0, 0.0, 1.0])
        axis = axis / np.linalg.norm(axis)
        rel = src - p0
        along = rel @ axis
        lateral = np.linalg.norm(rel - along[:, None] * axis, axis=1)
        r = radius_um if radius_um is not None else max(float(lateral.max()) * (1 + 1e-9), h)
        k = np.clip(np.rint(along / h), 0, len(idx) - 1).astype(int)
        inside = np.ones(lateral.shape, bool) if every_source else lateral <= r
        out[idx[k[inside]], np.nonzero(inside)[0]] = 1e6 / (np.pi * r * r * h)  # nA/um^3 -> uA/mm^3
    return out


def standard_csd(lfp_uV, spacing_um: float, sigma: float = 0.3, smoothing: bool = False):
    """Standard CSD of (..., C) potentials in uV along one shank -> (..., C) uA/mm^3."""
    lfp = np.asarray(lfp_uV, np.float64)
    return lfp @ standard_csd_matrix(lfp.shape[-1], spacing_um, sigma, smoothing).T


def _disc_integral(u, radius):
    """Antiderivative of sqrt(u^2 + R^2) - |u| in u."""
    root = np.sqrt(u * u + radius * radius)
    return 0.5 * (u * root + radius * radius * np.arcsinh(u / radius)) - 0.5 * u * np.abs(u)


def icsd_forward_matrix(z_um, sigma: float, radius_um: float, method: str = "step",
                        spline_points: int = 24) -> np.ndarray:
    """(C, C) F with phi [uV] = F @ C [uA/mm^3] for discs of radius R at the contact depths.

    A disc of areal density K [A/m^2] gives phi(dz) = K / (2 sigma) (sqrt(dz^2 + R^2) - |dz|).
    delta: sheets of thickness h at each contact; step: C constant over [z - h/2, z + h/2];
    spline: natural cubic spline through the contacts, integrated between the end contacts.
    """
    z = np.asarray(z_um, np.float64)
    h = float(np.mean(np.diff(z))) if z.size > 1 else 1.0
    dz = z[:, None] - z[None, :]                       # observation minus source
    scale = 1e-3 / (2.0 * sigma)                       # (uA/mm^3 * um^2) / (S/m) -> uV
    if method == "delta":
        return scale * h * (np.sqrt(dz**2 + radius_um**2) - np.abs(dz))
    if method == "step":
        # integral over the source slab of the disc kernel, in the variable u = z_obs - z'
        return scale * (_disc_integral(dz + h / 2, radius_um) - _disc_integral(dz - h / 2, radius_um))
    if method == "spline":
        from scipy.interpolate import CubicSpline
        basis = CubicSpline(z, np.eye(z.size), bc_type="natural")
        nodes, weights = np.polynomial.legendre.leggauss(spline_points)
        f = np.zeros((z.size, z.size))
        for a, b in zip(z[:-1], z[1:]):               # kernel kinks only at knots: exact-enough quadrature
            zq = 0.5 * (b - a) * nodes + 0.5 * (a + b)
            wq = 0.5 * (b - a) * weights
            kern = np.sqrt((z[:, None] - zq[None]) ** 2 + radius_um**2) - np.abs(z[:, None] - zq[None])
            f += (kern * wq) @ basis(zq)
        return scale * f
    raise ConfigError(f"iCSD method {method!r}; allowed: {', '.join(ICSD_METHODS)}")


def icsd(lfp_uV, z_um, sigma: float = 0.3, radius_um: float = 500.0, method: str = "step"):
    """Inverse CSD of (..., C) potentials in uV at depths z_um -> (..., C) uA/mm^3."""
    f = icsd_forward_matrix(z_um, sigma, radius_um, method)
    lfp = np.asarray(lfp_uV, np.float64)
    return np.linalg.solve(f, lfp.reshape(-1, lfp.shape[-1]).T).T.reshape(lfp.shape)
