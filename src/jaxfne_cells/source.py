"""The ``cable`` source: receptor synapses placed on each cell's morphology, their currents
spread through the passive cable, and the transmembrane current of every compartment as the
field's sources.

Synapses are those of ``receptor_exponential`` (receptors, pathways, inputs, delays, rise
times, conductances, plasticity): the point neuron still receives their summed current.
What changes is where the current flows in the tissue. Each pathway, input or receptor names
its targets on the postsynaptic morphology (``targets``): a section group (``proximal``,
``distal``, ``basal``, ``apical``, ``perisomatic``, ``soma``, ``all``), one section, or a depth
range ``depth:<top>-<bottom>`` (um from the pia); the current is shared over those
compartments by membrane area. Each target makes its own synaptic channel (``AMPA@distal``),
so one receptor can enter different compartments by pathway. The cable (``jaxfne_cells.cable``)
is advanced exactly for the step's currents, and every compartment's transmembrane current
(capacitive + leak - synaptic, outward positive) is a source at its segment; a cell's
currents sum to zero. Point morphologies take all their input at the soma and make no field.
"""
from __future__ import annotations

from typing import Optional

import attrs
import jax
import jax.numpy as jnp
import numpy as np

from jaxfne_core.errors import ConfigError
from jaxfne_core.stages import StepInputs
from jaxfne_core.validators import FieldValueError, number, one_of, optional
from jaxfne_emitters.synapses import ReceptorExponentialSource, ReceptorOptions

from .cable import compartmentalise
from .morphology import MORPHOLOGIES, from_swc, with_apical_reach

DEFAULT_TARGET = {True: "proximal", False: "perisomatic"}      # by the receptor's sign
FIELD_SCHEMES = ("per_cell", "population_kernel")
DEFAULT_KERNEL_BIN_UM = 50.0


def _check_targets(inst, attr, value):
    for key, target in (value or {}).items():
        if not isinstance(target, str) or not target:
            raise FieldValueError(attr.name, f"targets[{key!r}] must name a section group, a section or "
                                  f"'depth:<top>-<bottom>', got {target!r}")
        if target.startswith("depth:"):
            parse_depth(target, attr.name)


def _check_tuft_depths(inst, attr, value):
    for key, depth in (value or {}).items():
        if not isinstance(depth, (int, float)) or isinstance(depth, bool) or not 0 <= depth <= 5000:
            raise FieldValueError(attr.name, f"tuft_depth_um[{key!r}] must be a depth in [0, 5000] um from the pia, "
                                  f"got {depth!r}")


def parse_depth(target: str, field: str = "targets") -> tuple:
    """'depth:100-300' -> (100.0, 300.0) um from the pia."""
    try:
        top, bottom = (float(x) for x in target[len("depth:"):].split("-"))
    except ValueError:
        raise FieldValueError(field, f"{target!r} is not 'depth:<top>-<bottom>' (um from the pia, e.g. "
                              "'depth:0-150')") from None
    if not 0 <= top < bottom:
        raise FieldValueError(field, f"{target!r}: need 0 <= top < bottom (um from the pia)")
    return top, bottom


