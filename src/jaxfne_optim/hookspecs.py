"""The ``optimizer`` kind, declared by this package (``jaxfne_declare_kinds``): its base class
and hook spec. An optimizer subclasses :class:`Optimizer` and minimises a
:class:`jaxfne_optim.problem.TuneProblem`."""
from __future__ import annotations

import abc

from jaxfne_core.hookspecs import hookspec
from jaxfne_core.registry import StageRegistrar
from jaxfne_core.stages import Stage, StageKind


class Optimizer(Stage):
    """Black-box or gradient optimizer over a vector of bounded scalars."""

    stage = "optimizer"

    @abc.abstractmethod
    def minimize(self, problem, steps: int, key):
        """Minimise a :class:`jaxfne_optim.problem.TuneProblem` within its bounds in ``steps``
        generations; deterministic for ``key``. Returns a :class:`jaxfne_optim.problem.OptimResult`."""


@hookspec
def jaxfne_register_optimizers(registry: StageRegistrar) -> None:
    """Register optimizers: subclasses of :class:`jaxfne_optim.hookspecs.Optimizer`."""


KIND = StageKind("optimizer", "jaxfne_register_optimizers", Optimizer, order=5)
