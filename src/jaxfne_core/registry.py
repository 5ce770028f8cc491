"""The registry of stages: who registered what, duplicates refused, unknown names listed."""
from __future__ import annotations

from typing import Any, Iterator

import attrs

from .errors import DuplicateStageError, PluginError, UnknownStageError
from .stages import STAGE_KINDS, StageKind, check_registrable



@attrs.frozen
class StageEntry:
    """One registered stage: ``value`` is a stage class (or a Metric for objectives)."""

    stage: str
    name: str
    value: Any
    plugin: str
    distribution: str
    version: str = ""

    def to_json(self) -> dict:
        text = getattr(self.value, "summary", None)
        if not isinstance(text, str) or not text:
            text = getattr(self.value, "__doc__", None) or ""
        doc = text.strip().splitlines()
        return {"stage": self.stage, "name": self.name, "plugin": self.plugin,
                "distribution": self.distribution, "version": self.version, "summary": doc[0] if doc else ""}


class Registry:
    """Stages by kind and name. Built by :func:`jaxfne_core.plugins.load_registry`.
    kinds: name -> :class:`StageKind` (default: the host's own), in listing order."""

    def __init__(self, kinds: "dict[str, StageKind] | None" = None):
        kinds = dict(STAGE_KINDS if kinds is None else kinds)
        self.kinds = dict(sorted(kinds.items(), key=lambda kv: (kv[1].order, kv[0])))
        self._entries: dict[str, dict[str, StageEntry]] = {s: {} for s in self.kinds}
        self.failures: tuple = ()      # PluginFailure of installed plugins left out
        self.clashes: dict[tuple[str, str], list[StageEntry]] = {}   # names two installed plugins claim

    def _add(self, stage: str, name: str, value, plugin: str, distribution: str, version: str = ""):
        check_registrable(self.kinds[stage], name, value, plugin)
        new = StageEntry(stage, name, value, plugin, distribution, version)
        if (stage, name) in self.clashes:
            self.clashes[(stage, name)].append(new)
            return
        old = self._entries[stage].get(name)
        if old is not None:
            message = (f"{stage} {name!r} is registered twice: by plugin {old.plugin!r} "
                       f"(distribution {old.distribution}) and by plugin {plugin!r} "
                       f"(distribution {distribution}); block one with JAXFNE_BLOCK_PLUGINS=<distribution>")
            if "<local>" in (old.distribution, distribution):
                raise DuplicateStageError(message)
            # two installed plugins: neither is used until one is blocked (no silent winner)
            del self._entries[stage][name]
            self.clashes[(stage, name)] = [old, new]
            return
        self._entries[stage][name] = new

    def remove_plugin(self, plugin: str) -> None:
        """Take back everything ``plugin`` registered (a plugin that failed part-way)."""
        for by_name in self._entries.values():
            for name in [n for n, e in by_name.items() if e.plugin == plugin]:
                del by_name[name]

    def registrar(self, stage: str, plugin: str, distribution: str, version: str = "") -> "StageRegistrar":
        return StageRegistrar(self, stage, plugin, distribution, version)

    def get(self, stage: str, name: str) -> StageEntry:
        if stage not in self._entries:
            raise UnknownStageError("stage kind", stage, self.kinds,
                                    ["kinds come from the host and from plugins (jaxfne_declare_kinds)"])
        try:
            return self._entries[stage][name]
        except (KeyError, TypeError):
            clash = self.clashes.get((stage, name))
            notes = list(self.failures)
            if clash:
                notes.insert(0, f"{stage} {name!r} is registered by " + " and by ".join(
                    f"plugin {e.plugin!r} (distribution {e.distribution})" for e in clash)
                    + ", so neither is used; block one with JAXFNE_BLOCK_PLUGINS=<distribution>")
            raise UnknownStageError(stage, name, self._entries[stage], notes) from None

    def names(self, stage: str) -> list[str]:
        if stage not in self._entries:
            raise UnknownStageError("stage kind", stage, self.kinds)
        return sorted(self._entries[stage])

    def __iter__(self) -> Iterator[StageEntry]:
        for stage in self.kinds:
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
    version: str = ""

    def add(self, value, name: str | None = None):
        name = name or getattr(value, "name", None)
        if not isinstance(name, str) or not name:
            raise PluginError(f"plugin {self.plugin!r}: {self.stage} {value!r} has no 'name'")
        self._registry._add(self.stage, name, value, self.plugin, self.distribution, self.version)
        return value