@attrs.frozen
class CableOptions(ReceptorOptions):
    """morphologies: population (name or class) -> morphology (built-in: l23_pyramidal,
    l5_pyramidal, stellate, point; or a name in swc_files). Unnamed excitatory populations
    take l5_pyramidal in layers L5/L6, stellate in L4 and l23_pyramidal elsewhere; inhibitory
    ones take point. swc_files: morphology name -> SWC path. targets: pathway name
    (``pre->post``), input name or receptor -> where its synapses sit on the postsynaptic
    morphology (a section group, a section, or ``depth:<top>-<bottom>`` um from the pia;
    default: excitatory receptors proximal, inhibitory perisomatic). compartment_um: the
    longest compartment (each section is cut into ceil(L / compartment_um) pieces).
    tuft_depth_um: population (name or class) -> depth (um from the pia) its apical tree
    reaches from the population's mean soma depth; the apical sections' lengths are scaled by
    one factor per population (hnn-core's L5 cell, 1.9 mm tall, would otherwise leave the
    cortex from an L5 soma). field_scheme: ``per_cell`` (exact: every cell's cable) or
    ``population_kernel`` (the cells of a population whose somata share a depth bin and a bin
    of distance from the column's axis, both ``kernel_depth_bin_um`` wide, default 50 um: one
    cable driven by their summed synaptic currents, seen through their mean field matrix; an
    approximation in the manner of LFPykernels, exact when a bin holds one cell; it refuses
    the ``sources`` and ``dipole`` modes)."""

    morphologies: Optional[dict[str, str]] = None
    swc_files: Optional[dict[str, str]] = None
    targets: Optional[dict[str, str]] = attrs.field(default=None, validator=_check_targets)
    compartment_um: float = attrs.field(default=100.0, validator=number(1.0, 5000.0))
    tuft_depth_um: Optional[dict[str, float]] = attrs.field(default=None, validator=_check_tuft_depths)
    field_scheme: str = attrs.field(default="per_cell", validator=one_of(*FIELD_SCHEMES))
    kernel_depth_bin_um: Optional[float] = attrs.field(default=None, validator=optional(number(0.0, 5000.0, lo_open=True)))

    def __attrs_post_init__(self):
        super().__attrs_post_init__()
        if self.offset_um:
            raise FieldValueError("offset_um", "synaptic sites lie on the morphology in the 'cable' source; "
                                  "allowed: 'targets' (a section group, a section or a depth range)")
        if self.field_scheme == "per_cell" and self.kernel_depth_bin_um is not None:
            raise FieldValueError("kernel_depth_bin_um", "applies to field_scheme 'population_kernel'; "
                                  "allowed: unset with 'per_cell'")
        clash = sorted(set(self.swc_files or {}) & set(MORPHOLOGIES))
        if clash:
            raise FieldValueError("swc_files", f"{clash} are built-in morphology names; allowed: other names")


