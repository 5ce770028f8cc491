"""The spectrolaminar motif of a run: trial-averaged relative power, FLIP under each probe
reference, and the evoked CSD's earliest sink.

A run that receives timed volleys (an ``evoked`` or ``rhythmic`` input) is cut into trials,
one per volley: ``trial_ms`` of LFP from each volley on (a trial must fit in the recording).
- Trial-averaged power: each trial's Hann-windowed periodogram (one-sided PSD, (signal
  units)^2 / Hz), averaged over trials; the relative power divides each frequency by its
  maximum over channels; FLIP (:mod:`jaxfne_analysis.flip`, as published) runs on it.
- References: the same analysis on the monopolar recording (``infinity``), its common average
  and its bipolar derivation (:mod:`jaxfne_analysis.reference`).
- Evoked CSD: trials averaged and the mean of the ``baseline_ms`` before each volley removed;
  the earliest sink is the contact whose CSD first falls below ``-threshold_sd`` standard
  deviations of the baseline (pooled over contacts) within ``window_ms`` of the volley (CSD
  negative = sink).
Times in ms (absolute simulation time, as the inputs' times), depths in um.
"""
from __future__ import annotations

from typing import Optional

import attrs
import numpy as np

from jaxfne_core.errors import ConfigError

from .flip import FlipResult, flip
from .reference import reference_depths_um, rereference
from .spectral import relative_power

REFERENCES = ("infinity", "common_average", "bipolar")
MOTIF_TRIAL_MS = 500.0      # a run's motif trial: this long from each volley (ms)
MOTIF_BASELINE_MS = 50.0    # and its CSD baseline before the volley (ms)


def event_times_ms(inputs) -> np.ndarray:
    """Sorted volley times (ms) of a source's ``evoked`` and ``rhythmic`` inputs (an
    ``InputSpec`` sequence; others are ignored)."""
    times = []
    for spec in inputs or ():
        if spec.kind == "evoked":
            times += list(spec.times_ms)
        elif spec.kind == "rhythmic":
            times += list(np.arange(spec.start_ms, spec.stop_ms, spec.interval_ms))
    return np.unique(np.asarray(times, float))


def epochs(x, dt_ms: float, t0_ms: float, events_ms, start_ms: float, length_ms: float) -> np.ndarray:
    """(T, C) -> (n, L, C): windows of ``length_ms`` starting ``start_ms`` from each volley
    (volleys whose window leaves the recording are dropped). Row k covers (t0 + k dt,
    t0 + (k + 1) dt]: a window from time e opens on the first row that starts at or after e."""
    x = np.asarray(x, np.float64)
    offset = int(round(start_ms / dt_ms))
    length = int(round(length_ms / dt_ms))
    rows = np.ceil((np.asarray(events_ms, float) - t0_ms) / dt_ms - 1e-9).astype(int) + offset
    rows = rows[(rows >= 0) & (rows + length <= x.shape[0])]
    if rows.size == 0:
        raise ConfigError([("events_ms", f"no volley leaves a {length_ms:g} ms window from {start_ms:g} ms inside "
                            f"the recording ({t0_ms:g} to {t0_ms + x.shape[0] * dt_ms:g} ms)")])
    return np.stack([x[r:r + length] for r in rows])


def trial_power(trials, dt_ms: float):
    """(n, L, C) trials -> (f Hz (F,), power (C, F)): the mean over trials of each trial's
    Hann-windowed one-sided PSD (mean removed per trial and channel)."""
    x = np.asarray(trials, np.float64)
    x = x - x.mean(axis=1, keepdims=True)
    n = x.shape[1]
    w = np.hanning(n)
    fs = 1000.0 / dt_ms
    spec = np.fft.rfft(x * w[None, :, None], axis=1)
    p = np.abs(spec) ** 2 / (fs * np.sum(w ** 2))
    p[:, 1:] *= 2.0
    if n % 2 == 0:
        p[:, -1] /= 2.0
    return np.fft.rfftfreq(n, dt_ms / 1000.0), p.mean(axis=0).T


@attrs.frozen
class EarliestSink:
    """depth_um / channel / latency_ms of the first contact to cross the sink threshold (None:
    none crossed); threshold in CSD units."""

    depth_um: Optional[float]
    channel: Optional[int]
    latency_ms: Optional[float]
    threshold: float


def earliest_sink(evoked, dt_ms: float, depths_um, baseline_sd: float, window_ms: float = 50.0,
                  threshold_sd: float = 3.0) -> EarliestSink:
    """(L, C) baseline-removed evoked CSD from the volley on -> its earliest sink."""
    csd = np.asarray(evoked, np.float64)[: int(round(window_ms / dt_ms))]
    thr = threshold_sd * float(baseline_sd)
    below = csd < -thr
    if not below.any():
        return EarliestSink(None, None, None, thr)
    first = np.where(below.any(axis=0), below.argmax(axis=0), np.iinfo(np.int64).max)
    ch = int(np.argmin(first))
    return EarliestSink(float(np.asarray(depths_um)[ch]), ch, float((first[ch] + 1) * dt_ms), thr)


