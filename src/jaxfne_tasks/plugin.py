"""Registers the built-in task paradigms through the ``jaxfne`` entry-point group, as any
third-party paradigm would."""
from __future__ import annotations

from typing import Callable, ClassVar

import attrs

from jaxfne_core import hookimpl

from . import hookspecs, model_methods, task_outputs, trials
from .hookspecs import Paradigm
from .paradigm import global_local_oddball, standard_visual_omission
from .task_config import TaskConfig


@attrs.frozen
class NoOptions:
    """This paradigm has no options: its conditions, events and windows are fixed."""


class TaskParadigm(Paradigm):
    """A paradigm given as data (``factory()`` returns a :class:`jaxfne_tasks.paradigm.Paradigm`),
    run by :mod:`jaxfne_tasks.trials` (conditions x trials vmapped in chunks) and written by
    :mod:`jaxfne_tasks.task_outputs`. Subclass it with ``name`` and ``factory`` to add one."""

    Options = NoOptions
    factory: ClassVar[Callable]
    writes_outputs = True

    def definition(self):
        return type(self).factory()

    def check(self, model, task, sim) -> None:
        trials.prepare_task(model, task, sim)

    def run_trials(self, model, task, sim):
        return trials.run_trials(model, task, sim)

    def simulate_trial(self, model, task, condition, trial, sim):
        return trials.simulate_trial(model, task, condition, trial, sim)

    def write_outputs(self, folder, model, results, receipt, figures=True):
        return task_outputs.write_task_run(folder, model, results, receipt, figures=figures)


class VisualOmission(TaskParadigm):
    """The visual omission task: 12 conditions (AAAB ... RRRX), event codes and windows."""

    name = "standard_visual_omission"
    factory = staticmethod(standard_visual_omission)


class GlobalLocalOddball(TaskParadigm):
    """The global-local oddball task."""

    name = "global_local_oddball"
    factory = staticmethod(global_local_oddball)


@hookimpl
def jaxfne_declare_kinds():
    return [(hookspecs.KIND, hookspecs)]


@hookimpl
def jaxfne_register_paradigms(registry):
    registry.add(VisualOmission)
    registry.add(GlobalLocalOddball)


@hookimpl
def jaxfne_register_sections(registry):
    registry.add(TaskConfig, name="task")


@hookimpl
def jaxfne_register_model_methods(registry):
    for name, function in model_methods.MODEL_METHODS.items():
        registry.add(function, name=name)
