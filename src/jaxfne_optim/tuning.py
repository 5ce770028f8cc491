"""Tuning: named bounded scalars of an assembled model, searched by a registered optimizer.

Optimizers see a :class:`~jaxfne_optim.problem.TuneProblem` in a normalised search box [0, 1]^d
(after an optional log transform per parameter), so step sizes mean the same for every
parameter. Candidates of a generation are evaluated together: one jitted ``vmap`` of
simulate-and-score, in chunks of ``chunk_size`` (``lax.map``) so memory stays bounded, with
common random numbers (every candidate runs the tuning simulation's seed), so candidates differ
by their parameters only. Gradient-based optimizers get ``value_and_grad``, which is only
offered when the emitter has a surrogate spike derivative.
"""
from __future__ import annotations

from typing import Optional

import attrs
import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from jaxfne_core.config import Simulation, structure_options
from jaxfne_core.errors import ConfigError
from jaxfne_objectives.objective import as_objective

from .evaluator import Evaluator, LocalEvaluator, candidate_loss
from .problem import TuneProblem, json_safe


@attrs.frozen(eq=False)
class TuneReport:
    """What a tuning run did: parameters searched, start and best values, the full history
    (candidates in parameter units, losses, which were accepted), seeds and claims."""

    optimizer: str
    options: dict
    steps: int
    seed: int
    simulation_seed: int
    parameters: tuple
    lower: tuple
    upper: tuple
    transforms: tuple
    initial: dict
    best: dict
    initial_loss: float
    best_loss: float
    n_evaluations: int
    stopped_early: bool
    history: list
    truth: dict
    max_evaluations: Optional[int] = None

    @property
    def improved(self) -> bool:
        return self.best_loss < self.initial_loss

    def to_dict(self) -> dict:
        return json_safe({"tuning_status": "tuned", "optimizer": self.optimizer, "options": self.options,
                       "steps": self.steps, "max_evaluations": self.max_evaluations, "seed": self.seed, "simulation_seed": self.simulation_seed,
                       "parameters": list(self.parameters), "lower": list(self.lower),
                       "upper": list(self.upper), "transforms": list(self.transforms),
                       "initial": self.initial, "best": self.best,
                       "initial_loss": self.initial_loss, "best_loss": self.best_loss,
                       "improved": self.improved, "same_model_unchanged": True,
                       "n_evaluations": self.n_evaluations, "stopped_early": self.stopped_early,
                       "history": self.history, **self.truth})

    def __getitem__(self, key):
        return self.to_dict()[key]


@attrs.frozen
class Space:
    """Map between parameter units and the normalised search box [0, 1]^d."""

    names: tuple
    lower: np.ndarray
    upper: np.ndarray
    log: np.ndarray     # bool per parameter

    def _lohi(self, xp):
        lo = xp.where(self.log, xp.log(xp.maximum(self.lower, 1e-30)), self.lower)
        hi = xp.where(self.log, xp.log(xp.maximum(self.upper, 1e-30)), self.upper)
        return lo, hi

    def to_unit(self, x):
        lo, hi = self._lohi(np)
        t = np.where(self.log, np.log(np.maximum(x, 1e-30)), x)
        return ((t - lo) / (hi - lo)).astype(np.float32)

    def from_unit(self, z, xp=jnp):
        lo, hi = self._lohi(xp)
        t = lo + z * (hi - lo)
        return xp.where(self.log, xp.exp(xp.where(self.log, t, 0.0)), t)   # no exp of linear values


def select_tunables(available: dict, names: Optional[list], bounds: Optional[dict]):
    """-> (Space, x0 in parameter units) after checking names and bounds.

    ``available``: name -> (default, lower, upper[, "log"]).
    """
    names = list(available) if names is None else list(names)
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ConfigError([("tunables", f"unknown tunable(s) {unknown!r}; allowed: {sorted(available)}")])
    if not names:
        raise ConfigError([("tunables", "nothing to tune; allowed: " + ", ".join(sorted(available)))])
    bounds = dict(bounds or {})
    extra = [n for n in bounds if n not in names]
    if extra:
        raise ConfigError([("bounds", f"bounds given for {extra!r}, which are not tuned; tuned: {names}")])
    x0, lo, hi, log = [], [], [], []
    for n in names:
        spec = available[n]
        d, l, h = spec[:3]
        is_log = len(spec) > 3 and spec[3] == "log"
        l, h = (float(b) for b in bounds.get(n, (l, h)))
        if not (l < h) or (is_log and l <= 0):
            raise ConfigError([(f"bounds.{n}", f"({l}, {h}) is not allowed; allowed: lower < upper"
                                + (", lower > 0 (log scale)" if is_log else ""))])
        x0.append(min(max(d, l), h))
        lo.append(l)
        hi.append(h)
        log.append(is_log)
    space = Space(tuple(names), np.array(lo, np.float64), np.array(hi, np.float64), np.array(log, bool))
    return space, np.array(x0, np.float64)


