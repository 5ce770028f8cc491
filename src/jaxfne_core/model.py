"""Model: an assembled pipeline with its circuit, ready to simulate, read out, evaluate and tune.

A Model is immutable: ``tune`` returns a NEW model. Compiled functions are cached per
(steps, dt, modes), and parameters and seeds are arguments, so a second call with new data
does not recompile.
"""
from __future__ import annotations

import hashlib

from collections.abc import Iterable
import math
import numbers
import sys
import types
from typing import Optional

import attrs
import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from .assemble import Pipeline, assemble
from .claims import claims_to_json, truth_labels
from .config import Configuration, Simulation, config_from_dict, config_to_dict, load_config
from .engine import initial_carry, make_runner, projected_modes
from .errors import ConfigError, SimulationDivergedError, UnknownStageError, UsageError
from .memory import check_fits, run_bytes
from .receipts import make_receipt, run_warnings
from .signals import CONTACT_MODES, Signals
from .stages import ProjectingSource

PROGRESS_MIN_STEPS = 200_000  # auto progress bar for runs with more cell-steps x 1e-3 than this


@attrs.frozen(eq=False)
class ModelContext:
    """Static facts of a model carried by its Signals (cells, contacts, claims, units)."""

    population_names: tuple
    population: np.ndarray
    cell_positions_um: np.ndarray
    contact_positions_um: np.ndarray
    claims: dict
    source_positions_um: "np.ndarray | None" = None
    source_cell: "np.ndarray | None" = None
    v_m_cells: "np.ndarray | None" = None          # the cells whose V_m is recorded (None: all)


@attrs.frozen(eq=False)
class RunContext:
    model: ModelContext
    simulation: Simulation
    tuned: tuple = ()


