"""The ``task`` section of a configuration: a paradigm's trials and the drives that stimulate
them (times in ms, amplitudes native). Registered as a configuration section by this package."""
from __future__ import annotations

from typing import Optional

import attrs

from jaxfne_core.errors import ConfigError, UnknownStageError
from jaxfne_core.validators import FieldValueError, number, one_of


def _nonempty(inst, attr, value):
    if len(value) == 0:
        raise FieldValueError(attr.name, f"{attr.name!r} must not be empty")


@attrs.frozen
class DriveConfig:
    """A stimulus drive: native current injected into ``targets`` (population names such as
    ``L4_E``, layer names such as ``L4``, or cell types such as ``E``) at each listed event of
    a trial that is not omitted (fixation ``fx`` and reward ``rw`` only if listed).
    shape: ``box`` (for duration_ms, default the event's duration) or ``alpha``
    ((t / tau) exp(1 - t / tau), peak 1 at tau_ms). delay_ms: latency after the onset.
    stimulus_gain: amplitude factor per stimulus identity (e.g. {"A": 1.0, "B": 0.7}).
    delivery: ``current`` (injected into the targets) or ``synaptic``: nothing is injected;
    the time course (amplitude in Hz) is the rate of the source's ``drive`` inputs that name
    this drive, which spike through synapses (their own transmembrane currents)."""

    name: str
    events: tuple[str, ...] = attrs.field(validator=_nonempty)
    targets: tuple[str, ...] = attrs.field(validator=_nonempty)
    amplitude: float = attrs.field(validator=number())
    shape: str = attrs.field(default="box", validator=one_of("box", "alpha"))
    tau_ms: float = attrs.field(default=10.0, validator=number(0, lo_open=True))
    delay_ms: float = attrs.field(default=0.0, validator=number(0))
    duration_ms: Optional[float] = attrs.field(default=None, validator=attrs.validators.optional(number(0, lo_open=True)))
    stimulus_gain: Optional[dict[str, float]] = None
    delivery: str = attrs.field(default="current", validator=one_of("current", "synaptic"))


@attrs.frozen
class TaskConfig:
    """Trials of a paradigm and the drives that stimulate them.

    paradigm: a registered paradigm (checked at assembly). conditions: the conditions to run
    (default all). trials_per_condition: trials of each condition. drives: the stimulus drives
    (:class:`DriveConfig`). trial_ms: the trial length (default the paradigm's). chunk_size:
    trials per vmapped chunk (default all; bounds memory). seed: the trials' seed: trial k of
    condition c gets the random key fold_in(fold_in(key(seed), c), k), so results do not depend
    on chunking. Trials use the simulation section's dt_ms."""

    paradigm: str = "standard_visual_omission"
    conditions: Optional[tuple[str, ...]] = None
    trials_per_condition: int = attrs.field(default=4, validator=number(1, 100_000))
    drives: tuple[DriveConfig, ...] = ()
    trial_ms: Optional[float] = attrs.field(default=None, validator=attrs.validators.optional(number(0, lo_open=True)))
    chunk_size: Optional[int] = attrs.field(default=None, validator=attrs.validators.optional(number(1)))
    seed: int = attrs.field(default=0, validator=number(0, 2**32 - 1))

    def problems(self, stages: dict, registry) -> list:
        """An unregistered paradigm is refused by its path (a ConfigError); nothing else here
        depends on the stages (the paradigm checks its conditions and drives before a run)."""
        try:
            registry.get("paradigm", self.paradigm)
        except UnknownStageError as e:
            raise ConfigError([("$.task.paradigm", str(e))]) from None
        return []

    def uses(self) -> list:
        """The paradigm, whose plugin, distribution and version enter the receipt."""
        return [("paradigm", self.paradigm)]
