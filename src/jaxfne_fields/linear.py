"""Shared machinery of fields that are one linear operator: LFP and CSD rows stacked in M."""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from jaxfne_core.stages import Field


class StackedOperatorField(Field):
    """apply(I) = M @ I with M = [LFP rows; CSD rows] built once per geometry (float32)."""

    @staticmethod
    def stack(lfp_matrix, csd_matrix) -> dict:
        return {"M": jnp.asarray(np.concatenate([lfp_matrix, csd_matrix], axis=0), jnp.float32)}

    def readout_matrix(self, params, n_sources):
        return np.asarray(params["M"])

    def apply(self, params, currents):
        y = params["M"] @ currents
        c = y.shape[0] // 2
        return {"LFP": y[:c], "CSD": y[c:]}


def net_csd_relative(csd) -> float:
    """max over samples of |sum over contacts| / (max |CSD| x contacts)."""
    csd = np.asarray(csd, np.float64)
    scale = max(float(np.abs(csd).max()) * csd.shape[-1], 1e-30)
    return float(np.abs(csd.sum(axis=-1)).max() / scale)