class CableSource(ReceptorExponentialSource):
    """Receptor synapses on passive morphologies: transmembrane currents of every compartment."""

    name = "cable"
    Options = CableOptions

    # ------------------------------------------------------------------ morphologies
    def morphology_of(self, circuit, population: int) -> str:
        name = circuit.population_names[population]
        over = self.options.morphologies or {}
        cls = name.rsplit("_", 1)[-1]
        for key in (name, cls):
            if key in over:
                return over[key]
        if not circuit.excitatory[circuit.population == population].any():
            return "point"
        layer = name.rsplit("_", 1)[0] if "_" in name else ""
        return "l5_pyramidal" if layer in ("L5", "L6") else "stellate" if layer == "L4" else "l23_pyramidal"

    def _morphology(self, name):
        if name in MORPHOLOGIES:
            return MORPHOLOGIES[name]()
        swc = self.options.swc_files or {}
        if name in swc:
            return from_swc(swc[name], name)
        raise ConfigError([("$.source.morphologies", f"unknown morphology {name!r}; allowed: "
                            f"{sorted(MORPHOLOGIES) + sorted(swc)}")])

    def tuft_depth_of(self, circuit, population: int):
        """The depth (um) the population's apical trees reach, or None (unscaled)."""
        name = circuit.population_names[population]
        over = self.options.tuft_depth_um or {}
        for key in (name, name.rsplit("_", 1)[-1]):
            if key in over:
                return float(over[key])
        return None

    def _cell_model(self, circuit, population: int):
        """(morphology name, tuft depth or None): populations sharing both share a cable."""
        depth = self.tuft_depth_of(circuit, population)
        if depth is None:
            return self.morphology_of(circuit, population), None
        soma = float(circuit.positions_um[circuit.population == population, 2].mean())
        if not depth < soma:
            raise ConfigError([("$.source.tuft_depth_um", f"{circuit.population_names[population]!r}: {depth:g} um is "
                                f"not above its mean soma depth {soma:.4g} um; allowed: 0 <= depth < {soma:.4g}")])
        return self.morphology_of(circuit, population), round(soma - depth, 3)

    def cables(self, circuit):
        """[(morphology name, Cable, cells (n,) int)] in source order (cells of one morphology
        together, each cell's compartments contiguous)."""
        keys = set(circuit.population_names) | {n.rsplit("_", 1)[-1] for n in circuit.population_names}
        for option in ("morphologies", "tuft_depth_um"):
            unknown = sorted(set(getattr(self.options, option) or {}) - keys)
            if unknown:
                raise ConfigError([(f"$.source.{option}", f"{unknown} match no population of the emitter; allowed: "
                                    f"{sorted(keys)}")])
        models = [self._cell_model(circuit, p) for p in range(len(circuit.population_names))]
        index = {m: i for i, m in enumerate(dict.fromkeys(models))}
        of_cell = np.array([index[m] for m in models])[circuit.population]
        out = []
        for m, i in index.items():
            cells = np.flatnonzero(of_cell == i).astype(np.int32)
            if cells.size:
                morph = self._morphology(m[0])
                if m[1] is not None:
                    morph = with_apical_reach(morph, m[1])
                out.append((m[0], compartmentalise(morph, self.options.compartment_um), cells))
        return out

    def _placed_segments(self, circuit):
        """(S, 2, 3) segments in tissue coordinates (x, y, depth) and (S,) their cells."""
        segs, cell = [], []
        for _, cable, cells in self.cables(circuit):
            local = cable.segments_um * np.array([1.0, 1.0, -1.0])          # up -> depth
            segs.append((circuit.positions_um[cells][:, None, None, :] + local[None]).reshape(-1, 2, 3))
            cell.append(np.repeat(cells, cable.n_compartments))
        return np.concatenate(segs), np.concatenate(cell)

    def positions_um(self, circuit):
        """(S, 3) compartment centres; also checks, at assembly, that every target exists on
        every morphology it reaches."""
        targets = [p[1] for p in self._plan(circuit)[0]]
        for name, cable, _ in self.cables(circuit):
            for target in targets:
                self._sections_of(cable.morphology, name, target)
        return self._placed_segments(circuit)[0].mean(axis=1)

    @staticmethod
    def _sections_of(morph, morph_name, target):
        """The sections a group or section target names on ``morph`` (None: a depth range or a
        point cell, placed by depth or at the soma)."""
        if target.startswith("depth:") or morph.n_sections == 1:
            return None
        sections = morph.groups.get(target, (target,) if target in morph.names else None)
        if sections is None:
            raise ConfigError([("$.source.targets", f"morphology {morph_name!r} has no section or group "
                                f"{target!r}; allowed: {sorted(morph.groups)} or its sections {list(morph.names)}")])
        return sections

    def segments_um(self, circuit):
        return self._placed_segments(circuit)[0]

    def cell_of_source(self, circuit):
        return self._placed_segments(circuit)[1]

    # ------------------------------------------------------------------ channels by target
    def _target_of(self, key_names, receptor, excitatory):
        over = self.options.targets or {}
        for key in (*key_names, receptor):
            if key in over:
                return over[key]
        return DEFAULT_TARGET[bool(excitatory)]

    def _plan(self, circuit):
        """-> (pairs [(receptor index, target)] (the channels), (E,) each edge's channel, the
        target of each input spec)."""
        names, _, exc, _, edge = ReceptorExponentialSource.channels(self, circuit)
        known = {p.name for p in circuit.pathways} | {s.name for s in self.options.inputs or ()} | \
            set(self.receptor_table())
        unknown = sorted(set(self.options.targets or {}) - known)
        if unknown:
            raise ConfigError([("$.source.targets", f"{unknown} name no pathway, input or receptor; allowed: "
                                f"{sorted(known)}")])
        path_name = [p.name for p in circuit.pathways]
        edge_target = []
        for e in range(edge.size):
            key = (path_name[circuit.edge_pathway[e]],) if circuit.edge_pathway is not None else ()
            edge_target.append(self._target_of(key, names[edge[e]], exc[edge[e]]))
        table = self.receptor_table()
        specs = self.options.inputs or ()
        inputs = [(names.index(self._input_receptor(s)),
                   self._target_of((s.name,), self._input_receptor(s), table[self._input_receptor(s)][2]))
                  for s in specs]
        pairs = list(dict.fromkeys([(int(r), t) for r, t in zip(edge, edge_target)] + inputs))
        index = {p: i for i, p in enumerate(pairs)}
        edge_channel = np.array([index[(int(r), t)] for r, t in zip(edge, edge_target)], np.int32)
        return pairs, edge_channel, [t for _, t in inputs]

    def channels(self, circuit):
        names, tau, exc, _, _ = ReceptorExponentialSource.channels(self, circuit)
        pairs, edge_channel, _ = self._plan(circuit)
        r = np.array([p[0] for p in pairs], np.int64)
        return (tuple(f"{names[i]}@{t}" for i, t in pairs), tau[r], exc[r], np.zeros(len(pairs)), edge_channel)

    def kinetics(self, circuit):
        rise, reversal, block = ReceptorExponentialSource.kinetics(self, circuit)
        r = np.array([p[0] for p in self._plan(circuit)[0]], np.int64)
        return rise[r], reversal[r], block[r]

    def input_channels(self, circuit, inputs):
        receptor = ReceptorExponentialSource.input_channels(self, circuit, inputs)      # (E_in,) receptor index
        pairs, _, target_of_input = self._plan(circuit)
        index = {p: i for i, p in enumerate(pairs)}
        return np.array([index[(int(r), target_of_input[k])] for r, k in zip(receptor, inputs["input"])], np.int32)

    # ------------------------------------------------------------------ placement and cable steps
    def _placement(self, circuit, cable, cells, morph_name, targets):
        """(C, K) or (n, C, K) share of each channel's current on each compartment."""
        morph = cable.morphology
        per_cell = any(t.startswith("depth:") for t in targets)
        out = np.zeros((cells.size if per_cell else 1, len(targets), cable.n_compartments))
        for c, target in enumerate(targets):
            if morph.n_sections == 1:
                out[:, c, 0] = 1.0                    # a point cell takes every input at its soma
            elif target.startswith("depth:"):
                top, bottom = parse_depth(target)
                depth = circuit.positions_um[cells, 2][:, None] - cable.segments_um.mean(axis=1)[None, :, 2]
                inside = (depth >= top) & (depth <= bottom)
                w = np.where(inside, cable.area_um2[None, :], 0.0)
                # a cell with no compartment in range: the one nearest the range's middle
                nearest = np.abs(depth - 0.5 * (top + bottom)).argmin(axis=1)
                empty = w.sum(axis=1) == 0
                w[empty, nearest[empty]] = 1.0
                out[:, c] = w / w.sum(axis=1, keepdims=True)
            else:
                out[:, c] = cable.group_weights(self._sections_of(morph, morph_name, target))
        return out if per_cell else out[0]

    def init_params(self, circuit, dt):
        syn = super().init_params(circuit, dt)
        targets = [p[1] for p in self._plan(circuit)[0]]
        cable_params = []
        for name, cable, cells in self.cables(circuit):
            phi, gamma = cable.step_matrices(dt)
            place = self._placement(circuit, cable, cells, name, targets)
            incidence = np.zeros((cable.edges.shape[0], cable.n_compartments))     # (M, K): +1 at i, -1 at j
            incidence[np.arange(cable.edges.shape[0]), cable.edges[:, 0]] = 1.0
            incidence[np.arange(cable.edges.shape[0]), cable.edges[:, 1]] = -1.0
            cable_params.append({"cells": jnp.asarray(cells), "phi_t": jnp.asarray(phi.T, jnp.float32),
                                 "group": jnp.asarray(self._groups(circuit, cells), jnp.int32),
                                 "input": jnp.asarray(place @ gamma.T, jnp.float32),
                                 "difference": jnp.asarray(incidence.T, jnp.float32),
                                 "g_axial": jnp.asarray(cable.g_axial_uS, jnp.float32),
                                 "scatter": jnp.asarray(-incidence, jnp.float32)})
        return {"syn": syn, "cable": tuple(cable_params)}

    def init_state(self, params):
        """Synaptic state and each cell's cable (none with population_kernel: its groups'
        cables are the projected state)."""
        cables = () if self.projection_only else tuple(
            jnp.zeros((p["cells"].shape[0], p["phi_t"].shape[0]), jnp.float32) for p in params["cable"])
        return {"syn": super().init_state(params["syn"]), "cable": cables}

    def step(self, params, state, spikes, inputs: StepInputs = StepInputs()):
        """The synapses, then every cell's cable: -> (state, i_syn (N,), transmembrane (S,)).
        With population_kernel no cell's cable is kept (the model refuses ``sources`` and
        ``dipole``, and a field reads the groups' projection), so this path, taken only
        when no field is read, returns zero transmembrane currents."""
        syn, i_syn, base = super().step(params["syn"], state["syn"], spikes, inputs)
        if self.projection_only:
            n_sources = sum(p["cells"].shape[0] * p["phi_t"].shape[0] for p in params["cable"])
            return {**state, "syn": syn}, i_syn, jnp.zeros((n_sources,), jnp.float32)
        n = i_syn.shape[0]
        current = -base[n:].reshape(-1, n)            # (C, N) channel currents into the cells (calibrated)
        voltages, out = [], []
        for p, vm in zip(params["cable"], state["cable"]):
            into = current[:, p["cells"]].T           # (n, C)
            if p["input"].ndim == 3:
                drive_k = jnp.einsum("nc,nck->nk", into, p["input"])
            else:
                drive_k = into @ p["input"]
            vm = vm @ p["phi_t"] + drive_k
            voltages.append(vm)
            # i = -L V as axial currents g (V_i - V_j) of each edge (differences first: no
            # cancellation of large terms), each leaving one compartment and entering the other
            axial = (vm @ p["difference"]) * p["g_axial"]
            out.append((axial @ p["scatter"]).reshape(-1))
        return {"syn": syn, "cable": tuple(voltages)}, i_syn, jnp.concatenate(out)

    # ------------------------------------------------------------------ population kernels
    @property
    def projection_only(self) -> bool:
        return self.options.field_scheme == "population_kernel"

    def _groups(self, circuit, cells) -> np.ndarray:
        """(n,) the kernel group of each of a cable's cells: its population, its soma's depth
        bin and its bin of distance from the column's axis (both ``kernel_depth_bin_um`` wide),
        numbered from 0 in order of appearance."""
        bin_um = self.options.kernel_depth_bin_um or DEFAULT_KERNEL_BIN_UM
        pos = circuit.positions_um[cells]
        radius = np.hypot(pos[:, 0], pos[:, 1])
        key = np.stack([circuit.population[cells], np.floor(pos[:, 2] / bin_um).astype(np.int64),
                        np.floor(radius / bin_um).astype(np.int64)], axis=1)
        _, first, group = np.unique(key, axis=0, return_index=True, return_inverse=True)
        order = np.argsort(np.argsort(first))            # groups numbered by their first cell
        return order[group.ravel()]

    def field_projection(self, params, matrix):
        """population_kernel: all cables' kernel groups as one block system (compartments
        padded to the largest cable, K): per group g its cable's step Phi_g (K, K), its cells
        (members: circuit indices padded with N), the input map of each channel onto its
        compartments (C, K), or per member with depth targets (L, C, K), and its readout
        R_g = (mean over its cells of their (R, K) block of ``matrix``) times -L (their
        transmembrane currents from V), stored (K, R). The projected state is each group's
        summed V (G, K); with one placement per group the step sums each group's currents by
        ``cell_group`` (N,) (G: no group) instead of gathering ``members``. Point cells have no
        field and no group. per_cell: None (the cable's
        state is not one decaying state per channel)."""
        if self.options.field_scheme != "population_kernel":
            return None
        m = np.asarray(matrix, np.float64)
        r, n_cells, offset = m.shape[0], int(np.asarray(params["syn"]["pre_gain"]).shape[0]), 0
        classes = []
        for p in params["cable"]:
            n, k = p["cells"].shape[0], p["phi_t"].shape[0]
            block = m[:, offset:offset + n * k].reshape(r, n, k)
            offset += n * k
            if k > 1:
                classes.append((p, block))
        kmax = max([p["phi_t"].shape[0] for p, _ in classes], default=1)
        per_member = any(np.asarray(p["input"]).ndim == 3 for p, _ in classes)
        phis, inputs, readouts, members = [], [], [], []
        for p, block in classes:
            n, k = block.shape[1], block.shape[2]
            group = np.asarray(p["group"])
            g = int(group.max()) + 1
            counts = np.bincount(group, minlength=g)
            local = np.full((g, int(counts.max())), n, np.int64)        # padded with n (a zero row)
            order = np.argsort(group, kind="stable")
            local[group[order], np.arange(n) - np.repeat(np.cumsum(counts) - counts, counts)] = order
            members.append(np.append(np.asarray(p["cells"]), n_cells)[local])
            mean = np.zeros((g, r, k))
            np.add.at(mean, group, np.moveaxis(block, 1, 0))
            mean /= counts[:, None, None]
            neg_lap = (np.asarray(p["difference"], np.float64) * np.asarray(p["g_axial"], np.float64)[None, :]) \
                @ np.asarray(p["scatter"], np.float64)                     # (K, K): i = V @ neg_lap
            readout = np.zeros((g, kmax, r))
            readout[:, :k] = np.einsum("kj,grj->gkr", neg_lap, mean)
            readouts.append(readout)
            phi = np.zeros((kmax, kmax))
            phi[:k, :k] = np.asarray(p["phi_t"])
            phis.append(np.broadcast_to(phi, (g, kmax, kmax)))
            into = np.asarray(p["input"], np.float64)
            if per_member:                           # (g, L, C, K): each member's own placement
                cell_input = into if into.ndim == 3 else np.broadcast_to(into, (n,) + into.shape)
                cell_input = np.concatenate([cell_input, np.zeros((1,) + cell_input.shape[1:])])
                full = np.zeros(local.shape + (into.shape[-2], kmax))
                full[..., :k] = cell_input[local]
            else:
                full = np.zeros((g, into.shape[0], kmax))
                full[..., :k] = into
            inputs.append(full)
        if not classes:                              # only point cells: no field at all
            return None
        width = max(x.shape[1] for x in members)
        members = np.concatenate([np.pad(x, ((0, 0), (0, width - x.shape[1])), constant_values=n_cells)
                                  for x in members])
        if per_member:
            inputs = [np.pad(x, ((0, 0), (0, width - x.shape[1]), (0, 0), (0, 0))) for x in inputs]
        f32 = lambda x: jnp.asarray(np.concatenate(x), jnp.float32)
        out = {"phi": f32(phis), "input": f32(inputs), "readout": f32(readouts)}
        if per_member:
            out["members"] = jnp.asarray(members, jnp.int32)
        else:                                        # each cell's group (G: none), for a segment sum
            cell_group = np.full(n_cells + 1, members.shape[0], np.int64)
            rows = np.repeat(np.arange(members.shape[0]), members.shape[1])
            cell_group[members.ravel()] = rows
            out["cell_group"] = jnp.asarray(cell_group[:n_cells], jnp.int32)
        out["state0"] = jnp.zeros(out["readout"].shape[:2], jnp.float32)
        return out

    def step_projected(self, params, projection, state, projected, spikes, inputs: StepInputs = StepInputs()):
        """population_kernel: the synapses as in :meth:`step`; each kernel group's cable is
        driven by its cells' summed currents, and the field is the sum of the groups' readouts
        (one batched step for all groups)."""
        syn_p = params["syn"]
        if self.is_kinetic(syn_p):                    # the channel currents without forming the sources
            syn, i_syn, per_channel = self._advance_kinetic(syn_p, state["syn"], spikes, *inputs)
            current = syn_p["calibration"] * per_channel.reshape(-1, i_syn.shape[0])
        else:
            syn, i_syn, base = ReceptorExponentialSource.step(self, syn_p, state["syn"], spikes, inputs)
            current = -base[i_syn.shape[0]:].reshape(-1, i_syn.shape[0])
        # current: (C, N) channel currents into the cells (calibrated)
        if "members" in projection:                   # a placement per member: gather them (padding N reads 0)
            got = jnp.take(current, projection["members"], axis=1, mode="fill", fill_value=0.0)   # (C, G, L)
            drive_k = jnp.einsum("cgl,glck->gk", got, projection["input"])
        else:                                         # one placement per group: sum its cells' currents
            n_groups = projection["input"].shape[0]   # (a segment sum: ~4x faster on CPU than the gather)
            summed = jax.ops.segment_sum(current.T, projection["cell_group"], num_segments=n_groups + 1)
            drive_k = jnp.einsum("gc,gck->gk", summed[:n_groups], projection["input"])
        vg = jnp.einsum("gk,gkj->gj", projected, projection["phi"]) + drive_k
        return {**state, "syn": syn}, vg, i_syn, jnp.einsum("gk,gkr->r", vg, projection["readout"])

    def recorded_weights(self, params, state):
        return super().recorded_weights(params["syn"], state["syn"])

    def final_weights(self, params, state, n_edges: int):
        return super().final_weights(params["syn"], state["syn"], n_edges)

    def apply_tunables(self, params, values, circuit):
        return {**params, "syn": super().apply_tunables(params["syn"], values, circuit)}
