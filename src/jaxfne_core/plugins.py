"""Plugin manager factory and registry loading. Nothing is loaded at import time.

Plugins are Python modules or objects with ``@hookimpl`` functions, found through the
``jaxfne`` entry-point group (built-ins use the same group as any third party). Block plugins
by entry-point or distribution name with ``JAXFNE_BLOCK_PLUGINS=name1,dist-name2`` or
``block=[...]``. An installed plugin that is broken is left out with its reason
(``registry.failures``, a :class:`PluginWarning`, ``jaxfne plugins``); the others load. Set
``JAXFNE_TRACE_PLUGINS=1`` to print every hook call (plugin, distribution, what it
registered) to stderr.
"""
from __future__ import annotations

import difflib
from importlib import metadata
import os
import re
import sys
import warnings

import attrs
import pluggy

from . import hookspecs
from .errors import PluginError, PluginWarning
from .registry import Registry
from .stages import STAGE_KINDS, StageKind
from .version import PLUGIN_API_VERSION

hookimpl = pluggy.HookimplMarker(hookspecs.PROJECT)
ENTRY_POINT_GROUP = "jaxfne"
BLOCK_ENV = "JAXFNE_BLOCK_PLUGINS"
TRACE_ENV = "JAXFNE_TRACE_PLUGINS"


def blocked_from_env() -> set[str]:
    return {n.strip() for n in os.environ.get(BLOCK_ENV, "").split(",") if n.strip()}


def _norm(name: str) -> str:
    """Distribution names compare as pip does: case-insensitive, '-', '_' and '.' alike."""
    return re.sub(r"[-_.]+", "-", name).lower()


@attrs.frozen
class PluginFailure:
    """An installed plugin that was not loaded, and why; the others load without it."""

    plugin: str
    distribution: str
    version: str
    reason: str
    outcome: str = "was not loaded"

    def __str__(self):
        return (f"plugin {self.plugin!r} (distribution {self.distribution} {self.version}) {self.outcome}: "
                f"{self.reason}; block it with {BLOCK_ENV}={self.distribution}")


class JaxfnePluginManager(pluggy.PluginManager):
    """A pluggy manager that knows each plugin's distribution, the plugins that failed, and
    the registrable kinds (the host's and those plugins declared)."""

    def __init__(self):
        super().__init__(hookspecs.PROJECT)
        self.add_hookspecs(hookspecs)
        self.distributions: dict[str, tuple[str, str]] = {}     # plugin -> (distribution, version)
        self.failures: list[PluginFailure] = []
        self.kinds: dict[str, StageKind] = dict(STAGE_KINDS)

    def fail(self, plugin: str, distribution: str, version: str, reason: str) -> None:
        self.failures.append(PluginFailure(plugin, distribution, version, reason))
        if self.get_plugin(plugin) is not None:
            self.unregister(name=plugin)
        self.distributions.pop(plugin, None)


def _entry_points(blocked: set[str], pm: JaxfnePluginManager):
    """(entry point, distribution, version) for the group, one per name, blocked names and
    distributions left out; a name two distributions declare loads from neither (a failure)."""
    found: dict[str, list] = {}
    for dist in metadata.distributions():
        dname = (dist.metadata["Name"] if dist.metadata else None) or "<unknown>"
        if _norm(dname) in blocked:
            continue
        for ep in dist.entry_points:
            if ep.group != ENTRY_POINT_GROUP or ep.name in blocked:
                continue
            same = found.setdefault(ep.name, [])
            if all(d != dname for _, d, _ in same):      # the same distribution twice on sys.path
                same.append((ep, dname, dist.version or "?"))
    out = []
    for name, entries in found.items():
        if len(entries) > 1:
            dists = " and ".join(d for _, d, _ in entries)
            for _, d, v in entries:
                pm.fail(name, d, v, f"plugin name {name!r} is declared by two distributions ({dists}); "
                        f"block one with {BLOCK_ENV}=<distribution>")
            continue
        out.append(entries[0])
    return out


