"""Every option of every registered stage, read from its attrs ``Options`` class: name, type,
default, units, allowed values and the sentence of the class docstring that describes it.
Used by ``jaxfne plugins --options [STAGE [NAME]]`` and to generate ``docs/options.md``.
"""
from __future__ import annotations

import re
import typing

import attrs

from jaxfne_core.config import Simulation

# units read from an option's name suffix (the project's naming rule: units in the name)
UNIT_SUFFIXES = (("_S_per_m", "S/m"), ("_nA_per_native", "nA per native unit"), ("_ms", "ms"), ("_um", "um"),
                 ("_mV", "mV"), ("_deg", "degrees"), ("_hz", "Hz"), ("_nA", "nA"), ("_uV", "uV"))


def units_of(name: str) -> str:
    for suffix, unit in UNIT_SUFFIXES:
        if name.endswith(suffix) or f"{suffix}_" in name or f"{suffix}." in name:
            return unit
    return ""


def _allowed(validator) -> str:
    """What a validator allows, from the ``allowed`` text jaxfne's validators carry."""
    if validator is None:
        return ""
    if hasattr(validator, "allowed"):
        return validator.allowed
    parts = getattr(validator, "_validators", None)           # attrs and_ / a list of validators
    if parts:
        return "; ".join(a for a in (_allowed(v) for v in parts) if a)
    inner = getattr(validator, "validator", None)             # attrs.validators.optional
    if inner is not None:
        text = _allowed(inner)
        return f"{text} or null" if text else "or null"
    return ""


def _describe(doc: str, name: str) -> str:
    """The clause of ``doc`` that names ``name`` (up to its sentence's end), or ''."""
    text = " ".join((doc or "").split())
    for sentence in re.split(r"(?<=[.!?])\s+(?=[A-Za-z`(])", text):
        if re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", sentence):
            return sentence.strip()
    return ""


def _default(field) -> object:
    d = field.default
    if d is attrs.NOTHING:
        return "(required)"
    if isinstance(d, attrs.Factory):             # type: ignore[arg-type]
        return "(computed)"
    return list(d) if isinstance(d, tuple) else d


def stage_options(entry) -> list[dict]:
    """Rows {name, type, default, units, allowed, description} of one registry entry's options."""
    cls = entry.value if entry.stage == "section" else getattr(entry.value, "Options", None)
    return class_options(cls) if cls is not None and attrs.has(cls) else []


def class_options(cls) -> list[dict]:
    """Rows {name, type, default, units, allowed, description} of an attrs class's fields."""
    doc = " ".join(filter(None, (c.__doc__ for c in reversed(cls.__mro__) if c is not object)))
    rows = []
    for f in attrs.fields(cls):
        kind = f.type.__name__ if isinstance(f.type, type) else re.sub(r"\b(?:[A-Za-z_]\w*\.)+(\w+)", r"\1", str(f.type))
        rows.append({"name": f.name, "type": kind, "default": _default(f),
                     "units": units_of(f.name), "allowed": _allowed(f.validator),
                     "description": _describe(doc, f.name)})
    return rows


def options_table(registry, stage=None, name=None, distribution=None) -> list[dict]:
    """One dict per registered stage (optionally one stage kind, one name, one distribution)
    with its options (a configuration section: its fields); objective metrics, commands and
    model methods have none and are left out (``jaxfne plugins`` lists them)."""
    out = []
    for e in registry:
        kind = registry.kinds[e.stage]
        if not (kind.options or kind.section) or (stage and e.stage != stage) or (name and e.name != name):
            continue
        if distribution and e.distribution != distribution:
            continue
        row = {"stage": e.stage, "name": e.name, "distribution": e.distribution,
               "summary": e.to_json()["summary"], "options": stage_options(e)}
        classes = getattr(e.value, "cell_classes", None)
        if e.stage == "emitter" and callable(classes) and classes():
            row["cell_classes"] = dict(classes())
        out.append(row)
    return out


def options_text(table) -> str:
    lines = []
    for s in table:
        lines.append(f"{s['stage']} {s['name']} ({s['distribution']}): {s['summary']}")
        for o in s["options"] or [{"name": "(no options)"}]:
            if "type" not in o:
                lines.append(f"  {o['name']}")
                continue
            unit = f" [{o['units']}]" if o["units"] else ""
            allowed = f"; allowed: {o['allowed']}" if o["allowed"] else ""
            lines.append(f"  {o['name']}: {o['type']}{unit} = {o['default']!r}{allowed}")
            if o["description"]:
                lines.append(f"      {o['description']}")
        if s.get("cell_classes"):
            lines.append("  cell classes (populations '<class>' or '<layer>_<class>'):")
            lines += [f"    {k}: {v}" for k, v in s["cell_classes"].items()]
        lines.append("")
    return "\n".join(lines)


def options_markdown(table, sections=(), kinds=()) -> str:
    """The options as a Markdown page (docs/options.md is this for the built-in stages, with
    ``sections``: (title, attrs class) pairs of the configuration's non-stage sections)."""
    lines = ["# Stage options", "",
             "Generated from the stages' attrs `Options` classes by "
             "`jaxfne plugins --options --markdown --distribution jaxfne`; "
             "`tests/test_options_doc.py` fails when this page is out of date. "
             "Units come from the option names; `jaxfne plugins --options` lists third-party stages too.", ""]
    for stage in kinds or dict.fromkeys(s["stage"] for s in table):
        group = [s for s in table if s["stage"] == stage and stage != "section"]
        if not group:
            continue
        lines += [f"## {stage.capitalize()}s", ""]
        for s in group:
            lines += [f"### `{s['name']}`", "", s["summary"], ""]
            if not s["options"]:
                lines += ["No options.", ""]
                continue
            lines += _rows(s["options"])
            if s.get("cell_classes"):
                lines += ["Cell classes (a population is `<class>` or `<layer>_<class>`):", "",
                          "| class | meaning |", "|---|---|"]
                lines += [f"| `{k}` | {v} |" for k, v in s["cell_classes"].items()] + [""]
    if sections:
        lines += ["## Configuration sections", ""]
        for title, cls in sections:
            lines += [f"### `{title}`", "", (cls.__doc__ or "").strip().split("\n")[0], ""]
            lines += _rows(class_options(cls))
    return "\n".join(lines).rstrip() + "\n"


def config_sections(registry) -> list[tuple[str, type]]:
    """(title, attrs class) of each non-stage configuration section: the simulation section and
    the classes plugins registered for ``network``, ``task`` and ``objective``, each followed by
    the attrs classes of its list fields (``network.layers[]``, ...)."""
    out = []
    for name in ("network", "simulation", "task", "objective"):
        if name == "simulation":
            out.append((name, Simulation))
            continue
        if name not in registry.names("section"):
            continue
        cls = registry.get("section", name).value
        out.append((name, cls))
        for field_name, hint in typing.get_type_hints(cls).items():
            inner = [a for a in typing.get_args(hint) if a is not type(None)]
            inner = typing.get_args(inner[0]) if len(inner) == 1 and typing.get_args(inner[0]) else inner
            out += [(f"{name}.{field_name}[]", a) for a in inner if isinstance(a, type) and attrs.has(a)]
    return out


def _rows(options) -> list[str]:
    lines = ["| option | type | default | units | allowed | description |", "|---|---|---|---|---|---|"]
    for o in options:
        cells = [f"`{o['name']}`", f"`{o['type']}`", f"`{o['default']!r}`", o["units"], o["allowed"],
                 o["description"]]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    return lines + [""]
