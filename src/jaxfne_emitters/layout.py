"""Cell placement: population counts and interleaved positions in a cylindrical column."""
from __future__ import annotations

import numpy as np


def population_counts(fractions: dict, n: int) -> dict:
    """Largest-remainder rounding of ``fractions`` (summing to 1) to integer counts summing to n."""
    names = list(fractions)
    raw = np.array([fractions[k] for k in names], float) * n
    counts = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - counts), kind="stable")[: n - counts.sum()]:
        counts[i] += 1
    return dict(zip(names, counts.tolist()))


def interleaved_cells(counts: dict, thickness_um: float, radius_um: float, rng: np.random.Generator):
    """Assign population labels in a random order and place every cell uniformly in the column.

    Every population spans the whole depth (no block layout). Returns (population (N,) int,
    positions (N, 3) um with columns x, y, depth).
    """
    labels = np.concatenate([np.full(c, i, np.int32) for i, c in enumerate(counts.values())])
    labels = rng.permutation(labels)
    n = labels.size
    depth = rng.uniform(0.0, thickness_um, n)
    r = radius_um * np.sqrt(rng.uniform(0.0, 1.0, n))
    theta = rng.uniform(0.0, 2.0 * np.pi, n)
    pos = np.stack([r * np.cos(theta), r * np.sin(theta), depth], axis=1)
    return labels, pos


def layered_cells(layers, radius_um: float, rng: np.random.Generator):
    """Cells of each layer placed uniformly within its depth range; populations are named
    ``<layer>_<type>``. Returns (counts {name: count}, population (N,), positions (N, 3),
    layer index (N,))."""
    counts, pops, depths, layer_of = {}, [], [], []
    for li, layer in enumerate(layers):
        for cell_type, count in layer.populations.items():
            if count == 0:
                continue
            idx = len(counts)
            counts[f"{layer.name}_{cell_type}"] = count
            pops.append(np.full(count, idx, np.int32))
            depths.append(rng.uniform(layer.top_um, layer.bottom_um, count))
            layer_of.append(np.full(count, li))
    pop, depth, layer_idx = (np.concatenate(x) for x in (pops, depths, layer_of))
    order = rng.permutation(pop.size)                  # interleave populations in index order too
    pop, depth, layer_idx = pop[order], depth[order], layer_idx[order]
    r = radius_um * np.sqrt(rng.uniform(0.0, 1.0, pop.size))
    theta = rng.uniform(0.0, 2.0 * np.pi, pop.size)
    pos = np.stack([r * np.cos(theta), r * np.sin(theta), depth], axis=1)
    return counts, pop, pos, layer_idx