@attrs.frozen
class OptimizerSpec:
    """An optimizer by registered name with its options (the reference's spec objects)."""

    name: str
    options: dict = attrs.Factory(dict)


def gsdr(**options) -> OptimizerSpec:
    """The published GSDR (``alpha``, the reference's spelling, is its ``a_init``)."""
    if "alpha" in options:
        options = {"a_init": options.pop("alpha"), **options}
    return OptimizerSpec("gsdr", options)


def agsdr(**options) -> OptimizerSpec:
    return OptimizerSpec("agsdr", options)


def random_search(**options) -> OptimizerSpec:
    return OptimizerSpec("random_search", options)


def _optax_options(options):
    if "differentiability_status" in options:          # the reference's spelling
        options = {"differentiability": options.pop("differentiability_status"), **options}
    return options


def optax_adam(learning_rate=1e-2, **options) -> OptimizerSpec:
    return OptimizerSpec("optax", {"method": "adam", "learning_rate": learning_rate, **_optax_options(options)})


def optax_sgd(learning_rate=1e-2, **options) -> OptimizerSpec:
    return OptimizerSpec("optax", {"method": "sgd", "learning_rate": learning_rate, **_optax_options(options)})


UNLIMITED_STEPS = 2 ** 31 - 1       # steps when only max_evaluations bounds a run

#: The reference page's spellings: its "GSDR" is the black-box path ("always allowed, no
#: gradient required"), which is ``gsdr_blackbox`` here; ``gsdr`` is the published rule.
REFERENCE_SPELLINGS = {"GSDR": "gsdr_blackbox", "AGSDR": "agsdr"}


def resolve_spelling(optimizer, names):
    """A registered optimizer name from the reference's spellings and case variants."""
    if not isinstance(optimizer, str) or optimizer in names:
        return optimizer
    if optimizer in REFERENCE_SPELLINGS and REFERENCE_SPELLINGS[optimizer] in names:
        return REFERENCE_SPELLINGS[optimizer]
    names_ci = {n.lower(): n for n in names}
    return names_ci.get(optimizer.lower(), optimizer)


def tune(model, objective=None, optimizer="random_search", steps: Optional[int] = None, *, tunables=None,
         bounds=None, options=None, seed: int = 0, sim=None, chunk_size: Optional[int] = None,
         progress: bool = False, stop_on_gates: bool = False, evaluator: Optional[Evaluator] = None,
         max_evaluations: Optional[int] = None):
    """Search tunable parameters to minimise ``objective``'s total loss (``model.tune``).

    objective: default the configuration's objective section.
    Returns ``(new_model, TuneReport)``; ``model`` is never changed. optimizer: a registered
    name (``jaxfne plugins``) or an OptimizerSpec (``jaxfne.gsdr(...)``).
    tunables: names from ``model.tunables()`` (default all); bounds: {name: (lower, upper)};
    options: the optimizer's options; seed: optimizer seed (default 0); sim: the simulation
    every candidate runs (default: the configuration's); chunk_size: candidates per vmapped
    chunk (bounds memory); progress: a progress bar; stop_on_gates: stop early once the best
    candidate passes every gate of the objective; evaluator: where each generation's
    candidates run (default :class:`~jaxfne_optim.evaluator.LocalEvaluator`;
    ``jaxfne_distributed.DaskEvaluator(client)`` for a cluster); max_evaluations: at most this
    many simulations, for every optimizer. steps: at most this many steps (generations);
    default 10, or unlimited when max_evaluations is given.
    """
    objective = objective if objective is not None else model.objective_config()
    best, report = tune_model(model, objective, optimizer, steps, tunables=tunables, bounds=bounds, options=options,
                              seed=seed, sim=sim, chunk_size=chunk_size, progress=progress,
                              stop_on_gates=stop_on_gates, evaluator=evaluator, max_evaluations=max_evaluations)
    return model.with_tuned(best), report


