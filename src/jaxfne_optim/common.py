"""Bookkeeping shared by the optimizers: the best point so far, history, early stop."""
from __future__ import annotations

import attrs
import numpy as np

from jaxfne_core.tuning import OptimResult, record


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

    def step_done(self, problem, step) -> bool:
        """Report progress; True (stop) when the elite passes every gate of an objective with gates."""
        if problem.on_step is not None:
            problem.on_step(step, self.loss)
        if problem.has_gates and self.gates:
            self.stopped_early = True
        return self.stopped_early

    def result(self) -> OptimResult:
        return OptimResult(self.x, self.loss, self.history, self.evaluations, self.stopped_early)
