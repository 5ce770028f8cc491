"""The reference's stimulus schedule (v0.0.12): timed boxes of drive into every cell.

``model.simulate(sim, paradigm=schedule)`` (or a paradigm condition) adds ``amplitude`` to the
input of every cell from ``onset_ms`` for ``duration_ms`` (ms of simulation time), in the
emitter's drive units (native for izhikevich): one drive channel through the engine's
``inputs``, so it runs inside the same compiled scan as any task drive.
"""
from __future__ import annotations

import attrs
import numpy as np

from jaxfne_core.errors import ConfigError


@attrs.frozen
class StimulusSchedule:
    """events: dicts with onset_ms, duration_ms, amplitude, label, is_drive_event; n_neurons
    the cells it drives (all of the model's)."""

    events: tuple
    n_neurons: int

    def to_array(self, n_steps: int, dt_ms: float) -> np.ndarray:
        """(n_steps, n_neurons) float32 drive: step k at time k x dt_ms."""
        return np.repeat(self.time_course(n_steps, dt_ms)[:, None], self.n_neurons, axis=1)

    def time_course(self, n_steps: int, dt_ms: float) -> np.ndarray:
        """(n_steps,) float32 amplitude of the drive common to every cell."""
        out = np.zeros(int(n_steps), np.float32)
        for ev in self.events:
            if not ev.get("is_drive_event", True) or float(ev.get("amplitude", 0.0)) == 0.0:
                continue
            start = int(round(float(ev["onset_ms"]) / dt_ms))
            end = int(round((float(ev["onset_ms"]) + float(ev["duration_ms"])) / dt_ms))
            out[max(0, start):max(0, min(end, n_steps))] += float(ev["amplitude"])
        return out

    def to_dict(self) -> dict:
        return {"n_drive_events": sum(bool(e.get("is_drive_event", True)) for e in self.events),
                "n_neurons": self.n_neurons, "events": [dict(e) for e in self.events], "units": "drive units"}


EVENT_KEYS = {"onset_ms", "duration_ms", "amplitude", "label", "is_drive_event"}


def stimulus_schedule(events, n_neurons: int, *, drive_amplitude: float = 5.0,
                      event_duration_ms: float = 50.0, prestim_ms: float = 0.0) -> StimulusSchedule:
    """A schedule from paradigm events (``jaxfne_tasks`` Event: onset, duration, omitted) or
    dicts with ``onset_ms`` (and optionally duration_ms, amplitude, label). An omitted event or
    amplitude 0 injects nothing. prestim_ms shifts paradigm events (their onsets are relative
    to the alignment event) into simulation time."""
    out = []
    for i, e in enumerate(events):
        if hasattr(e, "onset_ms") and hasattr(e, "omitted"):
            drive = not e.omitted and e.duration_ms > 0
            out.append({"label": e.name, "onset_ms": prestim_ms + float(e.onset_ms),
                        "duration_ms": float(e.duration_ms), "amplitude": drive_amplitude if drive else 0.0,
                        "is_drive_event": drive})
            continue
        try:
            d = dict(e)
            onset = float(d["onset_ms"])
        except (TypeError, ValueError, KeyError):
            raise ConfigError([(f"events[{i}]", f"{e!r} is not allowed; allowed: a paradigm event or a dict "
                                "with onset_ms")]) from None
        unknown = sorted(set(d) - EVENT_KEYS)
        if unknown:
            raise ConfigError([(f"events[{i}]", f"unknown keys {unknown}; allowed: {', '.join(sorted(EVENT_KEYS))}")])
        amplitude = float(d.get("amplitude", drive_amplitude))
        d = {"label": d.get("label", f"event{i}"), "onset_ms": onset,
             "duration_ms": float(d.get("duration_ms", event_duration_ms)), "amplitude": amplitude,
             "is_drive_event": bool(d.get("is_drive_event", amplitude != 0.0))}
        if d["duration_ms"] < 0:
            raise ConfigError([(f"events[{i}].duration_ms", f"{d['duration_ms']} < 0; allowed: >= 0")])
        out.append(d)
    if not isinstance(n_neurons, int) or n_neurons < 1:
        raise ConfigError([("n_neurons", f"{n_neurons!r} is not allowed; allowed: an integer >= 1")])
    return StimulusSchedule(tuple(out), n_neurons)
