"""The registry of stages: who registered what, duplicates refused, unknown names listed."""
from __future__ import annotations

from typing import Any, Iterator

import attrs

from .errors import DuplicateStageError, UnknownStageError

STAGES = ("emitter", "source", "field", "probe", "objective", "optimizer")


@attrs.frozen
class StageEntry:
    """One registered stage: ``value`` is a stage class (or a Metric for objectives)."""

    stage: str
    name: str
    value: Any
    plugin: str
    distribution: str

    def to_json(self) -> dict:
        text = getattr(self.value, "summary", None)
        if not isinstance(text, str) or not text:
            text = getattr(self.value, "__doc__", None) or ""
        doc = text.strip().splitlines()
        return {"stage": self.stage, "name": self.name, "plugin": self.plugin,
                "distribution": self.distribution, "summary": doc[0] if doc else ""}


class Registry:
    """Stages by kind and name. Built by :func:`jaxfne_core.plugins.load_registry`."""

    def __init__(self):
        self._entries: dict[str, dict[str, StageEntry]] = {s: {} for s in STAGES}

    def _add(self, stage: str, name: str, value, plugin: str, distribution: str):
        from .stages import check_registrable
        check_registrable(stage, name, value, plugin)
        old = self._entries[stage].get(name)
        if old is not None:
            raise DuplicateStageError(
                f"{stage} {name!r} is registered twice: by plugin {old.plugin!r} "
                f"(distribution {old.distribution}) and by plugin {plugin!r} "
                f"(distribution {distribution}); block one with JAXFNE_BLOCK_PLUGINS={plugin}")
        self._entries[stage][name] = StageEntry(stage, name, value, plugin, distribution)

    def registrar(self, stage: str, plugin: str, distribution: str) -> "StageRegistrar":
        return StageRegistrar(self, stage, plugin, distribution)

    def get(self, stage: str, name: str) -> StageEntry:
        if stage not in self._entries:
            raise UnknownStageError("stage kind", stage, STAGES)
        try:
            return self._entries[stage][name]
        except (KeyError, TypeError):
            raise UnknownStageError(stage, name, self._entries[stage]) from None

    def names(self, stage: str) -> list[str]:
        return sorted(self._entries[stage])

    def __iter__(self) -> Iterator[StageEntry]:
        for stage in STAGES:
            yield from (self._entries[stage][n] for n in sorted(self._entries[stage]))

    def __len__(self):
        return sum(len(v) for v in self._entries.values())


@attrs.define
class StageRegistrar:
    """What a hook receives: ``registry.add(cls_or_metric)`` registers under this hook's stage."""

    _registry: Registry
    stage: str
    plugin: str
    distribution: str

    def add(self, value, name: str | None = None):
        name = name or getattr(value, "name", None)
        if not isinstance(name, str) or not name:
            raise TypeError(f"plugin {self.plugin!r}: {self.stage} {value!r} has no 'name'")
        self._registry._add(self.stage, name, value, self.plugin, self.distribution)
        return value
