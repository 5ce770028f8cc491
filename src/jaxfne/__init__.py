"""jaxfne: a JAX-native source-to-field neurophysiology engine.

    import jaxfne as jtfne
    model = jtfne.construct(jtfne.configuration().network(n=64))
    signals = model.simulate(jtfne.simulation(duration_ms=100.0, dt_ms=0.1, seed=0))

A thin facade over :mod:`jaxfne_core` (the plugin host) and the task paradigms of
:mod:`jaxfne_tasks`; stages come from plugins (``jaxfne plugins``).
"""
from jaxfne_core import *  # noqa: F401,F403
from jaxfne_core import __all__ as _core_all
from jaxfne_core import __version__  # noqa: F401
from jaxfne_core.evaluator import Evaluator, LocalEvaluator
from jaxfne_formats.circuit_io import load_circuit, save_circuit
from jaxfne_tasks.paradigm import global_local_oddball, standard_visual_omission

__all__ = list(_core_all) + ["Evaluator", "LocalEvaluator", "global_local_oddball", "load_circuit", "save_circuit",
                              "standard_visual_omission"]
