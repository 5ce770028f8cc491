"""jaxfne: a JAX-native source-to-field neurophysiology engine.

    import jaxfne as jtfne
    model = jtfne.construct(jtfne.configuration().network(n=64))
    signals = model.simulate(jtfne.simulation(duration_ms=100.0, dt_ms=0.1, seed=0))

A thin facade over :mod:`jaxfne_core`; stages come from plugins (``jaxfne plugins``).
"""
from jaxfne_core import *  # noqa: F401,F403
from jaxfne_core import __all__ as _core_all
from jaxfne_core import __version__  # noqa: F401

__all__ = list(_core_all)
