"""Plugin manager factory and registry loading. Nothing is loaded at import time.

Plugins are Python modules or objects with ``@hookimpl`` functions, found through the
``jaxfne`` entry-point group (built-ins use the same group as any third party). Block plugins
by entry-point name with ``JAXFNE_BLOCK_PLUGINS=name1,name2`` or ``block=[...]``. Set
``JAXFNE_TRACE_PLUGINS=1`` to print every hook call (plugin, distribution, what it
registered) to stderr.
"""
from __future__ import annotations

import os
import sys
from importlib import metadata

import pluggy

from . import hookspecs
from .errors import DuplicateStageError
from .registry import STAGES, Registry
from .version import PLUGIN_API_VERSION

hookimpl = pluggy.HookimplMarker(hookspecs.PROJECT)
ENTRY_POINT_GROUP = "jaxfne"
BLOCK_ENV = "JAXFNE_BLOCK_PLUGINS"
TRACE_ENV = "JAXFNE_TRACE_PLUGINS"
HOOK_FOR_STAGE = {
    "emitter": "jaxfne_register_emitters",
    "source": "jaxfne_register_sources",
    "field": "jaxfne_register_fields",
    "probe": "jaxfne_register_probes",
    "objective": "jaxfne_register_objectives",
    "optimizer": "jaxfne_register_optimizers",
}


def blocked_from_env() -> set[str]:
    return {n.strip() for n in os.environ.get(BLOCK_ENV, "").split(",") if n.strip()}


def _entry_points():
    """(entry point, distribution name) for the group, one per (name, distribution)."""
    seen = {}
    for dist in metadata.distributions():
        dname = dist.metadata["Name"] if dist.metadata else None
        for ep in dist.entry_points:
            if ep.group != ENTRY_POINT_GROUP:
                continue
            key = ep.name
            if key in seen:
                if seen[key][1] != dname:
                    raise DuplicateStageError(
                        f"jaxfne plugin name {key!r} is declared by two distributions: "
                        f"{seen[key][1]} and {dname}; block one with {BLOCK_ENV}={key}")
                continue  # the same distribution seen twice on sys.path
            seen[key] = (ep, dname)
    return list(seen.values())


def make_plugin_manager(*, entry_points: bool = True, plugins=(), block=()) -> pluggy.PluginManager:
    """Build a fresh plugin manager.

    entry_points: load the ``jaxfne`` entry-point group.
    plugins: extra ``(name, plugin_object)`` pairs registered in code (distribution ``<local>``).
    block: plugin names to block, in addition to ``$JAXFNE_BLOCK_PLUGINS``.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm._jaxfne_dist = {}
    for name in set(block) | blocked_from_env():
        pm.set_blocked(name)
    if entry_points:
        for ep, dname in _entry_points():
            if pm.is_blocked(ep.name) or pm.get_plugin(ep.name) is not None:
                continue
            plugin = ep.load()
            _check_api(ep.name, plugin)
            pm.register(plugin, name=ep.name)
            pm._jaxfne_dist[ep.name] = dname
    for name, plugin in plugins:
        if pm.is_blocked(name):
            continue
        _check_api(name, plugin)
        pm.register(plugin, name=name)
        pm._jaxfne_dist[name] = "<local>"
    pm.check_pending()
    return pm


def _check_api(name, plugin):
    wanted = getattr(plugin, "JAXFNE_PLUGIN_API", PLUGIN_API_VERSION)
    if wanted != PLUGIN_API_VERSION:
        raise RuntimeError(f"plugin {name!r} was written for jaxfne plugin API {wanted}, "
                           f"this jaxfne provides API {PLUGIN_API_VERSION}")


def load_registry(pm: pluggy.PluginManager) -> Registry:
    """Call every stage hook once per plugin, attributing each registration to its distribution."""
    reg = Registry()
    trace = os.environ.get(TRACE_ENV, "") not in ("", "0")
    dists = getattr(pm, "_jaxfne_dist", {})
    for stage in STAGES:
        caller = getattr(pm.hook, HOOK_FOR_STAGE[stage])
        for impl in reversed(caller.get_hookimpls()):  # registration order
            dist = dists.get(impl.plugin_name, "<local>")
            registrar = reg.registrar(stage, impl.plugin_name, dist)
            before = set(reg.names(stage))
            impl.function(**{a: registrar for a in impl.argnames})
            if trace:
                added = sorted(set(reg.names(stage)) - before)
                print(f"jaxfne: {HOOK_FOR_STAGE[stage]}(registry) <- plugin {impl.plugin_name!r} ({dist}): "
                      f"registered {', '.join(added) or 'nothing'}", file=sys.stderr)
    return reg


_DEFAULT: dict = {}


def default_registry() -> Registry:
    """The registry of all installed, unblocked plugins (cached per value of $JAXFNE_BLOCK_PLUGINS)."""
    key = os.environ.get(BLOCK_ENV, "")
    if key not in _DEFAULT:
        _DEFAULT[key] = load_registry(make_plugin_manager())
    return _DEFAULT[key]


def clear_registry_cache() -> None:
    _DEFAULT.clear()
