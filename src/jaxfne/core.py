"""``jaxfne.core``: the reference's module of that name (its tests import from it); the same
names as :mod:`jaxfne`, and its paradigm value classes under the reference's names."""
from jaxfne import *  # noqa: F401,F403
from jaxfne import __all__ as _all
from jaxfne_tasks.paradigm import Condition as ParadigmCondition
from jaxfne_tasks.paradigm import Event as ParadigmEvent

__all__ = list(_all) + ["ParadigmCondition", "ParadigmEvent"]


def __getattr__(name):
    import jaxfne
    return getattr(jaxfne, name)
