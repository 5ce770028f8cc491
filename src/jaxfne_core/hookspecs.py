"""Hook specifications: one per pipeline stage. This module holds nothing else.

Every hook receives a :class:`jaxfne_core.registry.StageRegistrar` bound to its stage and to the
plugin that is registering, so each registration is attributed to its distribution. A plugin
implements any subset of the hooks with ``@jaxfne_core.hookimpl``.
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


# --------------------------------------------------------------------------- objective
@hookspec
def jaxfne_register_objectives(registry) -> None:
    """Register objective metrics: instances of :class:`jaxfne_core.metrics.Metric`."""


# --------------------------------------------------------------------------- optimizer
@hookspec
def jaxfne_register_optimizers(registry) -> None:
    """Register optimizers: subclasses of :class:`jaxfne_core.stages.Optimizer`."""


# --------------------------------------------------------------------------- paradigm
@hookspec
def jaxfne_register_paradigms(registry) -> None:
    """Register task paradigms: subclasses of :class:`jaxfne_core.stages.Paradigm`."""


# --------------------------------------------------------------------------- command
@hookspec
def jaxfne_register_commands(registry) -> None:
    """Register ``jaxfne`` subcommands: subclasses of :class:`jaxfne_core.stages.Command`."""
