"""The model the facade's ``construct`` returns: :class:`jaxfne_core.Model` plus the calls of the
reference's page that need more than the core host (stimulus schedules, trial batches,
laminar geometry, the manifest, source readouts from any probe).

Everything here runs through the core model's compiled runs: a schedule is one drive channel
of the engine's ``inputs``; a trial batch is one ``vmap`` over seeds and schedules.
"""
from __future__ import annotations

import weakref
from typing import Optional

import attrs
import jax
import jax.numpy as jnp
import numpy as np

from jaxfne_core.assemble import assemble
from jaxfne_core.config import Simulation, config_from_dict, config_to_dict, load_config
from jaxfne_core.errors import JaxfneError, SimulationDivergedError, UsageError
from jaxfne_core.memory import check_fits, run_bytes
from jaxfne_core.model import Model, check_seeds
from jaxfne_core.model import construct as core_construct
from jaxfne_optim.problem import json_safe

from .builder import ConfigBuilder, from_config
from .stimulus import StimulusSchedule, stimulus_schedule
from .trial_batch import TrialBatch, TrialBatchResult, TrialResult

MANIFEST_SCHEMA = "jaxfne.manifest.v1"


class ReferenceModel(Model):
    """A :class:`jaxfne_core.Model` with the reference page's extra calls (see the module)."""

    geometry = None

    def __init__(self, pipeline, circuit=None, tuned=None):
        super().__init__(pipeline, circuit, tuned)
        self._drives = weakref.WeakKeyDictionary()     # signals -> the drive course that made them

    def with_tuned(self, values: dict) -> "ReferenceModel":
        m = ReferenceModel(self.pipeline, self.circuit, {**self.tuned, **values})
        m._given_circuit, m.geometry = self._given_circuit, self.geometry
        return m

    # ------------------------------------------------------------------ driven runs
    def driven_runs(self, sim: Simulation, courses, seeds):
        """Runs with a drive common to every cell: courses (B, sim.n_steps) in drive units,
        seeds (B,) -> (carry, arrays with a leading B axis), one jitted ``vmap``."""
        courses = np.asarray(courses, np.float32)
        seeds = np.asarray(check_seeds(list(seeds)), np.uint32)
        every = self.steps_per_record(sim)
        check_fits(run_bytes(self, (sim.n_steps - sim.warmup_steps) // every, len(seeds)),
                   f"a batch of {len(seeds)} runs")
        params = {**self.params(sim.dt_ms), "drive": {"W": jnp.ones((1, self.n_cells), jnp.float32)}}
        run = self.cached(("reference_drive", sim.n_steps, sim.dt_ms, sim.warmup_steps),
                          lambda: jax.jit(jax.vmap(self.full_run(sim), in_axes=(None, 0, 0))))
        keys = jax.vmap(jax.random.key)(jnp.asarray(seeds))
        return run(params, keys, jnp.asarray(courses[..., None]))

    def _failure(self, carry, arrays, sim, b, seed) -> Optional[str]:
        """The divergence message of trial ``b``, or None."""
        one = attrs.evolve(sim, seed=int(seed))
        try:
            self._check_finite(int(np.asarray(carry["bad_step"])[b]), int(np.asarray(carry["bad_cell"])[b]), one)
            self._check_outputs_finite({k: v[b] for k, v in arrays.items()}, one)
        except JaxfneError as e:
            return str(e)
        return None

    def simulate(self, sim: Optional[Simulation] = None, *, progress: Optional[bool] = None, paradigm=None,
                 drive_amplitude: float = 5.0, prestim_ms: float = 0.0):
        """One trial; ``paradigm``: a :class:`~jaxfne.stimulus.StimulusSchedule` or a paradigm
        condition (its events become a schedule of ``drive_amplitude``, alignment event at
        ``prestim_ms``), added to every cell's input."""
        if paradigm is None:
            return super().simulate(sim, progress=progress)
        sim = sim if sim is not None else self.config.simulation
        if not isinstance(sim, Simulation):
            raise UsageError(f"simulate() needs a Simulation (jaxfne.simulation(...)), got {sim!r}")
        schedule = self._schedule(paradigm, drive_amplitude, prestim_ms)
        course = schedule.time_course(sim.n_steps, sim.dt_ms)
        carry, arrays = self.driven_runs(sim, course[None], [sim.seed])
        message = self._failure(carry, arrays, sim, 0, sim.seed)
        if message is not None:
            raise SimulationDivergedError(message)
        signals = self.make_signals({k: v[0] for k, v in arrays.items()}, sim)
        self._drives[signals] = course
        return signals

    def simulate_condition(self, sim: Simulation, condition, drive_amplitude: float = 5.0, prestim_ms: float = 0.0):
        """One trial of a paradigm condition (its events as a schedule; see :meth:`simulate`)."""
        return self.simulate(sim, paradigm=condition, drive_amplitude=drive_amplitude, prestim_ms=prestim_ms)

    def _schedule(self, paradigm, drive_amplitude, prestim_ms) -> StimulusSchedule:
        if isinstance(paradigm, StimulusSchedule):
            if paradigm.n_neurons != self.n_cells:
                raise UsageError(f"the schedule drives {paradigm.n_neurons} neurons, the model has {self.n_cells}")
            return paradigm
        if hasattr(paradigm, "events") and hasattr(paradigm, "name"):
            return stimulus_schedule(paradigm.events, self.n_cells, drive_amplitude=drive_amplitude,
                                     prestim_ms=prestim_ms)
        raise UsageError(f"paradigm= takes a StimulusSchedule or a paradigm condition, got {paradigm!r}")

    # ------------------------------------------------------------------ trials
    def run_trials(self, task=None, sim: Optional[Simulation] = None, *, collect_errors: bool = False):
        """A :class:`~jaxfne.trial_batch.TrialBatch` -> :class:`TrialBatchResult` (all trials in
        one ``vmap``); anything else is the registered task runner (``jaxfne_tasks``)."""
        if not isinstance(task, TrialBatch):
            return self.plugin_method("run_trials")(task, sim)
        sim = sim if sim is not None else self.config.simulation
        batch = task
        if not batch.trials:
            return TrialBatchResult(batch.batch_id, (), dict(batch.metadata))
        courses = np.stack([np.zeros(sim.n_steps, np.float32) if t.condition is None else
                            self._schedule(t.condition, batch.drive_amplitude, batch.prestim_ms)
                            .time_course(sim.n_steps, sim.dt_ms) for t in batch.trials])
        seeds = [t.seed for t in batch.trials]
        carry, arrays = self.driven_runs(sim, courses, seeds)
        results = []
        for b, t in enumerate(batch.trials):
            message = self._failure(carry, arrays, sim, b, t.seed)
            if message is not None and not collect_errors:
                    raise SimulationDivergedError(f"trial {t.trial_id}: {message}")
            one = attrs.evolve(sim, seed=int(t.seed))
            signals = None
            if message is None:
                signals = self.make_signals({k: v[b] for k, v in arrays.items()}, one)
                self._drives[signals] = courses[b]
            results.append(TrialResult(t.trial_id, getattr(t.condition, "name", None), signals, message is None,
                                       message, dict(t.metadata)))
        return TrialBatchResult(batch.batch_id, tuple(results), dict(batch.metadata))

    # ------------------------------------------------------------------ readouts
    def compute_readout(self, signals, specs):
        """As the core's, and a metric of the transmembrane sources (``source_abs_mean``) also
        when the probe did not record them: the same run (same seed, same drive) is simulated
        again recording them, which reproduces it exactly (runs are deterministic)."""
        specs = list(specs)
        needs = [s for s in specs if self._metric_mode(s) == "sources"]
        if not needs or "sources" in signals:
            return self.plugin_method("compute_readout")(signals, specs)
        sources = self._sources_of(signals)
        merged = type(signals)({**signals.arrays, "sources": sources}, signals.dt_ms,
                               {**signals.units, "sources": self.sources_units()}, signals.context, signals.t0_ms)
        return self.plugin_method("compute_readout")(merged, specs)

    def _metric_mode(self, spec):
        name = spec.metric if hasattr(spec, "metric") else spec[1]
        try:
            return self.registry.get("objective", name).value.mode
        except JaxfneError:
            return None

    def sources_units(self) -> str:
        return getattr(self.claims.get("source_calibration"), "value", "native")

    def _sources_of(self, signals):
        if signals.context is None or signals.arrays.get("spikes", np.zeros(0)).ndim > 2:
            raise UsageError("source metrics of unrecorded sources need the signals of one run of this model")
        sim = signals.context.simulation
        data = config_to_dict(self.config, self.registry)
        data["probe"] = {**data["probe"], "modes": list(dict.fromkeys(list(data["probe"].get("modes", [])) + ["sources"]))}
        twin = Model(assemble(config_from_dict(data, self.registry), self.registry), self.circuit, self.tuned)
        course = self._drives.get(signals)
        if course is None:
            return twin.simulate(sim)["sources"]
        twin_ref = ReferenceModel(twin.pipeline, self.circuit, self.tuned)
        _, arrays = twin_ref.driven_runs(sim, course[None], [sim.seed])
        return arrays["sources"][0]

    # ------------------------------------------------------------------ manifest
    def manifest(self, signals=None, readout=None, paradigm=None, objective=None, evaluation=None, tuning=None,
                 **extra) -> dict:
        """The reference's manifest (a compatibility alias; prefer :meth:`run_receipt`): the run
        receipt of ``signals`` (when given), the claim labels under ``v005_claim_labels`` and
        each given part, all JSON-safe."""
        out = {"manifest_schema": MANIFEST_SCHEMA, "config": config_to_dict(self.config, self.registry),
               "truth": dict(self.truth), "v005_claim_labels": dict(self.truth)}
        if signals is not None:
            out["receipt"] = self.run_receipt(signals).to_dict()
        if readout is not None:
            out["readout"] = {k: (attrs.asdict(v) if attrs.has(type(v)) else v) for k, v in dict(readout).items()}
        for name, part in (("paradigm", paradigm), ("objective", objective), ("evaluation", evaluation),
                           ("tuning", tuning)):
            if part is not None:
                out[name] = part.to_dict() if hasattr(part, "to_dict") else part
        if self.geometry is not None:
            out["source_geometry"] = self.geometry.to_dict()
        out.update(extra)
        return json_safe(out)


def construct(cfg, *, geometry=None, runtime=None, registry=None) -> ReferenceModel:
    """Build a model from a configuration (a builder, a Configuration, a dict or a path).

    geometry: a :class:`~jaxfne.geometry.LaminarSourceGeometry` whose depths the cells take
    (its cell count must equal the network's n). runtime: a :func:`jaxfne.runtime` choice of
    delivery and synaptic kernel."""
    if runtime is not None:
        if not isinstance(cfg, ConfigBuilder):
            if isinstance(cfg, dict):
                cfg = config_from_dict(cfg, registry)
            elif isinstance(cfg, (str, bytes)) or hasattr(cfg, "__fspath__"):
                cfg = load_config(cfg, registry)
            cfg = from_config(cfg, registry)
        cfg = runtime.apply(cfg)
    core = core_construct(cfg, registry=registry)
    if geometry is None:
        model = ReferenceModel(core.pipeline, core.circuit)
        model._given_circuit = False                   # drawn from the configuration
        return model
    model = ReferenceModel(core.pipeline, attrs.evolve(core.circuit, positions_um=geometry.positions_um(core.circuit)))
    model.geometry = geometry
    return model
