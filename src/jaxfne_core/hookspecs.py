"""Hook specifications: one registration hook per host kind (the four pipeline stages,
commands, configuration sections), the hook that lets a package declare kinds of its own,
and three service hooks.

Every registration hook receives a :class:`jaxfne_core.registry.StageRegistrar` bound to its
stage and to the plugin that is registering, so each registration is attributed to its
distribution. The service hooks (``jaxfne_evaluate``, ``jaxfne_readout``, ``jaxfne_tune``) are
what a :class:`~jaxfne_core.model.Model` calls to score and tune; they are ``firstresult``
hooks, provided by ``jaxfne_objectives`` and ``jaxfne_optim`` and replaceable by any plugin.
A plugin implements any subset of the hooks with ``@jaxfne_core.hookimpl``.
"""
import pluggy

PROJECT = "jaxfne"
hookspec = pluggy.HookspecMarker(PROJECT)

# --------------------------------------------------------------------------- emitter
@hookspec
def jaxfne_register_emitters(registry) -> None:
    """Register emitter stages (spiking circuits): ``registry.add(MyEmitter)``.

    Each class subclasses :class:`jaxfne_core.stages.Emitter` and has ``name`` and ``Options``.
    """


# --------------------------------------------------------------------------- source
@hookspec
def jaxfne_register_sources(registry) -> None:
    """Register source stages (synaptic kernels placing currents in space): subclasses of
    :class:`jaxfne_core.stages.Source`."""


# --------------------------------------------------------------------------- field
@hookspec
def jaxfne_register_fields(registry) -> None:
    """Register field stages (linear maps from source currents to potential and CSD):
    subclasses of :class:`jaxfne_core.stages.Field`."""


# --------------------------------------------------------------------------- probe
@hookspec
def jaxfne_register_probes(registry) -> None:
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
def jaxfne_register_commands(registry) -> None:
    """Register ``jaxfne`` subcommands: subclasses of :class:`jaxfne_core.stages.Command`."""


# --------------------------------------------------------------------------- sections
@hookspec
def jaxfne_register_sections(registry) -> None:
    """Register the attrs classes of configuration sections by name:
    ``registry.add(NetworkConfig, name="network")``; names: ``network``, ``task``, ``objective``."""


# --------------------------------------------------------------------------- services
@hookspec(firstresult=True)
def jaxfne_evaluate(model, signals, objective, readouts):
    """Score ``signals`` of ``model`` with ``objective`` (an ObjectiveConfig, or a plugin's own
    objective object carrying one as ``.config``); ``readouts``: what ``jaxfne_readout``
    returned, or None. Returns an objective report (``to_dict()``, ``total_loss``)."""


@hookspec(firstresult=True)
def jaxfne_readout(signals, specs, registry):
    """Compute readout ``specs`` (readout specifications or their dicts) on ``signals`` ->
    a readout result (``to_dict()``)."""


@hookspec(firstresult=True)
def jaxfne_tune(model, objective, optimizer, steps, settings):
    """Search ``model``'s tunables to minimise ``objective`` with ``optimizer`` (a registered
    name or a spec) for at most ``steps`` steps; ``settings``: the keyword options of
    :meth:`~jaxfne_core.model.Model.tune`. Returns (best values {name: float}, report)."""
