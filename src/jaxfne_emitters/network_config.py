"""The ``network`` section of a configuration: the column's geometry, layers and pathways.

Registered as a configuration section (``jaxfne_register_sections``) by this package: the
circuit builders of :mod:`jaxfne_emitters` read it, and every emitter's ``build(network)``
receives it. Lengths in um, delays in ms, weights native.
"""
from __future__ import annotations

from typing import Optional

import attrs

from jaxfne_core.validators import FieldValueError, number, one_of


def _check_counts(inst, attr, value):
    bad = {k: v for k, v in value.items() if isinstance(v, bool) or not isinstance(v, int) or v < 0}
    if bad or not value:
        raise FieldValueError(attr.name, f"'populations' must map cell types to counts >= 0, got {value!r}")


@attrs.frozen
class LayerConfig:
    """A cortical layer: depth range in um and its cell counts by cell type (e.g. {"E": 80})."""

    name: str
    top_um: float = attrs.field(validator=number(0))
    bottom_um: float = attrs.field(validator=number(0))
    populations: dict[str, int] = attrs.field(validator=_check_counts)

    def __attrs_post_init__(self):
        if not self.top_um < self.bottom_um:
            raise FieldValueError("bottom_um", f"layer {self.name!r}: top_um {self.top_um} must be above "
                                  f"(less than) bottom_um {self.bottom_um}")
        if "_" in self.name:
            raise FieldValueError("name", f"layer name {self.name!r} may not contain '_'")


@attrs.frozen
class PathwayConfig:
    """Connectivity from the cells of population(s) ``pre`` to those of ``post``: a population
    name (``L4_E``), a cell class (``E``: every population of that class) or ``*``.

    p: connection probability of each ordered pair (no self-connections), or indegree: the
    number of presynaptic partners of every postsynaptic cell (drawn without replacement).
    lateral_sigma_um: if set, a pair at lateral (x-y) distance r is weighted by
    exp(-r^2 / (2 sigma^2)) (p is the probability at r = 0; in-degree partners are drawn with
    that weight). weight: magnitude of the synaptic jump (native), drawn by weight_dist:
    ``uniform`` U(0, weight) (the default network's rule), ``constant``, ``normal``
    (mean weight, SD weight_sd, clipped at 0) or ``lognormal`` (mean weight, SD weight_sd); the
    sign is the presynaptic cell's. receptor: the receptor of these synapses (for sources with
    receptors; default: the presynaptic population's). delay_ms: transmission delay (default:
    the network's), uniform in delay_ms +- delay_spread_ms; sources round it to whole steps."""

    pre: str
    post: str
    p: Optional[float] = attrs.field(default=None, validator=attrs.validators.optional(number(0, 1)))
    indegree: Optional[int] = attrs.field(default=None, validator=attrs.validators.optional(number(0, 1_000_000)))
    weight: float = attrs.field(default=1.0, validator=number(0, 1e6))
    weight_dist: str = attrs.field(default="uniform", validator=one_of("uniform", "constant", "normal", "lognormal"))
    weight_sd: float = attrs.field(default=0.0, validator=number(0, 1e6))
    receptor: Optional[str] = None
    delay_ms: Optional[float] = attrs.field(default=None, validator=attrs.validators.optional(number(0, 1000)))
    delay_spread_ms: float = attrs.field(default=0.0, validator=number(0, 1000))
    lateral_sigma_um: Optional[float] = attrs.field(default=None,
                                                    validator=attrs.validators.optional(number(0, 10_000, lo_open=True)))

    def __attrs_post_init__(self):
        if (self.p is None) == (self.indegree is None):
            raise FieldValueError("p", f"pathway {self.name!r}: give exactly one of 'p' and 'indegree', got "
                                  f"p = {self.p!r}, indegree = {self.indegree!r}")
        if self.weight_sd > 0 and self.weight_dist not in ("normal", "lognormal"):
            raise FieldValueError("weight_sd", f"pathway {self.name!r}: weight_sd applies to 'normal' and "
                                  f"'lognormal' weights, not {self.weight_dist!r}")
        if self.weight_dist == "lognormal" and self.weight <= 0:
            raise FieldValueError("weight", f"pathway {self.name!r}: a lognormal weight needs a mean > 0")
        if self.delay_ms is not None and self.delay_spread_ms > self.delay_ms:
            raise FieldValueError("delay_spread_ms", f"pathway {self.name!r}: delay_spread_ms {self.delay_spread_ms} "
                                  f"exceeds delay_ms {self.delay_ms}; allowed: delays that stay >= 0")

    @property
    def name(self) -> str:
        return f"{self.pre}->{self.post}"


