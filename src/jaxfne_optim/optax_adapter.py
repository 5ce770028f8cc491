"""Optax optimizers on gradients through the simulation (``pip install jaxfne[optax]``).

Spiking is not differentiable: a hard threshold has zero derivative almost everywhere. So an
Optax optimizer is refused unless its ``differentiability`` is declared ``declared_surrogate``
(and the emitter really has a surrogate spike derivative, e.g. izhikevich ``surrogate_slope``)
or ``differentiable`` (and the model is exactly differentiable). Steps run in the normalised
search box and are projected back onto it.

A non-finite gradient is an error (:class:`~jaxfne_optim.common.NonFiniteGradientError`) naming
the tunable and the step, never a silent zero; ``clip_norm`` clips the gradient's global norm
(``optax.clip_by_global_norm``) before the optimizer sees it. Each step costs two simulations
(the gradient, then the loss of the new point), and ``n_evaluations`` counts both.
"""
from __future__ import annotations

from typing import Optional

import attrs
import numpy as np

from jaxfne_core.errors import ConfigError, MissingExtraError
from .hookspecs import Optimizer
from jaxfne_core.validators import number, one_of

from .common import Elite, check_gradient
from .problem import record

METHODS = ("adam", "adamw", "sgd", "rmsprop", "adagrad", "lion", "nadam")


def require_optax():
    try:
        import optax
    except ImportError:
        raise MissingExtraError("the 'optax' optimizer needs Optax: pip install jaxfne[optax]") from None
    return optax


@attrs.frozen
class OptaxOptions:
    """method: an Optax optimizer name. learning_rate: in box units per step.
    differentiability: ``not_checked`` (refused), ``declared_surrogate`` or ``differentiable``.
    clip_norm: clip the gradient's global norm to this (None: no clipping).
    gradient_window_steps: truncated backpropagation through windows of this many simulation
    steps (model.tune; None: through the whole run; see ``Model.full_run``)."""

    method: str = attrs.field(default="adam", validator=one_of(*METHODS))
    learning_rate: float = attrs.field(default=0.05, validator=number(0, lo_open=True))
    differentiability: str = attrs.field(default="not_checked",
                                         validator=one_of("not_checked", "declared_surrogate", "differentiable"))
    clip_norm: Optional[float] = attrs.field(default=None, validator=attrs.validators.optional(number(0, lo_open=True)))
    gradient_window_steps: Optional[int] = attrs.field(default=None, validator=attrs.validators.optional(number(1)))


class OptaxOptimizer(Optimizer):
    """Optax gradient descent through the simulation (needs a declared surrogate)."""

    name = "optax"
    Options = OptaxOptions

    def check(self, problem):
        o = self.options
        needed = {"declared_surrogate": "surrogate", "differentiable": "exact"}.get(o.differentiability)
        if needed is None:
            raise ConfigError([("options.differentiability",
                                "'not_checked' is refused: spiking networks are not differentiable through "
                                "spike resets; allowed: 'declared_surrogate' (with an emitter surrogate, "
                                "e.g. izhikevich surrogate_slope) or 'differentiable'")])
        if problem.value_and_grad is None or problem.differentiability != needed:
            raise ConfigError([("options.differentiability",
                                f"{o.differentiability!r} declared, but the model offers "
                                f"{problem.differentiability!r} gradients; set the emitter's "
                                f"surrogate (izhikevich: surrogate_slope) or declare what the model has")])

    def minimize(self, problem, steps, key):
        self.check(problem)
        optax = require_optax()
        o = self.options
        tx = getattr(optax, o.method)(o.learning_rate)
        if o.clip_norm is not None:
            tx = optax.chain(optax.clip_by_global_norm(o.clip_norm), tx)
        elite = Elite.start(problem)
        z = elite.x.astype(np.float32)
        state = tx.init(z)
        for step in range(1, steps + 1):
            if elite.room(problem, 2) < 2:
                break
            loss, grad = problem.value_and_grad(z)
            check_gradient(problem, grad, step)
            grad = np.asarray(grad, np.float32)
            updates, state = tx.update(grad, state, z)
            z = np.clip(np.asarray(optax.apply_updates(z, updates)), problem.lower, problem.upper).astype(np.float32)
            losses, gates = problem.evaluate(z[None])
            improved = elite.offer(z[None], losses, gates)
            elite.history.append(record(step, z[None], losses, elite.loss, improved,
                                        grad_norm=float(np.linalg.norm(grad))))
            elite.evaluations += 1                      # the gradient evaluation
            if elite.step_done(problem, step):
                break
        return elite.result()
