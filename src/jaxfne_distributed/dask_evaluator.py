"""Trial batches, parameter sweeps and optimizer populations on a Dask cluster.

``pip install jaxfne[dask]``. Every Dask task is one whole vmapped chunk, so a worker compiles
once per model and chunk shape and then reuses it. What travels is small and plain: the
configuration as its canonical dict, the tuned values, the task and simulation sections and the
trial indices; each worker builds (and caches) the model itself from the plugins installed
there. Trial k of condition c always runs with the key ``fold_in(fold_in(key(seed), c), k)``
and chunks keep one padded shape, so a cluster returns exactly what :meth:`Model.run_trials`
returns on one machine, whichever worker ran which chunk. Sweep points share the task's seed
(common random numbers), so differences between points are the parameters' doing.

Clients: ``dask.distributed.Client()`` (a local cluster), ``Client("tcp://scheduler:8786")``
for a running scheduler, or ``Client(SLURMCluster(...))`` from dask-jobqueue on a cluster.
"""
from __future__ import annotations

import hashlib
import itertools
from collections import OrderedDict
from typing import Mapping, Optional, Sequence

import attrs
import numpy as np

from jaxfne_core.assemble import assemble
from jaxfne_core.config import Simulation, canonical_json, config_from_dict, config_to_dict
from jaxfne_core.errors import ConfigError, MissingExtraError
from jaxfne_optim.evaluator import Evaluator, population_evaluator
from jaxfne_core.model import Model
from jaxfne_tasks.task_config import TaskConfig
from jaxfne_tasks.trials import assemble_trials, chunk_size_for, chunks_of, prepare_task, run_chunk, trial_jobs

_WORKER_MODELS: "OrderedDict[str, object]" = OrderedDict()
WORKER_CACHE_SIZE = 4


def _require_dask():
    try:
        import dask.distributed  # noqa: F401
    except ImportError:
        raise MissingExtraError("distributed runs need Dask: pip install jaxfne[dask]") from None


@attrs.frozen
class ModelSpec:
    """What a worker needs to rebuild a model: canonical config dict and tuned values."""

    config: dict
    tuned: tuple

    @classmethod
    def of(cls, model) -> "ModelSpec":
        return cls(config_to_dict(model.config, model.registry), tuple(sorted(model.tuned.items())))

    def with_values(self, values: Mapping) -> "ModelSpec":
        return ModelSpec(self.config, tuple(sorted({**dict(self.tuned), **dict(values)}.items())))

    @property
    def key(self) -> str:
        return hashlib.sha256(canonical_json({"config": self.config, "tuned": list(self.tuned)}).encode()).hexdigest()


def worker_model(spec: ModelSpec):
    """The model for ``spec`` on this process (built once, kept in a small LRU cache)."""
    model = _WORKER_MODELS.get(spec.key)
    if model is None:
        model = Model(assemble(config_from_dict(spec.config)), tuned=dict(spec.tuned))
        _WORKER_MODELS[spec.key] = model
        while len(_WORKER_MODELS) > WORKER_CACHE_SIZE:
            _WORKER_MODELS.popitem(last=False)
    _WORKER_MODELS.move_to_end(spec.key)
    return model


def _trial_chunk_task(spec: ModelSpec, task: TaskConfig, sim: Simulation, part: list, chunk: int) -> dict:
    return run_chunk(worker_model(spec), task, sim, part, chunk)


def _with_tuned(model, values: Mapping):
    return model.with_tuned(dict(values))


def _task_and_sim(model, task, sim):
    task = task if task is not None else model.config.task
    if task is None:
        raise ConfigError([("$.task", "no task given and the configuration has no task section")])
    return task, (sim if sim is not None else model.config.simulation)


def run_trials_distributed(model, task: Optional[TaskConfig] = None, sim: Optional[Simulation] = None,
                           *, client):
    """:meth:`Model.run_trials` with one Dask task per chunk -> the same TrialResults."""
    return sweep(model, [{}], task, sim, client=client).results[0]


@attrs.frozen(eq=False)
class SweepResults:
    """points: the parameter values of each point; results: a TrialResults per point."""

    points: tuple
    results: tuple

    def __iter__(self):
        return iter(zip(self.points, self.results))


