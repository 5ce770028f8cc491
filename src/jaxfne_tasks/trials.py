"""Trial batches: conditions x trials run in parallel (vmap, in chunks), condition-aligned.

Trial k of condition c (its index in the paradigm) runs with the key
``fold_in(fold_in(key(seed), c), k)`` and the condition's drive inputs, so a trial's result does
not depend on the chunk it ran in, and ``Model.simulate_trial`` reproduces any one of them.
A trial that diverges is reported (condition, trial, time, cell) and its outputs are kept as
computed; the other trials are unaffected.
"""
from __future__ import annotations

from typing import Optional

import attrs
import jax
import jax.numpy as jnp
import numpy as np

from jaxfne_core.config import Simulation
from jaxfne_core.errors import ConfigError
from jaxfne_core.memory import check_fits, run_bytes
from jaxfne_core.signals import Signals

from .stimulus import drive_inputs, drive_matrix
from .task_config import TaskConfig


@attrs.frozen(eq=False)
class TrialResults:
    """arrays: mode -> (conditions, trials, samples, X); time_ms: (samples,) from trial start;
    align_ms: simulation time of the alignment event; failures: list of dicts."""

    paradigm: object
    conditions: tuple
    arrays: dict
    dt_ms: float
    align_ms: float
    units: dict
    failures: list
    seeds: dict
    contact_depths_um: np.ndarray = attrs.field(factory=lambda: np.zeros(0))

    @property
    def time_ms(self) -> np.ndarray:
        n = next(iter(self.arrays.values())).shape[2]
        return (np.arange(n) + 1) * self.dt_ms

    @property
    def aligned_time_ms(self) -> np.ndarray:
        return self.time_ms - self.align_ms

    def condition(self, name: str) -> dict:
        i = self.conditions.index(name)
        return {k: v[i] for k, v in self.arrays.items()}

    def summary(self) -> dict:
        return {"paradigm": self.paradigm.name, "conditions": list(self.conditions),
                "trials_per_condition": int(next(iter(self.arrays.values())).shape[1]),
                "dt_ms": self.dt_ms, "align_ms": self.align_ms, "failures": self.failures,
                "units": self.units, "seeds": self.seeds}


def paradigm_of(model, task: TaskConfig):
    """The data of ``task``'s paradigm, from the registered paradigm of that name."""
    return model.registry.get("paradigm", task.paradigm).value().definition()


def prepare_task(model, task: TaskConfig, sim: Simulation):
    """Check a task against a model and build what its trials need: (paradigm, condition
    names, steps per trial, params with the drive matrix, {condition: (steps, K) inputs})."""
    paradigm = paradigm_of(model, task)
    names = list(task.conditions) if task.conditions is not None else paradigm.condition_names()
    unknown = [c for c in names if c not in paradigm.condition_names()]
    if unknown:
        raise ConfigError([("$.task.conditions", f"{unknown!r} not in {paradigm.name}; allowed: "
                            + ", ".join(paradigm.condition_names()))])
    trial_ms = task.trial_ms if task.trial_ms is not None else paradigm.trial_ms
    if sim.warmup_ms:
        raise ConfigError([("$.simulation.warmup_ms", f"{sim.warmup_ms} ms; a task's trials are recorded whole "
                            "(the paradigm's events are timed from the trial start); allowed: 0 in a task run")])
    n_steps = int(round(trial_ms / sim.dt_ms))
    every = model.pipeline.probe.samples_per_record(sim.dt_ms)
    if abs(n_steps * sim.dt_ms - trial_ms) > 1e-6 * trial_ms or n_steps % every:
        raise ConfigError([("$.task.trial_ms", f"{trial_ms} ms is not a whole number of recorded samples "
                            f"of {every * sim.dt_ms} ms")])
    params = dict(model.params(sim.dt_ms))
    params["drive"] = {"W": jnp.asarray(drive_matrix(task.drives, model.circuit))}
    inputs = {c: drive_inputs(task.drives, paradigm.condition(c), paradigm, n_steps, sim.dt_ms) for c in names}
    return paradigm, names, n_steps, params, inputs


def trial_key(seed: int, condition_index: int, trial: int):
    return jax.random.fold_in(jax.random.fold_in(jax.random.key(seed), condition_index), trial)


def trial_jobs(model, task: TaskConfig, sim: Simulation):
    """(paradigm, condition names, [(condition index, name, trial)]) in result order, for a task
    that :func:`prepare_task` accepted."""
    paradigm = paradigm_of(model, task)
    names = list(task.conditions) if task.conditions is not None else paradigm.condition_names()
    cond_index = [paradigm.condition_names().index(c) for c in names]
    jobs = [(ci, c, k) for ci, c in zip(cond_index, names) for k in range(task.trials_per_condition)]
    return paradigm, names, jobs


def chunks_of(jobs: list, chunk: int) -> list:
    """Consecutive chunks of ``chunk`` jobs (the last one shorter)."""
    return [jobs[i:i + chunk] for i in range(0, len(jobs), chunk)]


