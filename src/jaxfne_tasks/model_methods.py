"""The trial methods this package adds to every Model (``jaxfne_register_model_methods``):
``model.run_trials``, ``model.check_task``, ``model.simulate_trial`` and ``model.paradigm``.
Each runs through the registered paradigm that ``task.paradigm`` names."""
from __future__ import annotations

from typing import Optional

from jaxfne_core.config import Simulation
from jaxfne_core.errors import ConfigError, UnknownStageError


def task_of(model, task=None):
    """``task`` or, when None, the configuration's task section (refused when it has none)."""
    task = task if task is not None else model.config.task
    if task is None:
        raise ConfigError([("$.task", "no task given and the configuration has no task section")])
    return task


def paradigm(model, task=None):
    """The registered paradigm stage of ``task`` (default: the configuration's task)."""
    task = task_of(model, task)
    try:
        return model.registry.get("paradigm", task.paradigm).value()
    except UnknownStageError as e:
        raise ConfigError([("$.task.paradigm", str(e))]) from None


def run_trials(model, task=None, sim: Optional[Simulation] = None):
    """Run a task's conditions x trials in parallel.

    Returns :class:`~jaxfne_tasks.trials.TrialResults`. task: a TaskConfig (default: the configuration's task section); sim: default the
    configuration's simulation."""
    task = task_of(model, task)
    return paradigm(model, task).run_trials(model, task, sim)


def check_task(model, task=None, sim: Optional[Simulation] = None) -> None:
    """Refuse, before any work, a task this model cannot run (conditions, drives, length)."""
    task = task_of(model, task)
    paradigm(model, task).check(model, task, sim if sim is not None else model.config.simulation)


def simulate_trial(model, condition: str, trial: int = 0, task=None, sim: Optional[Simulation] = None) -> dict:
    """One trial alone, exactly as ``run_trials`` runs it: mode -> array."""
    task = task_of(model, task)
    return paradigm(model, task).simulate_trial(model, task, condition, trial, sim)


MODEL_METHODS = {f.__name__: f for f in (run_trials, check_task, simulate_trial, paradigm)}
