"""Bookkeeping shared by the optimizers: the best point so far, history, the evaluation
budget, early stop, and the check that a gradient is finite."""
from __future__ import annotations

import attrs
import numpy as np

from jaxfne_core.errors import JaxfneError

from .problem import OptimResult, record


class NonFiniteGradientError(JaxfneError, FloatingPointError):
    """A gradient came back NaN or inf: names the parameter(s) and the step."""


def check_gradient(problem, grad, step: int) -> None:
    """Raise :class:`NonFiniteGradientError` naming the tunables whose gradient component at
    ``step`` is not finite (a finite loss with a NaN gradient is a broken gradient path, never
    a zero gradient)."""
    grad = np.asarray(grad, np.float64)
    bad = np.nonzero(~np.isfinite(grad))[0]
    if bad.size:
        names = problem.names or tuple(f"x[{i}]" for i in range(problem.dim))
        raise NonFiniteGradientError(
            f"the gradient of the loss is not finite at step {step} for {[names[i] for i in bad]} "
            f"(values {grad[bad].tolist()}); the surrogate gradient through the run overflows or is "
            "undefined: truncate it (options.gradient_window_steps), lower surrogate_slope, or use a "
            "gradient-free optimizer (cmaes)")


@attrs.define
class Elite:
    """Best candidate so far; ``gates`` says whether it passed every gate of the objective."""

    x: np.ndarray
    loss: float
    gates: bool
    evaluations: int
    history: list
    stopped_early: bool = False

    @classmethod
    def start(cls, problem):
        x0 = np.asarray(problem.x0, np.float32)
        losses, gates = problem.evaluate(x0[None])
        loss = float(losses[0]) if np.isfinite(losses[0]) else np.inf
        return cls(x0, loss, bool(gates[0]), 1, [record(0, x0[None], [loss], loss, True)])

    def offer(self, candidates, losses, gates) -> bool:
        """Take the best of a generation if it beats the elite; returns whether it did."""
        losses = np.where(np.isfinite(losses), losses, np.inf)
        self.evaluations += len(losses)
        i = int(np.argmin(losses))
        if losses[i] < self.loss:
            self.x, self.loss, self.gates = np.asarray(candidates[i], np.float32), float(losses[i]), bool(gates[i])
            return True
        return False

    def room(self, problem, wanted: int) -> int:
        """How many of ``wanted`` candidates the evaluation budget still allows."""
        if problem.max_evaluations is None:
            return wanted
        return max(0, min(wanted, problem.max_evaluations - self.evaluations))

    def step_done(self, problem, step) -> bool:
        """Report progress; True (stop) when the elite passes every gate of an objective with
        gates, or when the evaluation budget is spent."""
        if problem.on_step is not None:
            problem.on_step(step, self.loss)
        if problem.has_gates and self.gates:
            self.stopped_early = True
        spent = problem.max_evaluations is not None and self.evaluations >= problem.max_evaluations
        return self.stopped_early or spent

    def result(self) -> OptimResult:
        return OptimResult(self.x, self.loss, self.history, self.evaluations, self.stopped_early)