class Model:
    """An assembled, built pipeline. Create with :func:`construct`."""

    def __init__(self, pipeline: Pipeline, circuit=None, tuned: Optional[dict] = None):
        self.pipeline = pipeline
        self.circuit = circuit if circuit is not None else pipeline.emitter.build(pipeline.config.network)
        self._given_circuit = circuit is not None        # not drawn from the config: the receipt hashes it
        self.emitter = pipeline.emitter.bind(self.circuit)       # the stage that steps this circuit
        self.stages = {**pipeline.stages, "emitter": self.emitter}
        self.tuned = dict(tuned or {})
        st = pipeline
        self._source_positions = st.source.positions_um(self.circuit)
        self._source_segments = st.source.segments_um(self.circuit)
        self._probe_geometry = st.probe.geometry(self.circuit)
        self._contacts = self._probe_geometry.positions_um
        self._context = ModelContext(self.circuit.population_names, self.circuit.population,
                                     self.circuit.positions_um, self._contacts, dict(pipeline.claims),
                                     np.asarray(self._source_positions, np.float64),
                                     np.asarray(st.source.cell_of_source(self.circuit)),
                                     st.probe.recorded_cells(self.circuit, "V_m"))
        self._params: dict = {}
        self._compiled: dict = {}
        self.warnings: tuple = tuple(st.probe.check(self.circuit, self._probe_geometry))
        if "weights" in st.probe.modes and not st.source.records_weights:
            raise ConfigError([("$.probe.modes", f"'weights' records plastic synapses, but source "
                                f"{st.source.name!r} has none; allowed: a source with plasticity rules")])
        per_source = sorted({"sources", "dipole"} & set(st.probe.modes))
        if per_source and isinstance(st.source, ProjectingSource) and st.source.projection_only:
            raise ConfigError([("$.probe.modes", f"{per_source} need each source's current, but source "
                                f"{st.source.label!r} forms only its field's projection; allowed: the other "
                                "modes, or the source's exact scheme")])
        self._weight_synapses = (np.asarray(st.source.recorded_synapses(self.circuit))
                                 if "weights" in st.probe.modes else None)
        unknown = sorted(set(self.tuned) - set(self.tunables()))
        if unknown:
            raise ConfigError([("tuned", f"unknown tunable(s) {unknown}; allowed: {sorted(self.tunables())}")])

    # ------------------------------------------------------------------ properties
    @property
    def config(self) -> Configuration:
        return self.pipeline.config

    @property
    def claims(self) -> dict:
        return dict(self.pipeline.claims)

    @property
    def truth(self) -> dict:
        return truth_labels(self.pipeline.claims)

    @property
    def registry(self):
        return self.pipeline.registry

    @property
    def n_cells(self) -> int:
        return self.circuit.n_cells

    @property
    def contact_positions_um(self) -> np.ndarray:
        return self._contacts

    @property
    def parameter_bytes(self) -> int:
        """Bytes of the parameter pytrees built so far (connectivity tables, field operators)."""
        return sum(int(np.prod(x.shape)) * x.dtype.itemsize for p in self._params.values()
                   for x in jax.tree.leaves(p))

    @property
    def probe_geometry(self):
        return self._probe_geometry

    @property
    def source_positions_um(self) -> np.ndarray:
        return self._source_positions

    @property
    def weight_synapses(self):
        """(K,) circuit edge index of each column of the ``weights`` recording, or None."""
        return self._weight_synapses

    @property
    def v_m_cells(self):
        """(K,) indices of the cells whose V_m is recorded (the probe's ``v_m_cells``), or None: all."""
        return self._context.v_m_cells

    def units(self) -> dict:
        cal = getattr(self.claims.get("source_calibration"), "value", "native")
        native = getattr(self.emitter.provides({}).get("source_calibration"), "value", "native")
        out = {"spikes": "1", "V_m": "mV", "sources": cal, "weights": native,
               "dipole": f"{cal}*um"}
        if self.pipeline.field is not None:
            out.update(self.pipeline.field.units(self.claims))
        return {k: v for k, v in out.items() if k in self.pipeline.probe.modes}

    def __repr__(self):
        p = self.pipeline
        names = " -> ".join(s.label for s in (p.emitter, p.source, p.field, p.probe) if s is not None)
        return f"<Model n={self.n_cells} {names}>"

    # ------------------------------------------------------------------ parameters
    def tunables(self) -> dict:
        """name -> (current value, lower, upper) of every tunable scalar."""
        p = self.pipeline
        out = {f"emitter.{k}": v for k, v in self.emitter.tunables(self.circuit).items()}
        out.update({f"source.{k}": v for k, v in p.source.tunables(self.circuit).items()})
        if p.field is not None:
            out.update({f"field.{k}": v for k, v in p.field.tunables(self.circuit).items()})
        return {k: ((self.tuned[k],) + tuple(v[1:]) if k in self.tuned else v) for k, v in out.items()}

    def apply_tunables(self, params, values: dict):
        """Pure: params with ``values`` ({'emitter.drive.E': x, ...}) applied."""
        p, c = self.pipeline, self.circuit
        em = {k[len("emitter."):]: v for k, v in values.items() if k.startswith("emitter.")}
        sr = {k[len("source."):]: v for k, v in values.items() if k.startswith("source.")}
        fl = {k[len("field."):]: v for k, v in values.items() if k.startswith("field.")}
        out = {**params, "emitter": self.emitter.apply_tunables(params["emitter"], em, c),
               "source": p.source.apply_tunables(params["source"], sr, c)}
        gains = p.field.readout_gains(fl) if fl and p.field is not None else {}
        if gains:
            out["readout_gain"] = {**params.get("readout_gain", {}), **gains}
        return out

    def params(self, dt_ms: float) -> dict:
        """The parameter pytree for step ``dt_ms`` (cached; tuned values applied)."""
        if dt_ms not in self._params:
            p = self.pipeline
            params = {"emitter": self.emitter.init_params(self.circuit),
                      "source": p.source.init_params(self.circuit, dt_ms)}
            if p.field is not None:
                extent = {} if self._source_segments is None else {"segments_um": self._source_segments}
                params["field"] = p.field.operator(self._source_positions, self._probe_geometry,
                                                   self.circuit, **extent)
                projection = self._field_projection(params)
                if projection is not None:
                    params["projection"] = projection
            params["drive"] = {"W": jnp.zeros((0, self.n_cells), jnp.float32)}
            reference = p.probe.lfp_reference(len(self._contacts))
            if reference is not None and p.field is not None:
                params["lfp_reference"] = jnp.asarray(reference, jnp.float32)
            record = {}
            if self._context.v_m_cells is not None:
                record["V_m"] = jnp.asarray(self._context.v_m_cells, jnp.int32)
            if "dipole" in p.probe.modes:
                record["dipole"] = jnp.asarray(self.dipole_matrix(), jnp.float32)
            if record:
                params["record"] = record
            if self.tuned:
                params = self.apply_tunables(params, {k: jnp.float32(v) for k, v in self.tuned.items()})
            self._params[dt_ms] = params
        return self._params[dt_ms]

    def dipole_matrix(self) -> np.ndarray:
        """(S, (P + 1) * 3) the map from the sources' currents to the ``dipole`` signal:
        sum_s i_s r_s over each population's sources (by the source's cell), then over all;
        r in um (x, y, depth)."""
        ctx = self._context
        if ctx.source_positions_um is None or ctx.source_cell is None:
            raise ConfigError([("$.probe.modes", f"'dipole' needs a source with positions and a cell for each "
                                f"source; source {self.pipeline.source.label!r} has none; allowed: other modes")])
        pos = np.asarray(ctx.source_positions_um, np.float64)
        pop = np.asarray(ctx.population)[np.asarray(ctx.source_cell)]
        n_pop = len(ctx.population_names)
        w = np.zeros((pos.shape[0], n_pop + 1, 3))
        w[np.arange(pos.shape[0]), pop] = pos
        w[:, n_pop] = pos
        return w.reshape(pos.shape[0], -1)

    def _field_projection(self, params):
        """The source's projection of the field readout rows of the recorded modes among LFP
        and CSD (only when the transmembrane currents themselves are not recorded), or None."""
        p, modes = self.pipeline, self.pipeline.probe.modes
        if not isinstance(p.source, ProjectingSource) or {"sources", "dipole"} & set(modes) \
                or not set(CONTACT_MODES) & set(modes):
            return None
        matrix = p.field.readout_matrix(params["field"], self._source_positions.shape[0])
        recorded = projected_modes(modes)
        if len(recorded) == 1:          # project only the recorded mode's rows (half the work)
            matrix = matrix[np.asarray(p.field.split_readout(np.arange(matrix.shape[0]))[recorded[0]])]
        return p.source.field_projection(params["source"], matrix)

    # ------------------------------------------------------------------ simulation
    def cached(self, key, build):
        """The compiled function cached under ``key`` on this model, built by ``build()`` the
        first time (so a second call with new data reuses it)."""
        if key not in self._compiled:
            self._compiled[key] = build()
        return self._compiled[key]

    @property
    def compiled(self) -> dict:
        """Read-only view of the compiled functions cached on this model (key -> function)."""
        return dict(self._compiled)

    def runner(self, n_steps: int, dt_ms: float):
        """The jitted ``(params, key, carry, t0, inputs) -> (carry, outputs)`` of ``n_steps`` steps."""
        return self._runner(n_steps, dt_ms)

    def _runner(self, n_steps: int, dt_ms: float, record: bool = True):
        key = (n_steps, dt_ms) if record else (n_steps, dt_ms, "warmup")
        if key not in self._compiled:
            self._compiled[key] = jax.jit(make_runner(self.stages, self.pipeline.probe.modes if record else (),
                                                      n_steps, dt_ms, self.pipeline.probe.samples_per_record(dt_ms)
                                                      if record else 1))
        return self._compiled[key]

    def full_run(self, sim: Simulation, n_steps: Optional[int] = None, gradient_window: Optional[int] = None):
        """Pure ``(params, key[, inputs]) -> (carry, outputs)`` for a whole run (for vmap/jit).

        inputs: (steps, K) drive time courses; default none (K = 0). Without ``n_steps`` the
        run is ``sim``'s, its warmup (``sim.warmup_ms``) simulated unrecorded.
        gradient_window: truncated backpropagation: the recorded steps run in windows of this
        many steps and gradients do not flow from one window's state into the next (nor from
        the warmup); values are unchanged. It must divide the recorded steps and be a whole
        number of recorded samples.
        """
        warm = sim.warmup_steps if n_steps is None else 0
        n_steps = sim.n_steps if n_steps is None else n_steps
        every = self.pipeline.probe.samples_per_record(sim.dt_ms)
        rec = n_steps - warm
        window = rec if gradient_window is None else int(gradient_window)
        if gradient_window is not None and (window < 1 or rec % window or window % every):
            raise ConfigError([("gradient_window_steps", f"{gradient_window} does not split the {rec} recorded steps "
                                f"into whole windows of whole samples ({every} steps each)")])
        chunk = make_runner(self.stages, self.pipeline.probe.modes, window, sim.dt_ms, every)
        warmup = make_runner(self.stages, (), warm, sim.dt_ms) if warm else None
        truncate = gradient_window is not None

        def cut(carry):
            return jax.tree.map(lambda x: jax.lax.stop_gradient(x) if jnp.issubdtype(x.dtype, jnp.inexact) else x,
                                carry)

        def run(params, key, carry, t0, inputs):
            if not truncate:
                return chunk(params, key, carry, t0, inputs)

            def one(c, xs):
                i, inp = xs
                return chunk(params, key, cut(c), t0 + i * window, inp)
            carry, outs = jax.lax.scan(one, carry, (jnp.arange(rec // window, dtype=jnp.int32),
                                                    inputs.reshape(rec // window, window, inputs.shape[-1])))
            return carry, jax.tree.map(lambda x: x.reshape(-1, *x.shape[2:]), outs)

        def full(params, key, inputs=None):
            if inputs is None:
                inputs = jnp.zeros((n_steps, params["drive"]["W"].shape[0]), jnp.float32)
            carry = initial_carry(self.stages, params, self.n_cells)
            if warmup is not None:
                carry, _ = warmup(params, key, carry, jnp.int32(0), inputs[:warm])
                if truncate:
                    carry = cut(carry)
            return run(params, key, carry, jnp.int32(warm), inputs[warm:])
        return full

    def check_simulation(self, sim: Simulation) -> None:
        """Refuse ``sim`` where this model could not run it (recording interval, memory)."""
        every = self.steps_per_record(sim)
        check_fits(run_bytes(self, (sim.n_steps - sim.warmup_steps) // every), "this simulation")

    def steps_per_record(self, sim: Simulation) -> int:
        """Steps per recorded sample; refuses a recorded duration that is not a whole number of them."""
        every = self.pipeline.probe.samples_per_record(sim.dt_ms)
        if (sim.n_steps - sim.warmup_steps) % every:
            what = (f"{sim.duration_ms} ms" if not sim.warmup_ms else
                    f"{sim.duration_ms - sim.warmup_ms} ms (recorded: duration_ms - warmup_ms)")
            raise ConfigError([("$.simulation.duration_ms", f"{what} is not a whole number of recorded samples of "
                                f"{every * sim.dt_ms} ms (probe.sample_interval_ms)")])
        return every

    def record_dt_ms(self, dt_ms: float) -> float:
        """Time between recorded samples (ms)."""
        return dt_ms * self.pipeline.probe.samples_per_record(dt_ms)

    def make_signals(self, arrays, sim) -> Signals:
        """Signals of this model from recorded ``arrays`` (mode -> (T, X) or (B, T, X)) of ``sim``."""
        return Signals(arrays, self.record_dt_ms(sim.dt_ms), self.units(),
                       RunContext(self._context, sim, tuple(sorted(self.tuned.items()))), t0_ms=sim.warmup_ms)

    def simulate(self, sim: Optional[Simulation] = None, *, progress: Optional[bool] = None) -> Signals:
        """Run one trial. ``sim`` defaults to the configuration's simulation section.

        progress: show a tqdm bar (runs in ~20 chunks; the result is identical). Default: on
        for long runs when stderr is a terminal.
        """
        return self.simulate_with_state(sim, progress=progress)[0]

    def simulate_with_state(self, sim: Optional[Simulation] = None, *, progress: Optional[bool] = None):
        """:meth:`simulate`, also returning the state at the end of the run:
        ``(signals, {"emitter": ..., "source": ...})`` (e.g. for :meth:`final_weights`)."""
        sim = sim if sim is not None else self.config.simulation
        if not isinstance(sim, Simulation):
            raise UsageError(f"simulate() needs a Simulation (jaxfne.simulation(...)), got {sim!r}")
        n, dt, warm = sim.n_steps, sim.dt_ms, sim.warmup_steps
        params = self.params(dt)
        every = self.steps_per_record(sim)
        check_fits(run_bytes(self, (n - warm) // every), "this simulation")
        key = jax.random.key(sim.seed)
        carry = initial_carry(self.stages, params, self.n_cells)
        if progress is None:
            progress = sys.stderr.isatty() and n * self.n_cells > PROGRESS_MIN_STEPS * 1000
        chunk = max(1, math.ceil(n / 20 / every)) * every if progress else n
        no_inputs = jnp.zeros((max(chunk, warm), 0), jnp.float32)
        bar = None
        if progress:
            bar = tqdm(total=n, unit="step", desc="simulate")
        t = 0
        if warm:                          # simulated, not recorded
            carry, _ = self._runner(warm, dt, record=False)(params, key, carry, jnp.int32(0), no_inputs[:warm])
            t = warm
            if bar is not None:
                bar.update(warm)
        outs = []
        while t < n:
            size = min(chunk, n - t)
            carry, out = self._runner(size, dt)(params, key, carry, jnp.int32(t), no_inputs[:size])
            outs.append(out)
            t += size
            if bar is not None:
                bar.update(size)
        if bar is not None:
            bar.close()
        arrays = outs[0] if len(outs) == 1 else jax.tree.map(lambda *xs: jnp.concatenate(xs), *outs)
        self._check_finite(int(carry["bad_step"]), int(carry["bad_cell"]), sim)
        self._check_outputs_finite(arrays, sim)
        return self.make_signals(arrays, sim), {"emitter": carry["emitter"], "source": carry["source"]}

    def final_weights(self, state, dt_ms: Optional[float] = None) -> np.ndarray:
        """(E,) signed weights of the circuit's edges in a run's final ``state``
        (:meth:`simulate_with_state`): a plastic source's learned weights."""
        if not self.pipeline.source.records_weights:
            raise UsageError(f"source {self.pipeline.source.name!r} has no plastic synapses; its weights are "
                             "the circuit's (model.circuit.weight)")
        params = self.params(self.config.simulation.dt_ms if dt_ms is None else dt_ms)
        return np.asarray(self.pipeline.source.final_weights(params["source"], state["source"],
                                                             self.circuit.n_edges))

    def with_weights(self, weights) -> "Model":
        """The same model on the same circuit with edge weights ``weights`` (E,) (signed, native
        units), e.g. :meth:`final_weights` of a plastic run, to continue from them. The
        receipt hashes the given circuit."""
        w = np.asarray(weights, np.float32)
        if w.shape != (self.circuit.n_edges,) or not np.all(np.isfinite(w)):
            raise UsageError(f"weights must be {self.circuit.n_edges} finite numbers (one per edge), got shape "
                             f"{w.shape}")
        return Model(self.pipeline, attrs.evolve(self.circuit, weight=w), self.tuned)

    def simulate_batch(self, sim: Optional[Simulation] = None, seeds=None) -> Signals:
        """Run one trial per seed in parallel (``vmap``); arrays gain a leading trial axis."""
        sim = sim if sim is not None else self.config.simulation
        if not isinstance(sim, Simulation):
            raise UsageError(f"simulate_batch() needs a Simulation (jaxfne.simulation(...)), got {sim!r}")
        seeds = np.asarray(check_seeds(seeds) if seeds is not None else [sim.seed], np.uint32)
        every = self.steps_per_record(sim)
        key = ("batch", sim.n_steps, sim.dt_ms, sim.warmup_steps)
        if key not in self._compiled:
            self._compiled[key] = jax.jit(jax.vmap(self.full_run(sim), in_axes=(None, 0)))
        keys = jax.vmap(jax.random.key)(jnp.asarray(seeds))
        params = self.params(sim.dt_ms)
        check_fits(run_bytes(self, (sim.n_steps - sim.warmup_steps) // every, len(seeds)),
                   f"a batch of {len(seeds)} runs")
        carry, arrays = self._compiled[key](params, keys)
        bad = np.asarray(carry["bad_step"])
        for i in np.nonzero(bad >= 0)[0]:
            self._check_finite(int(bad[i]), int(np.asarray(carry["bad_cell"])[i]),
                               attrs.evolve(sim, seed=int(seeds[i])))
        self._check_outputs_finite(arrays, sim, seeds=seeds)
        return self.make_signals(arrays, sim)

    def _check_finite(self, bad_step: int, bad_cell: int, sim: Simulation):
        if bad_step < 0:
            return
        c = self.circuit
        where = "in an unidentified cell"
        if 0 <= bad_cell < c.n_cells:          # the reporter never indexes out of range
            pop = c.population_names[c.population[bad_cell]]
            where = f"in cell {bad_cell} (population {pop}, depth {c.positions_um[bad_cell, 2]:.1f} um)"
        raise SimulationDivergedError(
            f"emitter {self.pipeline.emitter.name!r}: V_m became non-finite at t = {(bad_step + 1) * sim.dt_ms:.4g} ms "
            f"(step {bad_step}) {where}, seed {sim.seed}, dt {sim.dt_ms} ms; reduce dt_ms, drive or weights")

    def _check_outputs_finite(self, arrays, sim: Simulation, seeds=None):
        """Refuse recorded signals holding NaN or inf, naming the stage, the time, the contact
        (or cell) and its depth: one reduction per mode, the search only where one is found."""
        stage_of = {"LFP": "field", "CSD": "field", "sources": "source", "V_m": "emitter"}
        for mode, x in arrays.items():
            if mode == "spikes" or bool(jnp.all(jnp.isfinite(x))):
                continue
            bad = np.argwhere(~np.isfinite(np.asarray(x)))[0]
            trial, (sample, index) = (bad[0], bad[1:]) if x.ndim == 3 else (None, bad)
            stage = stage_of.get(mode, "probe")
            label = getattr(getattr(self.pipeline, stage, None), "name", stage)
            t_ms = (int(sample) + 1) * self.record_dt_ms(sim.dt_ms)
            if mode in ("LFP", "CSD"):
                what = f"contact {int(index)} (depth {self._contacts[int(index) % len(self._contacts), 2]:.1f} um)"
            elif mode == "sources":
                what = f"source point {int(index)} (depth {self._source_positions[int(index), 2]:.1f} um)"
            else:
                pop = self.circuit.population_names[self.circuit.population[int(index)]]
                what = f"cell {int(index)} (population {pop})"
            seed = sim.seed if trial is None else int(seeds[int(trial)])
            raise SimulationDivergedError(
                f"{stage} {label!r}: {mode} became non-finite at t = {t_ms:.4g} ms (sample {int(sample)}) on "
                f"{what}, seed {seed}; the currents feeding it overflow float32: reduce weights, drive or "
                "calibration, or check the field's conductivity")

    # ------------------------------------------------------------------ methods plugins add
    def __getattr__(self, name: str):
        """The model methods plugins register (``jaxfne_register_model_methods``): ``evaluate``,
        ``check_objective``, ``objective_config``, ``compute_readout`` (jaxfne_objectives),
        ``tune`` (jaxfne_optim), ``run_trials``, ``check_task``, ``simulate_trial``, ``paradigm``
        (jaxfne_tasks), each a function called with this model first."""
        if name.startswith("_") or "pipeline" not in self.__dict__:
            raise AttributeError(name)
        return self.plugin_method(name)

    def plugin_method(self, name: str):
        """The registered model method ``name`` bound to this model (also what a subclass that
        overrides one calls for the registered behaviour)."""
        try:
            function = self.registry.get("method", name).value
        except UnknownStageError as e:
            raise AttributeError(f"Model has no attribute {name!r}: {e}; model methods come from plugins "
                                 "(jaxfne_register_model_methods)") from None
        return types.MethodType(function, self)

    def __dir__(self):
        methods = self.registry.names("method") if "method" in self.registry.kinds else []
        return sorted(set(super().__dir__()) | set(methods))

    def run_receipt(self, signals: Signals):
        """A :class:`RunReceipt` for ``signals`` produced by this model."""
        ctx = signals.context
        if not isinstance(ctx, RunContext) or ctx.model is not self._context:
            raise UsageError("run_receipt() needs Signals produced by this model's simulate()")
        return self.receipt(signals, ctx.simulation)

    def receipt(self, signals: Signals, sim: Simulation, diagnostics: Optional[dict] = None):
        """A :class:`RunReceipt` of this model for ``signals`` recorded under ``sim`` (its id
        covers the configuration with ``sim``, tuned values and a given circuit's digest);
        ``diagnostics`` join the field's (e.g. a trial batch's failures)."""
        cfg_dict = config_to_dict(attrs.evolve(self.config, simulation=sim), self.registry)
        if self.tuned:
            cfg_dict = {**cfg_dict, "tuned_parameters": {k: float(v) for k, v in sorted(self.tuned.items())}}
        if self._given_circuit:
            cfg_dict = {**cfg_dict, "network_sha256": circuit_digest(self.circuit)}
        found = {}
        if self.pipeline.field is not None:
            found = self.pipeline.field.diagnostics(signals.arrays.get("LFP"), signals.arrays.get("CSD"))
        return make_receipt(cfg_dict, sim, signals, claims_to_json(self.claims), self.truth,
                            {**found, **(diagnostics or {})}, self.warnings + run_warnings(signals),
                            self.pipeline.provenance)

    # ------------------------------------------------------------------ tuned values
    def with_tuned(self, values: dict) -> "Model":
        """A new model (same pipeline and circuit) with tunables ``values`` set on top of this one's."""
        model = Model(self.pipeline, self.circuit, {**self.tuned, **values})
        model._given_circuit = self._given_circuit
        return model


def circuit_digest(circuit) -> str:
    """SHA-256 of a circuit's cells and edges (names, populations, positions, signs, edges,
    weights, delays, pathways): what a receipt records of a network given to the Model."""
    h = hashlib.sha256(repr((circuit.population_names, circuit.connectivity, float(circuit.thickness_um),
                             [(p.name, p.receptor) for p in circuit.pathways])).encode())
    for a in (circuit.population, circuit.positions_um, circuit.excitatory, circuit.pre, circuit.post,
              circuit.weight, circuit.delay_ms, circuit.edge_pathway):
        if a is not None:
            a = np.ascontiguousarray(a)
            h.update(f"{a.dtype}{a.shape}".encode())
            h.update(a.tobytes())
    return h.hexdigest()


def construct(cfg, *, registry=None) -> Model:
    """Assemble and build a Model from a Configuration, a builder (anything with ``build()``
    returning one, such as ``jaxfne.configuration()...``), a dict or a .jcfg.json path."""
    if not isinstance(cfg, Configuration) and callable(getattr(cfg, "build", None)):
        cfg = cfg.build()
    elif isinstance(cfg, dict):
        cfg = config_from_dict(cfg, registry)
    elif isinstance(cfg, (str, bytes)) or hasattr(cfg, "__fspath__"):
        cfg = load_config(cfg, registry)
    if not isinstance(cfg, Configuration):
        raise UsageError(f"construct() needs a configuration, got {type(cfg).__name__}")
    return Model(assemble(cfg, registry))


def check_seeds(seeds) -> list[int]:
    """Seeds as Python ints: a non-empty iterable (not a string) of integers (Python or NumPy)
    in 0 .. 2**32 - 1; anything else is refused, naming the offending entry."""
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable):
        raise ConfigError([("seeds", f"{seeds!r}; allowed: a non-empty list of integers 0 .. 2**32 - 1")])
    out = []
    for i, s in enumerate(seeds):
        if isinstance(s, (bool, np.bool_)) or not isinstance(s, numbers.Integral) or not 0 <= int(s) <= 2**32 - 1:
            raise ConfigError([(f"seeds[{i}]", f"{s!r}; allowed: integers 0 .. 2**32 - 1")])
        out.append(int(s))
    if not out:
        raise ConfigError([("seeds", "empty; allowed: a non-empty list of integers 0 .. 2**32 - 1")])
    return out


def simulation(duration_ms: float = 100.0, dt_ms: float = 0.1, seed: int = 0, warmup_ms: float = 0.0) -> Simulation:
    """A :class:`Simulation`: duration and step (ms), seed, unrecorded warmup (ms)."""
    return Simulation(duration_ms, dt_ms, seed, warmup_ms)