def tune_model(model, objective, optimizer="random_search", steps: Optional[int] = None, *, tunables=None,
               bounds=None, options=None, seed: int = 0, sim=None, chunk_size: Optional[int] = None,
               progress: bool = False, stop_on_gates: bool = False, evaluator: Optional[Evaluator] = None,
               max_evaluations: Optional[int] = None):
    """What :func:`tune` runs; returns (best values {name: float}, report)."""
    if steps is None:
        steps = 10 if max_evaluations is None else UNLIMITED_STEPS
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
        raise ConfigError([("steps", f"{steps!r} is not allowed; allowed: an integer >= 0")])
    if max_evaluations is not None and (not isinstance(max_evaluations, int) or isinstance(max_evaluations, bool)
                                        or max_evaluations < 1):
        raise ConfigError([("max_evaluations", f"{max_evaluations!r} is not allowed; allowed: an integer >= 1 "
                            "or None")])
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise ConfigError([("chunk_size", f"{chunk_size!r} is not allowed; allowed: an integer >= 1")])
    if isinstance(optimizer, OptimizerSpec):
        if options:
            raise ConfigError([("options", "give options inside the OptimizerSpec or as options=, not both")])
        optimizer, options = optimizer.name, optimizer.options
    objective = as_objective(objective)
    model.check_objective(objective.config)
    untraceable = [t.name for t in objective.terms if not model.registry.get("objective", t.metric).value.traceable]
    if untraceable:
        raise ConfigError([("objective", f"terms {untraceable} use metrics computed outside JAX (NumPy "
                            "analysis); they can be read out and evaluated but not tuned inside jit")])
    if not any(t.role != "gate" for t in objective.terms):
        raise ConfigError([("objective", "has no loss or regularizer to minimise")])
    optimizer = resolve_spelling(optimizer, model.registry.names("optimizer"))
    entry = model.registry.get("optimizer", optimizer)
    opts = structure_options(entry.value.Options, dict(options or {}), "options", model.registry)
    opt = entry.value(opts)
    space, x0 = select_tunables(model.tunables(), tunables, bounds)
    sim = sim if sim is not None else model.config.simulation
    if not isinstance(sim, Simulation):
        raise ConfigError([("sim", f"{sim!r} is not a Simulation")])
    names = space.names
    loss_x = candidate_loss(model, objective, names, sim)

    def loss_one(z):
        return loss_x(space.from_unit(z))

    if evaluator is None:
        evaluator = LocalEvaluator(chunk_size)
    if not isinstance(evaluator, Evaluator):
        raise ConfigError([("evaluator", f"{evaluator!r}; allowed: a jaxfne_optim.evaluator.Evaluator, e.g. "
                            "LocalEvaluator() or jaxfne_distributed.DaskEvaluator(client)")])
    in_units = evaluator.population(model, objective, names, sim)

    def evaluate(zs):
        return in_units(space.from_unit(np.asarray(zs, np.float64), np))

    differentiability = model.emitter.differentiability()
    value_and_grad = None
    if differentiability != "none":
        # an optimizer's ``gradient_window_steps`` option truncates backpropagation
        window = getattr(opts, "gradient_window_steps", None)
        grad_loss = loss_one if window is None else (
            lambda z, f=candidate_loss(model, objective, names, sim, window): f(space.from_unit(z)))
        vg = jax.jit(jax.value_and_grad(lambda z: grad_loss(z)[0]))

        def value_and_grad(z):
            v, g = vg(jnp.asarray(z, jnp.float32))
            return float(v), np.asarray(g, np.float64)

    bar = None
    if progress:
        bar = tqdm(total=steps, unit="step", desc=f"tune {optimizer}")

    def on_step(step, best_loss):
        if bar is not None:
            bar.update(1)
            bar.set_postfix(best_loss=f"{best_loss:.4g}")

    problem = TuneProblem(evaluate, space.to_unit(x0), np.zeros(x0.size, np.float32),
                          np.ones(x0.size, np.float32), value_and_grad, differentiability,
                          stop_on_gates and any(t.role == "gate" for t in objective.terms), on_step,
                          max_evaluations, tuple(names))
    try:
        result = opt.minimize(problem, steps, jax.random.key(seed))
    finally:
        if bar is not None:
            bar.close()
    to_x = lambda z: np.asarray(space.from_unit(np.asarray(z, np.float64), np), np.float64)
    for h in result.history:                       # report candidates in parameter units
        if h.get("candidates"):
            h["candidates"] = to_x(np.asarray(h["candidates"])).tolist()
    best = {n: float(v) for n, v in zip(names, to_x(result.best_x))}
    return best, TuneReport(optimizer, attrs.asdict(opts), steps, seed, sim.seed, names,
                           tuple(map(float, space.lower)), tuple(map(float, space.upper)),
                           tuple("log" if g else "linear" for g in space.log),
                           {n: float(v) for n, v in zip(names, x0)}, best,
                           float(result.history[0]["best_loss"]), float(result.best_loss),
                           result.n_evaluations, result.stopped_early, result.history, model.truth,
                           max_evaluations)
