"""The pipeline assembler: resolve a Configuration into stages and check every edge at once."""
from __future__ import annotations

from typing import Optional

import attrs

from .claims import check_chain
from .config import Configuration
from .errors import ConfigError, IncompatibleStagesError, UnknownStageError
from .ports import check_ports
from .signals import CONTACT_MODES
from .plugins import default_registry


@attrs.frozen(eq=False)
class Pipeline:
    """Resolved stages of a configuration and the claims they make together."""

    config: Configuration
    emitter: object
    source: object
    field: Optional[object]
    probe: object
    objective: Optional[object]
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


def compatibility_problems(emitter, source, field, probe, objective, registry) -> tuple[dict, list]:
    """All claims and every broken edge (claims, ports, modes, metrics) of a chain."""
    chain = [(s.label, s.provides, s.requires()) for s in (emitter, source, field, probe) if s is not None]
    if objective is not None:
        chain.append((objective.label, {}, objective.requires()))
    claims, problems = check_chain(chain)
    problems = list(problems)
    problems += check_ports(source.label, source.inputs, emitter.label, emitter.outputs)
    if field is not None:
        problems += check_ports(field.label, field.inputs, source.label, source.outputs)
    modes = probe.modes
    if field is None:
        for m in modes:
            if m in CONTACT_MODES:
                problems.append(f"{probe.label} records {m!r} but the pipeline has no field stage; "
                                f"add a field or drop {m!r} from the probe's modes")
    if objective is not None:
        for t in objective.terms:
            try:
                metric = registry.get("objective", t.metric).value
            except UnknownStageError as e:
                problems.append(f"{objective.label} term {t.name!r}: {e}")
                continue
            if metric.mode not in modes:
                problems.append(f"{objective.label} term {t.name!r} (metric {t.metric!r}) needs "
                                f"probe mode {metric.mode!r}, which {probe.label} does not record "
                                f"(modes: {list(modes)})")
    return claims, problems


def assemble(cfg: Configuration, registry=None) -> Pipeline:
    """Resolve stages by name and refuse incompatible chains with one error listing every edge."""
    if registry is None:
        registry = default_registry()
    emitter = _instantiate(registry, "emitter", cfg.emitter)
    source = _instantiate(registry, "source", cfg.source)
    field = _instantiate(registry, "field", cfg.field) if cfg.field is not None else None
    probe = _instantiate(registry, "probe", cfg.probe)
    objective = cfg.objective          # an ObjectiveConfig: its terms and what they require
    claims, problems = compatibility_problems(emitter, source, field, probe, objective, registry)
    if cfg.task is not None:
        try:
            registry.get("paradigm", cfg.task.paradigm)
        except UnknownStageError as e:
            raise ConfigError([("$.task.paradigm", str(e))]) from None
    if problems:
        raise IncompatibleStagesError(problems)
    return Pipeline(cfg, emitter, source, field, probe, objective, claims, registry,
                    stage_provenance(cfg, registry))


def stage_provenance(cfg: Configuration, registry) -> tuple:
    """Who provides each stage of ``cfg`` (and each objective metric): plugin, distribution and
    version, so a receipt changes when a plugin's code does."""
    used = [(stage, getattr(cfg, stage).kind) for stage in ("emitter", "source", "field", "probe")
            if getattr(cfg, stage) is not None]
    if cfg.objective is not None:
        used += sorted({("objective", t.metric) for t in cfg.objective.terms})
    if cfg.task is not None:
        used.append(("paradigm", cfg.task.paradigm))
    out = []
    for stage, name in used:
        e = registry.get(stage, name)
        out.append({"stage": stage, "name": name, "plugin": e.plugin, "distribution": e.distribution,
                    "version": e.version})
    return tuple(out)
