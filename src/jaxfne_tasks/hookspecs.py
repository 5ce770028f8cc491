"""The ``paradigm`` kind, declared by this package (``jaxfne_declare_kinds``): its base class
and hook spec. :class:`jaxfne_tasks.plugin.TaskParadigm` implements it for paradigms given as
data."""
from __future__ import annotations

import abc
from typing import ClassVar

from jaxfne_core.errors import ConfigError
from jaxfne_core.hookspecs import hookspec
from jaxfne_core.registry import StageRegistrar
from jaxfne_core.stages import Stage, StageKind


class Paradigm(Stage):
    """A task paradigm: conditions of timed events, and how its trials run on a model.

    ``jaxfne_tasks.TaskParadigm`` implements the runner methods for paradigms given as data
    (conditions, events, windows); a third party registers its own through the
    ``jaxfne_register_paradigms`` hook. ``TaskConfig.paradigm`` names one."""

    stage = "paradigm"
    #: True where :meth:`write_outputs` is implemented; ``jaxfne run`` refuses, before running
    #: any trial, a task whose paradigm writes no outputs (Python can still run its trials).
    writes_outputs: ClassVar[bool] = False

    @abc.abstractmethod
    def definition(self):
        """The paradigm as data: an object with ``name``, ``condition_names()``,
        ``condition(name)``, ``prestim_ms`` and ``trial_ms`` (see ``jaxfne_tasks.paradigm``)."""

    @abc.abstractmethod
    def check(self, model, task, sim) -> None:
        """Refuse, before any work, a task (TaskConfig) this paradigm cannot run on ``model``."""

    @abc.abstractmethod
    def run_trials(self, model, task, sim):
        """Every condition x trial of ``task`` -> a results object with ``arrays`` (mode ->
        (conditions, trials, samples, X)), ``dt_ms``, ``units``, ``failures`` and ``seeds``."""

    @abc.abstractmethod
    def simulate_trial(self, model, task, condition: str, trial: int, sim) -> dict:
        """One trial alone, exactly as :meth:`run_trials` runs it: mode -> (samples, X)."""

    def write_outputs(self, folder, model, results, receipt, figures: bool = True):
        """Write a task run into ``folder`` -> (names written, summary dict); optional (set
        ``writes_outputs = True`` with it)."""
        raise ConfigError([("$.task.paradigm", f"paradigm {self.name!r} writes no task outputs, so "
                            "'jaxfne run' cannot write a task run for it; run its trials from Python "
                            "(Model.run_trials) or use a paradigm that writes outputs")])


@hookspec
def jaxfne_register_paradigms(registry: StageRegistrar) -> None:
    """Register task paradigms: subclasses of :class:`jaxfne_tasks.hookspecs.Paradigm`."""


KIND = StageKind("paradigm", "jaxfne_register_paradigms", Paradigm, order=6)
