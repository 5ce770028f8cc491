"""Spike lists from packed words: the same cells as np.nonzero, in any window, any N."""
import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxfne_emitters.events import SpikeEvents, pack_spikes, unpack_spikes


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 300), p=st.floats(0.0, 1.0), seed=st.integers(0, 2**16), size=st.sampled_from([1, 4, 16]))
def test_windows_cover_exactly_the_spiking_cells(n, p, seed, size):
    spikes = np.random.default_rng(seed).random(n) < p
    ev = SpikeEvents(jnp.asarray(spikes))
    count = int(ev.count)
    assert count == spikes.sum()
    windows = [np.asarray(ev.indices(start, size)) for start in range(0, count + size, size)]
    got = np.concatenate(windows)
    assert sorted(got[got < n].tolist()) == np.nonzero(spikes)[0].tolist()
    assert (got[count:] == n).all()                      # padding past the end of the list


def test_pack_unpack_round_trip_and_jit():
    spikes = np.random.default_rng(0).random((3, 1000)) < 0.3
    words = jax.vmap(pack_spikes)(jnp.asarray(spikes))
    assert words.shape == (3, 32) and words.dtype == jnp.uint32
    np.testing.assert_array_equal(np.asarray(unpack_spikes(words, 1000)), spikes)
    first = np.asarray(jax.jit(lambda s: SpikeEvents(s).indices(0, 8))(jnp.asarray(spikes[0])))
    assert len(set(first.tolist())) == 8 and spikes[0][first].all()   # 8 distinct spiking cells
