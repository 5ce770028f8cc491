import jax
import pytest

import jaxfne as jtfne


@pytest.fixture(scope="session")
def registry():
    return jtfne.default_registry()


@pytest.fixture
def small_cfg():
    """A small column that simulates in well under a second."""
    return (jtfne.configuration()
            .network(name="test", n=40, p_connect=0.1, seed=3)
            .probe(n_contacts=8, spacing_um=150.0, modes=["spikes", "V_m", "LFP", "CSD", "sources"]))


@pytest.fixture
def x64():
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", False)