def _all_names() -> set[str]:
    names = set()
    for dist in metadata.distributions():
        eps = [ep for ep in dist.entry_points if ep.group == ENTRY_POINT_GROUP]
        if eps:
            names.add(_norm((dist.metadata["Name"] if dist.metadata else "") or ""))
            names.update(ep.name for ep in eps)
    return names


def make_plugin_manager(*, entry_points: bool = True, plugins=(), block=()) -> JaxfnePluginManager:
    """Build a fresh plugin manager.

    entry_points: load the ``jaxfne`` entry-point group. An installed plugin that cannot be
    loaded (import error, API mismatch, a hook pluggy refuses or that jaxfne does not define,
    a name another distribution also uses) is left out and listed in ``pm.failures``; the
    others load. plugins: extra ``(name, plugin_object)`` pairs registered in code
    (distribution ``<local>``); their errors are raised, since the caller handed them in.
    block: plugin (entry-point) names or distribution names to block, in addition to
    ``$JAXFNE_BLOCK_PLUGINS``; a name that matches nothing installed is warned about.
    """
    pm = JaxfnePluginManager()
    blocked = {b for b in set(block) | blocked_from_env()}
    blocked_norm = blocked | {_norm(b) for b in blocked}
    for name in blocked:
        pm.set_blocked(name)
    if entry_points:
        unknown = sorted(b for b in blocked if b not in _all_names() and _norm(b) not in _all_names()
                         and b not in {n for n, _ in plugins})
        for b in unknown:
            warnings.warn(f"{BLOCK_ENV}: {b!r} matches no installed jaxfne plugin or distribution; nothing "
                          "was blocked by it", PluginWarning, stacklevel=2)
        for ep, dname, version in _entry_points(blocked_norm, pm):
            if pm.get_plugin(ep.name) is not None:
                continue
            try:
                plugin = ep.load()
                _check_api(ep.name, plugin)
                pm.register(plugin, name=ep.name)
            except Exception as e:  # noqa: BLE001 - an installed plugin is isolated, not fatal
                pm.fail(ep.name, dname, version, _reason(e))
                continue
            pm.distributions[ep.name] = (dname, version)
    for name, plugin in plugins:
        if pm.is_blocked(name):
            continue
        _check_api(name, plugin)
        pm.register(plugin, name=name)
        pm.distributions[name] = ("<local>", "")
    _declare_kinds(pm)
    for name, plugin in list(pm.list_name_plugin()):
        try:
            _check_hook_names(name, plugin, pm)
        except pluggy.PluginValidationError as e:
            dist, version = pm.distributions.get(name, ("<local>", ""))
            if dist == "<local>":
                raise
            pm.fail(name, dist, version, _reason(e))
    pm.check_pending()
    return pm


def _declare_kinds(pm: JaxfnePluginManager) -> None:
    """Add the kinds plugins declare (``jaxfne_declare_kinds``) and their hook specs. An
    installed plugin whose declaration is broken or clashes with another kind is left out."""
    for impl in reversed(pm.hook.jaxfne_declare_kinds.get_hookimpls()):
        dist, version = pm.distributions.get(impl.plugin_name, ("<local>", ""))
        try:
            declared = impl.function()
            for kind, module in declared or ():
                if not isinstance(kind, StageKind) or not hasattr(module, kind.hook):
                    raise PluginError(f"jaxfne_declare_kinds must return (StageKind, hookspec module) pairs whose "
                                      f"module defines the kind's hook, got {kind!r}")
                if kind.name in pm.kinds:
                    raise PluginError(f"kind {kind.name!r} is already declared")
                pm.add_hookspecs(module)
                pm.kinds[kind.name] = kind
        except Exception as e:  # noqa: BLE001 - isolated unless the plugin is local
            if dist == "<local>":
                raise
            pm.fail(impl.plugin_name, dist, version, f"jaxfne_declare_kinds: {_reason(e)}")


