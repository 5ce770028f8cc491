"""The stage contracts for plugin authors, read from the base classes themselves: every method
of every registrable kind's base class, required (abstract) or optional, with its signature
and docstring. ``docs/contracts.md`` is :func:`contracts_markdown` (a test keeps it current).
"""
from __future__ import annotations

import inspect

import attrs

from jaxfne_core.plugins import default_registry
from jaxfne_core.stages import MembraneSource, ProjectingSource, Stage

VARIANTS = {"source": (ProjectingSource, MembraneSource)}
"""Optional base classes of a kind: subclass one to take part in a fast path."""

PUBLIC_HELPERS = (
    ("jaxfne_core.validators", "number, one_of, subset_of, conductivity, optional, nonempty, FieldValueError: "
                               "option validators whose errors name the value and what is allowed"),
    ("jaxfne_core.rng", "counter_normal(key, shape): the engine's counter-based normal draws"),
    ("jaxfne_core.claims", "SourceCalibration, ChargeConservation, FieldSolver, Amplitude: the claims"),
    ("jaxfne_core.ports", "Port: typed stage inputs and outputs"),
    ("jaxfne_core.stages", "Circuit, Compartments, ProbeGeometry: what emitters build and probes describe; "
                           "StepInputs (v, t, key, drive): what the engine hands every source step"),
    ("jaxfne_core.stages", "population_labels(name): the names a population answers to (L4_E, L4, E)"),
    ("jaxfne_objectives.metric", "Metric, slice_signal, population_columns: an objective metric and its selection"),
    ("jaxfne_optim.problem", "TuneProblem, OptimResult, record: what an optimizer minimises and returns"),
    ("jaxfne_emitters.point_network", "build_point_network, cell_class_of, per_population, PointNeuronEmitter: "
                                      "a point-neuron network as the built-in emitters build it"),
    ("jaxfne_emitters.layout", "population_counts, interleaved_cells, layered_cells: placing cells in a column"),
    ("jaxfne_emitters.connectivity", "random_edges, resolve_connectivity: random synapses and their delivery path"),
    ("jaxfne_emitters.events", "SpikeEvents: the spiking cells of a step in O(N / 32 + spikes)"),
    ("jaxfne_testing", "check_entry and the check_* functions: the conformance suite"),
)
"""Helpers a plugin may import; anything else in jaxfne's packages may change without notice."""


def methods_of(cls, stop=(object,)) -> list[dict]:
    """{name, signature, required, doc, defined_in} of the public methods of ``cls`` and its
    bases up to (not including) ``stop``."""
    rows, seen = [], set()
    for klass in cls.__mro__:
        if klass in stop or klass is object:
            break
        for name, member in vars(klass).items():
            if name.startswith("_") or name in seen or not callable(member):
                continue
            seen.add(name)
            fn = member.__func__ if isinstance(member, (staticmethod, classmethod)) else member
            try:
                sig = str(inspect.signature(fn))
            except (TypeError, ValueError):
                sig = "(...)"
            rows.append({"name": name, "signature": sig, "required": name in getattr(cls, "__abstractmethods__", ()),
                         "doc": " ".join((inspect.getdoc(fn) or "").split()), "defined_in": klass.__name__})
    return rows


def contracts_markdown() -> str:
    lines = ["# Stage contracts", "",
             "Generated from the base classes of the registrable kinds (the host's in `jaxfne_core.stages`, "
             "the others declared by their packages) by "
             "`python -m jaxfne_workflows.contracts_doc > docs/contracts.md`; `tests/test_docs.py` fails when this "
             "page is out of date. A plugin subclasses the base class of its kind (never a built-in stage), "
             "sets `name` and an attrs `Options` class, and registers it through its kind's hook "
             "(see [write a plugin](write-a-plugin.md)). **required** methods are abstract.", ""]
    for kind in default_registry().kinds.values():
        if kind.section:
            lines += [f"## {kind.name}: an attrs class (hook `{kind.hook}`)", "",
                      "A configuration section's value class, registered by name: "
                      "`registry.add(MyNetworkConfig, name=\"network\")` (names: `network`, `task`, "
                      "`objective`). The configuration structures that section into it strictly; stages "
                      "read its attributes (an emitter's `build(network)` gets the network section). "
                      "Optional methods the assembler calls: `requires()` and `label` (claims the section "
                      "needs from the stages, like a stage's), `problems(stages, registry)` (messages for "
                      "what the assembled stages cannot deliver to it; it may raise a ConfigError for a bad "
                      "name of its own) and `uses()` ((kind, name) pairs of the registered things it uses, "
                      "whose plugin, distribution and version enter the receipt).", ""]
            continue
        if kind.instances and not attrs.has(kind.base):          # model methods: plain functions
            lines += [f"## {kind.name}: a function (hook `{kind.hook}`)", "",
                      "A function `fn(model, ...)` registered by name (`registry.add(fn, name=\"evaluate\")`) "
                      "that every Model answers as `model.<name>(...)`: the model comes first, then the "
                      "caller's arguments. The name may not start with `_` nor be one of the Model's own "
                      "attributes (`check_model_method`).", ""]
            continue
        lines += [f"## {kind.name}: `{kind.base.__name__}` (hook `{kind.hook}`)", "",
                  " ".join((inspect.getdoc(kind.base) or "").split()), ""]
        if kind.instances:
            lines += ["Registered as instances. Fields:", ""]
            lines += [f"- `{f.name}`" for f in attrs.fields(kind.base)] + [""]
            continue
        for cls in (kind.base,) + VARIANTS.get(kind.name, ()):
            if cls is not kind.base:
                lines += [f"### variant `{cls.__name__}`", "", " ".join((inspect.getdoc(cls) or "").split()), ""]
            stop = (Stage,) if cls is kind.base else (kind.base,)
            for m in methods_of(cls, stop=stop + (object,)):
                tag = "required" if m["required"] else "optional"
                lines.append(f"- `{m['name']}{m['signature']}` ({tag}): {m['doc'] or '(no docstring)'}")
            lines.append("")
    lines += ["## Every stage: `Stage`", "", " ".join((inspect.getdoc(Stage) or "").split()), ""]
    for m in methods_of(Stage):
        lines.append(f"- `{m['name']}{m['signature']}` (optional): {m['doc'] or '(no docstring)'}")
    lines += ["", "## Public helpers", ""]
    lines += [f"- `{module}`: {text}" for module, text in PUBLIC_HELPERS]
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(contracts_markdown(), end="")
