"""Passive cables: a morphology cut into compartments, its linear membrane equations, their
exact step for piecewise-constant input, and the transmembrane currents they imply.

For compartment k (membrane area a_k, V_k relative to rest, mV; currents nA; ms):

    C_k dV_k/dt = -g_L,k V_k - sum_j g_kj (V_k - V_j) + I_k(t)

C_k = cm a_k (nF), g_L,k = a_k / R_m (uS), g_kj = 1 / (r_k / 2 + r_j / 2) between neighbours
with r = R_a l / (pi d^2 / 4) (MOhm), I_k the synaptic current entering compartment k. The
transmembrane current leaving compartment k (capacitive + leak - synaptic, outward positive)
is then i_k = -(sum_j g_kj (V_j - V_k)) = -(L V)_k with L the axial Laplacian, so a cell's
currents sum to zero exactly: whatever enters at a synapse leaves through the membrane.

With dV/dt = A V + B I, A = -C^-1 (G_L + L), B = C^-1, and I constant over a step of dt, the
step V <- Phi V + Gamma I with Phi = e^(A dt), Gamma = int_0^dt e^(A s) ds B (one matrix
exponential of the augmented matrix, Van Loan 1978) is exact: no discretisation error in
time. A step reads the currents after its update, i[n] = -L V[n + 1]; the kernel of the
scheme, i[n] = sum_m H[m] I[n - m] with H[m] = -L Phi^m Gamma, is the same linear map written
as a convolution (:func:`kernels`). Assumptions, as in the
kernel schemes of Hagen et al. (2016, 2022): passive dendrites, and synaptic input given as a
current (a conductance synapse's current is computed with the point neuron's V, not the
dendrite's).
"""
from __future__ import annotations

import math

import attrs
import numpy as np
import scipy.linalg

from .morphology import Morphology


@attrs.frozen(eq=False)
class Cable:
    """Compartments of a morphology. section: (K,) section of each compartment;
    segments_um: (K, 2, 3) each compartment's axis (x, y, up; um, soma centred on 0);
    area_um2, capacitance_nF, leak_uS: (K,); edges: (M, 2) neighbouring compartments and
    g_axial_uS (M,) their coupling."""

    morphology: Morphology
    section: np.ndarray
    segments_um: np.ndarray
    area_um2: np.ndarray
    capacitance_nF: np.ndarray
    leak_uS: np.ndarray
    edges: np.ndarray
    g_axial_uS: np.ndarray

    @property
    def n_compartments(self) -> int:
        return int(self.section.shape[0])

    def laplacian(self) -> np.ndarray:
        """(K, K) axial conductance Laplacian L (uS): (L V)_k = sum_j g_kj (V_k - V_j)."""
        k = self.n_compartments
        lap = np.zeros((k, k))
        i, j = self.edges[:, 0], self.edges[:, 1]
        np.add.at(lap, (i, j), -self.g_axial_uS)
        np.add.at(lap, (j, i), -self.g_axial_uS)
        np.add.at(lap, (i, i), self.g_axial_uS)
        np.add.at(lap, (j, j), self.g_axial_uS)
        return lap

    def system(self):
        """(A (K, K) 1/ms, B (K, K) mV/(ms nA)): dV/dt = A V + B I."""
        c = self.capacitance_nF
        a = -(np.diag(self.leak_uS) + self.laplacian()) / c[:, None]
        return a, np.diag(1.0 / c)

    def step_matrices(self, dt_ms: float):
        """(Phi, Gamma), both (K, K) float64: the exact step for input constant over dt."""
        a, b = self.system()
        k = self.n_compartments
        aug = np.zeros((2 * k, 2 * k))
        aug[:k, :k], aug[:k, k:] = a * dt_ms, b * dt_ms
        e = scipy.linalg.expm(aug)
        return e[:k, :k], e[:k, k:]

    def group_weights(self, group_sections) -> np.ndarray:
        """(K,) a current's share on each compartment of the named sections, by membrane area
        (summing to 1)."""
        mine = np.isin(np.asarray(self.morphology.names)[self.section], list(group_sections))
        w = np.where(mine, self.area_um2, 0.0)
        return w / w.sum()


def compartmentalise(morph: Morphology, compartment_um: float = 100.0) -> Cable:
    """Cut each section into ceil(L / compartment_um) equal compartments (at least one)."""
    ends = morph.section_endpoints()
    section, segments, length, diam, first, last = [], [], [], [], [], []
    for s in range(morph.n_sections):
        n = max(1, math.ceil(morph.length_um[s] / compartment_um - 1e-9))
        first.append(len(section))
        cuts = np.linspace(0.0, 1.0, n + 1)
        for a, b in zip(cuts[:-1], cuts[1:]):
            section.append(s)
            segments.append([ends[s, 0] + a * (ends[s, 1] - ends[s, 0]), ends[s, 0] + b * (ends[s, 1] - ends[s, 0])])
            length.append(morph.length_um[s] / n)
            diam.append(morph.diam_um[s])
        last.append(len(section) - 1)
    section, length, diam = np.array(section), np.array(length), np.array(diam)
    area = np.pi * diam * length
    ra, cm, gl = morph.ra_ohm_cm[section], morph.cm_uF_per_cm2[section], morph.g_leak_S_per_cm2[section]
    r_axial = ra * length / (np.pi * diam ** 2 / 4.0) * 1e-2           # MOhm
    edges = [(k, k + 1) for s in range(morph.n_sections) for k in range(first[s], last[s])]
    for s in range(morph.n_sections):
        p = morph.parent[s]
        if p >= 0:
            edges.append((last[p] if morph.attach_end[s] else first[p], first[s]))
    edges = np.array(edges, np.int64).reshape(-1, 2)
    g = 1.0 / (0.5 * r_axial[edges[:, 0]] + 0.5 * r_axial[edges[:, 1]]) if edges.size else np.zeros(0)
    return Cable(morph, section, np.array(segments), area, cm * area * 1e-5, gl * area * 1e-2, edges, g)


def kernels(cable: Cable, dt_ms: float, n_lags: int) -> np.ndarray:
    """(n_lags, K, K) H[m][k, j]: transmembrane current (nA) of compartment k, m steps after
    a unit current (1 nA for one step) into compartment j (m = 0: read after that step's
    update, as the simulation does)."""
    phi, gamma = cable.step_matrices(dt_ms)
    lap = cable.laplacian()
    out = np.zeros((n_lags, cable.n_compartments, cable.n_compartments))
    m = gamma.copy()
    for lag in range(n_lags):
        out[lag] = -lap @ m
        m = phi @ m
    return out
