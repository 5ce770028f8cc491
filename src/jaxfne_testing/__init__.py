"""Conformance suite for jaxfne stage plugins, importable by plugin authors:

    from jaxfne_testing import conformance_cases, check_entry
"""
from .conformance import *  # noqa: F401,F403
from .conformance import __all__  # noqa: F401
