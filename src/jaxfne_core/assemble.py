"""The pipeline assembler: resolve a Configuration into stages and check every edge at once."""
from __future__ import annotations

from typing import Optional

import attrs

from .claims import check_chain
from .config import Configuration
from .errors import IncompatibleStagesError
from .ports import check_ports
from .signals import CONTACT_MODES
from .stages import PLUGIN_SECTIONS
from .plugins import default_registry


@attrs.frozen(eq=False)
class Pipeline:
    """Resolved stages of a configuration and the claims they make together."""

    config: Configuration
    emitter: object
    source: object
    field: Optional[object]
    probe: object
    claims: dict
    registry: object
    provenance: tuple = ()      # (stage, name, plugin, distribution, version) of every stage used

    @property
    def stages(self) -> dict:
        out = {"emitter": self.emitter, "source": self.source, "probe": self.probe}
        if self.field is not None:
            out["field"] = self.field
        return out


def _instantiate(registry, stage, section):
    cls = registry.get(stage, section.kind).value
    return cls(section.options)


def plugin_sections(cfg: Configuration) -> list:
    """The configuration's plugin sections that are present, in the Configuration's order
    (network, objective, task)."""
    return [getattr(cfg, f.name) for f in attrs.fields(Configuration)
            if f.name in PLUGIN_SECTIONS and getattr(cfg, f.name) is not None]


def compatibility_problems(stages: dict, sections, registry) -> tuple[dict, list]:
    """All claims and every broken edge of a chain: ``stages`` (kind -> stage; field may be
    missing) and the plugin ``sections`` that depend on them. A section takes part through
    the optional methods of its class: ``requires()`` and ``label`` (claims it needs, like a
    stage's) and ``problems(stages, registry)`` (what the stages cannot deliver to it, as
    messages; an objective's metric needing a mode the probe does not record)."""
    emitter, source, field, probe = (stages.get(k) for k in ("emitter", "source", "field", "probe"))
    chain = [(s.label, s.provides, s.requires()) for s in (emitter, source, field, probe) if s is not None]
    chain += [(sec.label, {}, sec.requires()) for sec in sections if callable(getattr(sec, "requires", None))]
    claims, problems = check_chain(chain)
    problems = list(problems)
    problems += check_ports(source.label, source.inputs, emitter.label, emitter.outputs)
    if field is not None:
        problems += check_ports(field.label, field.inputs, source.label, source.outputs)
    else:
        problems += [f"{probe.label} records {m!r} but the pipeline has no field stage; add a field or drop "
                     f"{m!r} from the probe's modes" for m in probe.modes if m in CONTACT_MODES]
    for sec in sections:
        if callable(getattr(sec, "problems", None)):
            problems += list(sec.problems(stages, registry))
    return claims, problems


def assemble(cfg: Configuration, registry=None) -> Pipeline:
    """Resolve stages by name and refuse incompatible chains with one error listing every edge."""
    if registry is None:
        registry = default_registry()
    emitter = _instantiate(registry, "emitter", cfg.emitter)
    source = _instantiate(registry, "source", cfg.source)
    field = _instantiate(registry, "field", cfg.field) if cfg.field is not None else None
    probe = _instantiate(registry, "probe", cfg.probe)
    stages = {"emitter": emitter, "source": source, "probe": probe}
    if field is not None:
        stages["field"] = field
    claims, problems = compatibility_problems(stages, plugin_sections(cfg), registry)
    if problems:
        raise IncompatibleStagesError(problems)
    return Pipeline(cfg, emitter, source, field, probe, claims, registry, stage_provenance(cfg, registry))


def stage_provenance(cfg: Configuration, registry) -> tuple:
    """Who provides each stage of ``cfg`` and each registered thing its plugin sections use
    (their optional ``uses()``: (kind, name) pairs, e.g. an objective's metrics, a task's
    paradigm): plugin, distribution and version, so a receipt changes when a plugin's code does."""
    used = [(stage, getattr(cfg, stage).kind) for stage in ("emitter", "source", "field", "probe")
            if getattr(cfg, stage) is not None]
    for sec in plugin_sections(cfg):
        if callable(getattr(sec, "uses", None)):
            used += list(sec.uses())
    out = []
    for stage, name in used:                  # every name was checked by the assembly first
        e = registry.get(stage, name)
        out.append({"stage": stage, "name": name, "plugin": e.plugin, "distribution": e.distribution,
                    "version": e.version})
    return tuple(out)