@attrs.frozen
class NetworkConfig:
    """The circuit's geometry and connectivity.

    name: the network's name. kind: the circuit's layout (``cortical_column``). layers: the
    cortical layers (:class:`LayerConfig`), each with its depth range and cell counts; without
    them the emitter's cell classes, in its own fractions, are interleaved over the depth.
    p_between_layers: with layers, the connection probability of pairs in different layers
    (default p_connect; p_connect applies within a layer). n: number of cells. thickness_um:
    cortical depth of the column (0 = pia, depth grows downward). radius_um: lateral radius
    in which somata are scattered. connectivity: how
    spikes reach their targets, all delivering the same charge for the same weights: ``dense``
    (N x N matrices), ``edge_list`` (``jax.ops.segment_sum`` over every edge each step),
    ``event`` (only the spiking cells' outgoing edges: work ~ spikes x fan-out), or ``auto``
    (event; with surrogate-gradient spikes, dense for small dense-enough networks, else the
    edge list). p_connect: connection probability for each ordered pair.
    weight_exc / weight_inh: magnitude of the synaptic-current jump (native units) one
    presynaptic spike causes; drawn uniformly in [0, weight]. seed: placement/connectivity seed.
    pathways: connectivity per (pre -> post) population pair (:class:`PathwayConfig`); when
    given they replace p_connect, p_between_layers and the weights above (pairs no pathway
    names stay unconnected). delay_ms / delay_spread_ms: transmission delay of every synapse
    without a pathway delay of its own, uniform in delay_ms +- spread (default: one step).
    """

    name: str = "column"
    kind: str = attrs.field(default="cortical_column", validator=one_of("cortical_column"))
    n: int = attrs.field(default=64, validator=number(1, 2_000_000))
    thickness_um: float = attrs.field(default=1600.0, validator=number(0, 10_000, lo_open=True))
    radius_um: float = attrs.field(default=100.0, validator=number(0, 10_000))
    connectivity: str = attrs.field(default="auto", validator=one_of("auto", "dense", "edge_list", "event"))
    p_connect: float = attrs.field(default=0.1, validator=number(0, 1))
    weight_exc: float = attrs.field(default=1.0, validator=number(0))
    weight_inh: float = attrs.field(default=2.0, validator=number(0))
    seed: int = attrs.field(default=0, validator=number(0, 2**32 - 1))
    layers: Optional[tuple[LayerConfig, ...]] = None
    p_between_layers: Optional[float] = attrs.field(default=None, validator=attrs.validators.optional(number(0, 1)))
    pathways: Optional[tuple[PathwayConfig, ...]] = None
    delay_ms: Optional[float] = attrs.field(default=None, validator=attrs.validators.optional(number(0, 1000)))
    delay_spread_ms: float = attrs.field(default=0.0, validator=number(0, 1000))

    def __attrs_post_init__(self):
        if self.pathways is not None and self.p_between_layers is not None:
            raise FieldValueError("p_between_layers", "not allowed with 'pathways', which set every pair's connectivity")
        if self.delay_spread_ms > (self.delay_ms if self.delay_ms is not None else 0.0):
            raise FieldValueError("delay_spread_ms", f"{self.delay_spread_ms} exceeds delay_ms {self.delay_ms}; "
                                  "allowed: a spread within the delay")
        if self.layers is None:
            if self.p_between_layers is not None:
                raise FieldValueError("p_between_layers", "needs 'layers'")
            return
        total = sum(sum(layer.populations.values()) for layer in self.layers)
        if total != self.n:
            raise FieldValueError("n", f"n = {self.n} but the layers hold {total} cells; allowed: n equal to the total")
        names = [layer.name for layer in self.layers]
        if len(set(names)) != len(names):
            raise FieldValueError("layers", f"layer names repeat: {names}")
        spans = sorted((layer.top_um, layer.bottom_um, layer.name) for layer in self.layers)
        for (t0, b0, n0), (t1, b1, n1) in zip(spans, spans[1:]):
            if t1 < b0:
                raise FieldValueError("layers", f"layers {n0!r} ({t0}-{b0} um) and {n1!r} ({t1}-{b1} um) overlap; "
                                      "allowed: layers that meet or leave gaps")
        for layer in self.layers:
            if layer.bottom_um > self.thickness_um:
                raise FieldValueError("layers", f"layer {layer.name!r} ends at {layer.bottom_um} um, below "
                                      f"the column (thickness_um = {self.thickness_um})")