def sweep_points(grid) -> list:
    """``{name: [values]}`` (their Cartesian product, in order) or a list of ``{name: value}``."""
    if isinstance(grid, Mapping):
        names = list(grid)
        return [dict(zip(names, combo)) for combo in itertools.product(*(list(grid[n]) for n in names))]
    return [dict(p) for p in grid]


def sweep(model, grid, task: Optional[TaskConfig] = None, sim: Optional[Simulation] = None,
          *, client=None) -> SweepResults:
    """Run the task's conditions x trials at every parameter point of ``grid``.

    grid: ``{tunable: [values]}`` or a list of ``{tunable: value}`` (names as in
    :meth:`Model.tunables`). client: a ``dask.distributed.Client`` (one task per point and
    chunk), or None to run here, point after point.
    """
    task, sim = _task_and_sim(model, task, sim)
    points = sweep_points(grid)
    allowed = set(model.tunables())
    for i, p in enumerate(points):
        unknown = sorted(set(p) - allowed)
        if unknown:
            raise ConfigError([(f"grid[{i}]", f"unknown tunable(s) {unknown}; allowed: {sorted(allowed)}")])
    prepare_task(model, task, sim)
    _, _, jobs = trial_jobs(model, task, sim)
    chunk = chunk_size_for(model, task, sim, len(jobs))
    parts = chunks_of(jobs, chunk)
    if client is None:
        results = []
        for p in points:
            m = _with_tuned(model, p)
            results.append(assemble_trials(m, task, sim, [run_chunk(m, task, sim, part, chunk) for part in parts]))
        return SweepResults(tuple(points), tuple(results))
    _require_dask()
    base = ModelSpec.of(model)
    futures = [[client.submit(_trial_chunk_task, base.with_values(p), task, sim, part, chunk, pure=False)
                for part in parts] for p in points]
    gathered = client.gather(futures)
    results = tuple(assemble_trials(_with_tuned(model, p), task, sim, outs) for p, outs in zip(points, gathered))
    return SweepResults(tuple(points), results)


def _population_task(spec: ModelSpec, objective, names: Sequence[str], xs: np.ndarray, sim: Simulation):
    """Losses and gates of candidates ``xs`` (rows in parameter units) on one worker."""
    model = worker_model(spec)
    return population_evaluator(model, objective, tuple(names), sim)(xs)


def dask_population_evaluator(model, objective, names: Sequence[str], sim: Simulation, client,
                              chunk: Optional[int] = None):
    """``evaluate(xs) -> (losses, gates)`` spreading the candidates over the cluster's workers in
    chunks of ``chunk`` rows (default: an equal share per worker)."""
    _require_dask()
    model.check_objective(objective)            # refuse here, not on every worker
    spec = ModelSpec.of(model)
    n_workers = max(1, len(client.scheduler_info().get("workers", {})))

    def evaluate(xs):
        xs = np.asarray(xs, np.float32)
        size = chunk or int(np.ceil(len(xs) / n_workers))
        pieces = [xs[i:i + size] for i in range(0, len(xs), size)]
        # pad the last piece: one compiled population shape per worker
        padded = [np.concatenate([p, np.repeat(p[-1:], size - len(p), 0)]) for p in pieces]
        futures = [client.submit(_population_task, spec, objective, tuple(names), p, sim, pure=False)
                   for p in padded]
        out = client.gather(futures)
        return (np.concatenate([o[0][:len(p)] for o, p in zip(out, pieces)]),
                np.concatenate([o[1][:len(p)] for o, p in zip(out, pieces)]))
    return evaluate


class DaskEvaluator(Evaluator):
    """Tuning candidates on a Dask cluster: ``model.tune(..., evaluator=DaskEvaluator(client))``;
    chunks of ``chunk`` candidates per task (default: an equal share per worker). Results equal
    the local evaluator's."""

    def __init__(self, client, chunk: Optional[int] = None):
        self.client, self.chunk = client, chunk

    def population(self, model, objective, names, sim):
        return dask_population_evaluator(model, objective, tuple(names), sim, self.client, self.chunk)
