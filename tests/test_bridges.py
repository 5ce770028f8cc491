"""The Jaxley bridge is registered and says exactly what is missing."""
import importlib.util

import pytest

import jaxfne as jtfne


def test_jaxley_bridge_is_registered(registry):
    assert registry.get("emitter", "jaxley").plugin == "jaxley"


@pytest.mark.skipif(importlib.util.find_spec("jaxley") is not None, reason="Jaxley is installed")
def test_selecting_jaxley_without_it_names_the_extra():
    with pytest.raises(jtfne.MissingExtraError, match=r"pip install jaxfne\[jaxley\]"):
        jtfne.construct(jtfne.configuration().emitter("jaxley"))


@pytest.mark.skipif(importlib.util.find_spec("jaxley") is None, reason="needs Jaxley")
def test_with_jaxley_the_bridge_says_it_is_not_built_yet():
    with pytest.raises(jtfne.NotYetAvailableError):
        jtfne.construct(jtfne.configuration().emitter("jaxley"))
