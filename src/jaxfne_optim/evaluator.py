"""Where a generation of tuning candidates is evaluated: one abstraction, local or remote.

An :class:`Evaluator` turns (model, objective, tunable names, simulation) into
``evaluate(xs (P, D) in parameter units) -> (losses (P,), gates (P,))`` NumPy arrays.
:class:`LocalEvaluator` runs one jitted ``vmap`` here (in chunks of ``chunk_size`` with
``lax.map``); ``jaxfne_distributed.DaskEvaluator(client)`` spreads candidates over a Dask
cluster with the same results. ``Model.tune(..., evaluator=...)`` takes either.
"""
from __future__ import annotations

import abc
from typing import Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np


def candidate_loss(model, objective, names: tuple, sim, gradient_window=None):
    """Pure ``x (D,) in parameter units -> (loss, gates pass)`` for one candidate: the whole
    simulation with tunables ``names`` set to x, then the objective. Non-finite runs lose (inf).
    gradient_window: truncated backpropagation through windows of that many steps
    (:meth:`Model.full_run`)."""
    full = model.full_run(sim, gradient_window=gradient_window)
    params = model.params(sim.dt_ms)
    registry = model.registry
    sim_key = jax.random.key(sim.seed)

    def loss_x(x):
        p = model.apply_tunables(params, {n: x[i] for i, n in enumerate(names)})
        carry, arrays = full(p, sim_key)
        signals = model.make_signals(arrays, sim)
        loss = objective.total_loss(signals, registry)
        ok = (carry["bad_step"] < 0) & jnp.isfinite(loss)
        return jnp.where(ok, loss, jnp.inf), objective.gates_pass(signals, registry) & ok
    return loss_x


def population_evaluator(model, objective, names: tuple, sim):
    """``evaluate(xs (P, D) parameter units) -> (losses (P,), gates (P,))``, vmapped and
    compiled once per model, objective, names and population size (cached on the model)."""
    key = ("population", objective.config, tuple(names), sim)
    batched = model.cached(key, lambda: jax.jit(jax.vmap(candidate_loss(model, objective, tuple(names), sim))))

    def evaluate(xs):
        losses, gates = batched(jnp.asarray(xs, jnp.float32))
        return np.asarray(losses, np.float64), np.asarray(gates, bool)
    return evaluate


class Evaluator(abc.ABC):
    """Evaluates tuning candidates; subclasses decide where."""

    @abc.abstractmethod
    def population(self, model, objective, names: tuple, sim) -> Callable:
        """``evaluate(xs (P, D) parameter units) -> (losses (P,) float64, gates (P,) bool)``;
        non-finite runs lose (inf)."""


class LocalEvaluator(Evaluator):
    """All candidates of a generation in one jitted ``vmap`` on this machine; with
    ``chunk_size``, ``lax.map`` over chunks of that many (bounds memory)."""

    def __init__(self, chunk_size: Optional[int] = None):
        self.chunk_size = chunk_size

    def population(self, model, objective, names: tuple, sim) -> Callable:
        loss_x = candidate_loss(model, objective, tuple(names), sim)
        if self.chunk_size is None:
            batched = jax.jit(jax.vmap(loss_x))
        else:
            batched = jax.jit(lambda xs: jax.lax.map(loss_x, xs, batch_size=self.chunk_size))

        def evaluate(xs):
            losses, gates = batched(jnp.asarray(xs, jnp.float32))
            return np.asarray(losses, np.float64), np.asarray(gates, bool)
        return evaluate