def run_chunk(model, task: TaskConfig, sim: Simulation, part: list, chunk: int) -> dict:
    """Run the trials ``part`` [(condition index, name, trial)] as ONE vmapped call of ``chunk``
    trials (a short part is padded, so every chunk reuses one compiled shape and a trial's
    numbers do not depend on which chunk or machine ran it). -> {"arrays", "bad_step", "bad_cell"}."""
    paradigm, names, n_steps, params, inputs = prepare_task(model, task, sim)
    full = model.full_run(sim, n_steps)
    batched = model.cached(("trials", n_steps, sim.dt_ms), lambda:
                                         jax.jit(jax.vmap(full, in_axes=(None, 0, 0))))
    part_p = list(part) + [part[-1]] * (chunk - len(part))
    keys = jnp.stack([trial_key(task.seed, ci, k) for ci, _, k in part_p])
    xs = jnp.asarray(np.stack([inputs[c] for _, c, _ in part_p]))
    carry, arrays = batched(params, keys, xs)
    n = len(part)
    return {"arrays": {m: np.asarray(a)[:n] for m, a in arrays.items()},
            "bad_step": np.asarray(carry["bad_step"])[:n], "bad_cell": np.asarray(carry["bad_cell"])[:n]}


def assemble_trials(model, task: TaskConfig, sim: Simulation, outs: list) -> TrialResults:
    """TrialResults from the chunk outputs of :func:`run_chunk`, in job order."""
    paradigm, names, jobs = trial_jobs(model, task, sim)
    trials = task.trials_per_condition
    arrays = {m: np.concatenate([o["arrays"][m] for o in outs]) for m in outs[0]["arrays"]}
    arrays = {m: a.reshape((len(names), trials) + a.shape[1:]) for m, a in arrays.items()}
    bad_steps = np.concatenate([o["bad_step"] for o in outs])
    bad_cells = np.concatenate([o["bad_cell"] for o in outs])
    failures = []
    for j in np.nonzero(bad_steps >= 0)[0]:
        ci, c, k = jobs[j]
        cell = int(bad_cells[j])
        failures.append({"condition": c, "trial": k, "t_ms": float((bad_steps[j] + 1) * sim.dt_ms),
                         "cell": cell, "population": model.circuit.population_names[model.circuit.population[cell]],
                         "error": "V_m became non-finite"})
    seeds = {"seed": task.seed, "key": "fold_in(fold_in(key(seed), condition_index), trial)"}
    return TrialResults(paradigm, tuple(names), arrays, model.record_dt_ms(sim.dt_ms),
                        paradigm.prestim_ms, model.units(), failures, seeds, model.contact_positions_um[:, 2])


def chunk_size_for(model, task: TaskConfig, sim: Simulation, n_jobs: int) -> int:
    """The task's chunk size (default: all trials at once), checked against free memory."""
    _, _, n_steps, _, _ = prepare_task(model, task, sim)
    chunk = task.chunk_size or n_jobs
    samples = n_steps // model.pipeline.probe.samples_per_record(sim.dt_ms)
    check_fits(run_bytes(model, samples, chunk) + run_bytes(model, samples, n_jobs),
               f"{n_jobs} trials in chunks of {chunk}")
    return chunk


def run_trials(model, task: TaskConfig, sim: Optional[Simulation] = None) -> TrialResults:
    sim = sim if sim is not None else model.config.simulation
    prepare_task(model, task, sim)                     # validates the task first
    _, _, jobs = trial_jobs(model, task, sim)
    chunk = chunk_size_for(model, task, sim, len(jobs))
    outs = [run_chunk(model, task, sim, part, chunk) for part in chunks_of(jobs, chunk)]
    return assemble_trials(model, task, sim, outs)


def simulate_trial(model, task: TaskConfig, condition: str, trial: int, sim: Optional[Simulation] = None) -> dict:
    """One trial on its own (same key and inputs as in :func:`run_trials`): mode -> array."""
    sim = sim if sim is not None else model.config.simulation
    paradigm, names, n_steps, params, inputs = prepare_task(model, attrs.evolve(task, conditions=(condition,)), sim)
    batched = model.cached(("trials", n_steps, sim.dt_ms), lambda:
                                         jax.jit(jax.vmap(model.full_run(sim, n_steps), in_axes=(None, 0, 0))))
    key = trial_key(task.seed, paradigm.condition_names().index(condition), trial)
    _, arrays = batched(params, key[None], jnp.asarray(inputs[condition])[None])
    return {m: np.asarray(a)[0] for m, a in arrays.items()}


def trials_receipt(model, results: TrialResults, sim: Optional[Simulation] = None):
    """A RunReceipt for a trial batch: its id covers the configuration (with its task section)
    and the trials' seed; the diagnostics list the trials that failed."""
    sim = sim if sim is not None else model.config.simulation
    signals = Signals(results.arrays, results.dt_ms, results.units)
    return model.receipt(signals, attrs.evolve(sim, seed=results.seeds["seed"]),
                         {"trial_failures": results.failures})