def _reason(e: BaseException) -> str:
    text = " ".join(line.strip() for line in str(e).strip().splitlines() if line.strip())
    text = text if len(text) <= 400 else text[:397] + "..."
    return f"{type(e).__name__}: {text}".rstrip(": ")


def _check_hook_names(name, plugin, pm):
    """Refuse a plugin with a hook implementation that no hook spec defines (a misspelling, or
    the hook of a kind whose declaring package is not installed or is blocked)."""
    for attr in dir(plugin):
        if pm.parse_hookimpl_opts(plugin, attr) is None:
            continue
        caller = getattr(pm.hook, attr, None)
        if caller is None or not caller.has_spec():
            hooks = [k.hook for k in pm.kinds.values()] + ["jaxfne_declare_kinds"]
            near = difflib.get_close_matches(attr, hooks, n=1)
            raise pluggy.PluginValidationError(
                plugin, f"plugin {name!r}: hook {attr!r} is not a jaxfne hook (nor one a loaded plugin declares)"
                + (f"; did you mean {near[0]!r}?" if near else f"; jaxfne's hooks: {', '.join(hooks)}"))


def _check_api(name, plugin):
    wanted = getattr(plugin, "JAXFNE_PLUGIN_API", PLUGIN_API_VERSION)
    if wanted != PLUGIN_API_VERSION:
        raise PluginError(f"plugin {name!r} was written for jaxfne plugin API {wanted}, "
                          f"this jaxfne provides API {PLUGIN_API_VERSION}")


def load_registry(pm: pluggy.PluginManager) -> Registry:
    """Call every stage hook once per plugin, attributing each registration to its distribution.
    A hook of an installed plugin that raises or registers something invalid is isolated: what
    that call registered is taken back, the failure joins ``registry.failures``, and the
    other plugins' stages stay. Plugins registered in code raise."""
    reg = Registry(getattr(pm, "kinds", STAGE_KINDS))
    trace = os.environ.get(TRACE_ENV, "") not in ("", "0")
    dists = getattr(pm, "distributions", {})
    failures = list(getattr(pm, "failures", []))
    broken = set()
    for stage, kind in reg.kinds.items():
        caller = getattr(pm.hook, kind.hook)
        for impl in reversed(caller.get_hookimpls()):  # registration order
            dist, version = dists.get(impl.plugin_name, ("<local>", ""))
            if impl.plugin_name in broken:
                continue
            registrar = reg.registrar(stage, impl.plugin_name, dist, version)
            before = set(reg.names(stage))
            try:
                impl.function(**{a: registrar for a in impl.argnames})
            except Exception as e:  # noqa: BLE001 - isolated below unless the plugin is local
                if dist == "<local>":
                    raise
                reg.remove_plugin(impl.plugin_name)
                broken.add(impl.plugin_name)
                failures.append(PluginFailure(impl.plugin_name, dist, version,
                                              f"{kind.hook} raised {_reason(e)}"))
                continue
            if trace:
                added = sorted(set(reg.names(stage)) - before)
                print(f"jaxfne: {kind.hook}(registry) <- plugin {impl.plugin_name!r} ({dist}): "
                      f"registered {', '.join(added) or 'nothing'}", file=sys.stderr)
    for (stage, name), entries in reg.clashes.items():
        for e in entries:
            others = ", ".join(f"{o.plugin!r} ({o.distribution})" for o in entries if o is not e)
            failures.append(PluginFailure(e.plugin, e.distribution, e.version,
                                          f"it is also registered by plugin {others}, so neither is used",
                                          outcome=f"has its {stage} {name!r} withheld"))
    reg.failures = tuple(failures)
    for f in failures:
        warnings.warn(str(f), PluginWarning, stacklevel=2)
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
