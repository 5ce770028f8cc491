"""Registers the ``run``, ``tune``, ``validate``, ``plugins``, ``plot`` and ``export`` commands through the ``jaxfne``
entry-point group, as a third party's commands would be."""
from jaxfne_core import hookimpl

from .commands import ExportCommand, PlotCommand, RunCommand, TuneCommand, ValidateCommand
from .plugins_command import PluginsCommand


@hookimpl
def jaxfne_register_commands(registry):
    for command in (RunCommand, TuneCommand, ValidateCommand, PluginsCommand, PlotCommand, ExportCommand):
        registry.add(command)
