"""Jaxley bridge: detailed multi-compartment cells as an emitter.

Selecting it without Jaxley installed raises :class:`MissingExtraError` naming
``pip install jaxfne[jaxley]``. With Jaxley installed, building raises
:class:`NotYetAvailableError`: the working bridge (compartment currents as line sources) is
scheduled in its own issue and is not claimed here.
"""
from __future__ import annotations

import importlib.util

import attrs

from jaxfne_core.errors import MissingExtraError, NotYetAvailableError
from jaxfne_core.stages import Emitter


def require_jaxley():
    if importlib.util.find_spec("jaxley") is None:
        raise MissingExtraError("the 'jaxley' emitter needs Jaxley: pip install jaxfne[jaxley]")
    import jaxley  # noqa: F401
    return jaxley


@attrs.frozen
class JaxleyOptions:
    """(Options of the Jaxley bridge arrive with the bridge itself.)"""


class JaxleyEmitter(Emitter):
    """Jaxley multi-compartment cells as an emitter (needs jaxfne[jaxley])."""

    name = "jaxley"
    Options = JaxleyOptions

    def __init__(self, options=None):
        require_jaxley()
        super().__init__(options)

    def _not_yet(self, *_, **__):
        raise NotYetAvailableError("the Jaxley bridge is registered but its simulation is not built "
                                   "yet; use emitter kind 'izhikevich'")

    build = init_params = init_state = step = _not_yet