@attrs.frozen
class MotifReport:
    """The motif analysis of one run (module docstring). flip: reference -> FlipResult;
    crossover_um: reference -> the crossover's depth (None: no motif or no crossover);
    freqs (F,) and relative (reference -> (C', F)) the trial-averaged relative power;
    depths (reference -> (C',) um); contact_depths_um (C,); evoked_csd (L, C) and
    evoked_dipole (L, P + 1; the dipoles' depth components) from baseline_ms before the volley,
    baseline removed, at evoked_time_ms (L,) from the volley."""

    n_trials: int
    trial_ms: float
    flip: dict
    crossover_um: dict
    freqs: np.ndarray
    relative: dict
    depths_um: dict
    sink: Optional[EarliestSink]
    contact_depths_um: np.ndarray
    evoked_time_ms: np.ndarray
    evoked_csd: Optional[np.ndarray] = None
    evoked_dipole: Optional[np.ndarray] = None

    def summary(self) -> dict:
        """JSON-ready: per reference, found/upright/G/window/crossover depth; the sink."""
        out = {"n_trials": self.n_trials, "trial_ms": self.trial_ms, "references": {}}
        for ref, r in self.flip.items():
            out["references"][ref] = {"found": r.found, "upright": r.upright, "goodness": r.goodness,
                                      "window": None if r.window is None else list(r.window),
                                      "crossover_um": self.crossover_um[ref]}
        if self.sink is not None:
            out["earliest_sink"] = attrs.asdict(self.sink)
        return out


def _crossover_depth(result: FlipResult, depths) -> Optional[float]:
    if not result.found or result.crossover_channel is None:
        return None
    return float(np.interp(result.crossover_channel, np.arange(len(depths)), depths))


def _evoked(x, dt_ms, t0_ms, events_ms, baseline_ms, trial_ms):
    """Trial average of (T, X) from baseline_ms before each volley, minus its baseline mean."""
    c = epochs(x, dt_ms, t0_ms, events_ms, -baseline_ms, baseline_ms + trial_ms).mean(axis=0)
    return c - c[:int(round(baseline_ms / dt_ms))].mean(axis=0, keepdims=True)


def motif_report(lfp, dt_ms: float, t0_ms: float, depths_um, events_ms, trial_ms: float = 500.0, csd=None,
                 references=REFERENCES, baseline_ms: float = 50.0, window_ms: float = 50.0,
                 threshold_sd: float = 3.0, dipole=None) -> MotifReport:
    """The motif analysis of a (T, C) LFP (and optionally its (T, C) CSD and (T, P + 1)
    dipole depth components) recorded from ``t0_ms`` every ``dt_ms``, with volleys at
    ``events_ms`` (module docstring)."""
    depths = np.asarray(depths_um, np.float64)
    if depths.size < 2:
        raise ConfigError([("depths_um", "the motif needs a laminar probe of at least 2 contacts")])
    spacing = float(np.mean(np.diff(depths)))
    trials = epochs(lfp, dt_ms, t0_ms, events_ms, 0.0, trial_ms)
    flips, cross, rel, dep = {}, {}, {}, {}
    for ref in references:
        v = rereference(trials, ref)
        freqs, p = trial_power(v, dt_ms)
        rel[ref] = relative_power(p)
        dep[ref] = reference_depths_um(depths, ref)
        flips[ref] = flip(rel[ref], freqs, spacing)
        cross[ref] = _crossover_depth(flips[ref], dep[ref])
    nb = int(round(baseline_ms / dt_ms))
    t = (np.arange(nb + int(round(trial_ms / dt_ms))) - nb + 1) * dt_ms
    sink = evoked = dip = None
    if csd is not None:
        evoked = _evoked(csd, dt_ms, t0_ms, events_ms, baseline_ms, trial_ms)
        sink = earliest_sink(evoked[nb:], dt_ms, depths, evoked[:nb].std(), window_ms, threshold_sd)
    if dipole is not None:
        dip = _evoked(dipole, dt_ms, t0_ms, events_ms, baseline_ms, trial_ms)
    return MotifReport(int(trials.shape[0]), float(trial_ms), flips, cross, freqs, rel, dep, sink, depths, t,
                       evoked, dip)


def signals_motif_report(signals, events_ms, trial_ms: float = 500.0, **options) -> MotifReport:
    """:func:`motif_report` of a run's Signals (LFP; CSD and dipole when recorded)."""
    depths = signals.context.model.contact_positions_um[:, 2]
    csd = np.asarray(signals["CSD"]) if "CSD" in signals else None
    dipole = np.asarray(signals["dipole"])[..., 2] if "dipole" in signals else None
    return motif_report(np.asarray(signals["LFP"]), signals.dt_ms, signals.t0_ms, depths, events_ms, trial_ms,
                        csd, dipole=dipole, **options)


def run_motif_report(signals, events_ms, trial_ms: float = MOTIF_TRIAL_MS):
    """The motif report of a run with volleys at ``events_ms`` (None when it has no LFP, no
    laminar probe, no volleys, or no trial that fits, with its baseline, in the recording)."""
    if events_ms is None or len(events_ms) == 0 or "LFP" not in signals or signals["LFP"].ndim != 2:
        return None
    z = signals.context.model.contact_positions_um[:, 2]
    if z.size < 2 or (z.max() - z.min()) < 700.0 - 1e-9:         # FLIP needs 0.7 mm of probe
        return None
    rows = signals["LFP"].shape[0]
    first = np.ceil((np.asarray(events_ms, float) - signals.t0_ms) / signals.dt_ms - 1e-9)
    fits = (first - MOTIF_BASELINE_MS / signals.dt_ms >= 0) & (first + trial_ms / signals.dt_ms <= rows)
    if not fits.any():
        return None
    return signals_motif_report(signals, np.asarray(events_ms, float)[fits], trial_ms)
