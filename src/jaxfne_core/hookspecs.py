"""Hook specifications: one registration hook per host kind (the four pipeline stages,
commands, configuration sections, model methods) and the hook that lets a package declare
kinds of its own.

Every registration hook receives a :class:`jaxfne_core.registry.StageRegistrar` bound to its
stage and to the plugin that is registering, so each registration is attributed to its
distribution. Scoring, tuning and trials are model methods their packages register
(``jaxfne_register_model_methods``), so the host names none of them. A plugin implements any
subset of the hooks with ``@jaxfne_core.hookimpl``.
"""
import pluggy

from .registry import StageRegistrar

PROJECT = "jaxfne"
hookspec = pluggy.HookspecMarker(PROJECT)

# --------------------------------------------------------------------------- emitter
@hookspec
def jaxfne_register_emitters(registry: StageRegistrar) -> None:
    """Register emitter stages (spiking circuits): ``registry.add(MyEmitter)``.

    Each class subclasses :class:`jaxfne_core.stages.Emitter` and has ``name`` and ``Options``.
    """


# --------------------------------------------------------------------------- source
@hookspec
def jaxfne_register_sources(registry: StageRegistrar) -> None:
    """Register source stages (synaptic kernels placing currents in space): subclasses of
    :class:`jaxfne_core.stages.Source`."""


# --------------------------------------------------------------------------- field
@hookspec
def jaxfne_register_fields(registry: StageRegistrar) -> None:
    """Register field stages (linear maps from source currents to potential and CSD):
    subclasses of :class:`jaxfne_core.stages.Field`."""


# --------------------------------------------------------------------------- probe
@hookspec
def jaxfne_register_probes(registry: StageRegistrar) -> None:
    """Register probe stages (electrode geometries and recording modes): subclasses of
    :class:`jaxfne_core.stages.Probe`."""


# --------------------------------------------------------------------------- kinds
@hookspec
def jaxfne_declare_kinds():
    """Declare registrable kinds this plugin's package owns -> a list of ``(StageKind,
    hookspec_module)``: the kind (name, registration hook, base class) and the module holding
    that hook's ``@hookspec`` (``jaxfne_objectives`` declares ``objective``, ``jaxfne_optim``
    ``optimizer``, ``jaxfne_tasks`` ``paradigm``). Called once all plugins are registered."""


# --------------------------------------------------------------------------- command
@hookspec
def jaxfne_register_commands(registry: StageRegistrar) -> None:
    """Register ``jaxfne`` subcommands: subclasses of :class:`jaxfne_core.stages.Command`."""


# --------------------------------------------------------------------------- sections
@hookspec
def jaxfne_register_sections(registry: StageRegistrar) -> None:
    """Register the attrs classes of configuration sections by name:
    ``registry.add(NetworkConfig, name="network")``; names: ``network``, ``task``, ``objective``."""


# --------------------------------------------------------------------------- model methods
@hookspec
def jaxfne_register_model_methods(registry: StageRegistrar) -> None:
    """Register functions ``fn(model, ...)`` that a :class:`~jaxfne_core.model.Model` offers
    as methods: ``registry.add(evaluate, name="evaluate")`` makes ``model.evaluate(...)``
    call ``evaluate(model, ...)``. ``jaxfne_objectives`` adds evaluate and readouts,
    ``jaxfne_optim`` tune, ``jaxfne_tasks`` the trial calls; a name may not start with ``_``
    nor be one of the Model's own attributes."""
