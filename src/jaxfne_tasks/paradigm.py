"""Task paradigms: conditions made of timed events, event codes and analysis windows.

Times: an event's ``onset_ms`` is relative to the alignment event (p1 for the omission task);
a simulated trial starts ``prestim_ms`` before it, so event k sits at simulation time
``prestim_ms + onset_ms``. An omitted event keeps its slot and code but injects nothing.
"""
from __future__ import annotations

from typing import Optional

import attrs

from jaxfne_core.validators import number
from jaxfne_core.errors import UnknownNameError


@attrs.frozen
class Event:
    """name (e.g. ``p2``), code (event code), onset_ms (from alignment), duration_ms,
    stimulus (identity such as ``A``; None for fixation/reward), omitted."""

    name: str
    code: int
    onset_ms: float
    duration_ms: float = attrs.field(default=50.0, validator=number(0))
    stimulus: Optional[str] = None
    omitted: bool = False


@attrs.frozen
class Condition:
    name: str
    numbers: tuple[int, ...]
    events: tuple[Event, ...]
    omission_position: Optional[int] = None

    def event(self, name: str) -> Event:
        for e in self.events:
            if e.name == name:
                return e
        raise UnknownNameError(f"condition {self.name!r} has no event {name!r}; events: {[e.name for e in self.events]}")


@attrs.frozen
class Paradigm:
    """A named set of conditions with event codes, analysis windows (ms from alignment), the
    pre-stimulus buffer and the trial length (ms of simulation per trial)."""

    name: str
    conditions: tuple[Condition, ...]
    event_codes: dict[str, int]
    analysis_windows: dict[str, tuple[float, float]]
    align_event: str
    prestim_ms: float = attrs.field(default=1000.0, validator=number(0))
    trial_ms: float = attrs.field(default=2000.0, validator=number(0, lo_open=True))

    def condition_names(self) -> list[str]:
        return [c.name for c in self.conditions]

    def condition(self, name: str) -> Condition:
        for c in self.conditions:
            if c.name == name:
                return c
        raise UnknownNameError(f"paradigm {self.name!r} has no condition {name!r}; allowed: {self.condition_names()}")

    def condition_of_number(self, number: int) -> Condition:
        for c in self.conditions:
            if number in c.numbers:
                return c
        raise UnknownNameError(f"no condition has number {number}")

    def omission_conditions(self) -> list[Condition]:
        return [c for c in self.conditions if c.omission_position is not None]

    def to_dict(self) -> dict:
        return attrs.asdict(self, value_serializer=lambda i, a, v: list(v) if isinstance(v, tuple) else v)

    @classmethod
    def from_dict(cls, data: dict) -> "Paradigm":
        import cattrs
        return cattrs.Converter(forbid_extra_keys=True).structure(data, cls)


OMISSION_EVENT_CODES = {"fx": 10, "p1": 101, "p2": 103, "p3": 105, "p4": 107, "rw": 96}
OMISSION_ONSETS_MS = {"fx": -100.0, "p1": 0.0, "p2": 100.0, "p3": 200.0, "p4": 300.0, "rw": 400.0}
_OMISSION_TABLE = [
    ("AAAB", (1, 2)), ("AXAB", (3,)), ("AAXB", (4,)), ("AAAX", (5,)),
    ("BBBA", (6, 7)), ("BXBA", (8,)), ("BBXA", (9,)), ("BBBX", (10,)),
    ("RRRR", tuple(range(11, 27))), ("RXRR", tuple(range(27, 35))),
    ("RRXR", (35, 37, 39, 41)), ("RRRX", (36, 38, 40) + tuple(range(42, 51))),
]


def standard_visual_omission(stimulus_ms: float = 50.0) -> Paradigm:
    """The visual omission task: 12 conditions (X = the omitted stimulus), their condition
    numbers, event codes fx 10, p1 101, p2 103, p3 105, p4 107, rw 96, onsets fx 0, p1 100,
    p2 200, p3 300, p4 400, rw 500 ms in trial time (aligned here on p1), pre-stimulus buffer
    1000 ms, windows baseline (-500, 0), event (0, 500), post_event (500, 1000) ms."""
    conditions = []
    for name, numbers in _OMISSION_TABLE:
        events = [Event("fx", 10, OMISSION_ONSETS_MS["fx"], 0.0)]
        omitted_at = None
        for k, letter in enumerate(name, start=1):
            omitted = letter == "X"
            if omitted:
                omitted_at = k
            events.append(Event(f"p{k}", OMISSION_EVENT_CODES[f"p{k}"], OMISSION_ONSETS_MS[f"p{k}"],
                                stimulus_ms, None if omitted else letter, omitted))
        events.append(Event("rw", 96, OMISSION_ONSETS_MS["rw"], 0.0))
        conditions.append(Condition(name, numbers, tuple(events), omitted_at))
    return Paradigm("standard_visual_omission", tuple(conditions), dict(OMISSION_EVENT_CODES),
                    {"baseline": (-500.0, 0.0), "event": (0.0, 500.0), "post_event": (500.0, 1000.0)},
                    "p1", 1000.0, 2000.0)


def global_local_oddball(soa_ms: float = 150.0, tone_ms: float = 50.0) -> Paradigm:
    """Local-global auditory oddball (Bekinschtein et al. 2009): five tones per trial, SOA
    150 ms; blocks whose frequent sequence is xxxxx or xxxxY. Conditions cross local (the
    5th tone differs) and global (the sequence is rare in its block) deviance."""
    codes = {f"s{k}": 110 + k for k in range(1, 6)}
    table = [("LSGS", "xxxxx", "xxxxx"), ("LDGD", "xxxxY", "xxxxx"),
             ("LDGS", "xxxxY", "xxxxY"), ("LSGD", "xxxxx", "xxxxY")]
    conditions = []
    for i, (name, seq, block) in enumerate(table, start=1):
        events = tuple(Event(f"s{k}", codes[f"s{k}"], (k - 1) * soa_ms, tone_ms, tone)
                       for k, tone in enumerate(seq, start=1))
        conditions.append(Condition(f"{name}_{seq}_in_{block}", (i,), events, None))
    return Paradigm("global_local_oddball", tuple(conditions), codes,
                    {"baseline": (-200.0, 0.0), "sequence": (0.0, 5 * soa_ms), "post": (5 * soa_ms, 5 * soa_ms + 400.0)},
                    "s1", 500.0, 500.0 + 5 * soa_ms + 400.0)


PARADIGMS = {"standard_visual_omission": standard_visual_omission, "global_local_oddball": global_local_oddball}
"""The built-in paradigms' data by name (registered as stages by :mod:`jaxfne_tasks.plugin`)."""
