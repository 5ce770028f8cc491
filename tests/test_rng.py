"""The counter-based normal generator: exact transform, distribution, independence, streams."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special, stats

from jaxfne_core.rng import counter_normal, erfinv_f32

N = 1 << 20


def test_erfinv_matches_scipy_to_float32_precision():
    """Giles' polynomials: relative error < 4e-7 (published); allow 1e-6 for float32 input rounding."""
    x = np.linspace(-1 + 2**-23, 1 - 2**-23, 200_001).astype(np.float32)
    got = np.asarray(erfinv_f32(jnp.asarray(x)), np.float64)
    want = special.erfinv(x.astype(np.float64))
    rel = np.abs(got - want) / np.maximum(np.abs(want), 1e-30)
    assert rel[np.abs(x) > 1e-6].max() < 1e-6


def test_one_million_draws_are_standard_normal():
    z = np.asarray(counter_normal(jax.random.key(3), (N,)), np.float64)
    se = 1 / np.sqrt(N)
    assert abs(z.mean()) < 5 * se
    assert abs(z.var() - 1) < 5 * np.sqrt(2) * se
    assert abs(stats.skew(z)) < 5 * np.sqrt(6) * se
    assert abs(stats.kurtosis(z)) < 5 * np.sqrt(24) * se
    assert stats.kstest(z, "norm").pvalue > 1e-3
    # tails: P(|z| > 3) = 0.0027 within 5 binomial SDs
    p3 = 2 * stats.norm.sf(3)
    assert abs(np.mean(np.abs(z) > 3) - p3) < 5 * np.sqrt(p3 / N)
    assert np.abs(z).max() <= 5.4


def test_neighbouring_elements_steps_and_seeds_are_uncorrelated():
    bound = 5 / np.sqrt(N)
    root = jax.random.key(0)
    z0 = np.asarray(counter_normal(jax.random.fold_in(root, 0), (N,)), np.float64)
    z1 = np.asarray(counter_normal(jax.random.fold_in(root, 1), (N,)), np.float64)
    other = np.asarray(counter_normal(jax.random.fold_in(jax.random.key(1), 0), (N,)), np.float64)
    for lag in (1, 2, 32, 1000):
        assert abs(np.corrcoef(z0[:-lag], z0[lag:])[0, 1]) < bound, lag
    assert abs(np.corrcoef(z0, z1)[0, 1]) < bound              # consecutive steps
    assert abs(np.corrcoef(z0[:-1], z1[1:])[0, 1]) < bound      # shifted streams do not overlap
    assert abs(np.corrcoef(z0, other)[0, 1]) < bound            # another run's key


def test_deterministic_and_shape_preserving():
    k = jax.random.key(7)
    a = counter_normal(k, (3, 5))
    assert a.shape == (3, 5) and a.dtype == jnp.float32
    np.testing.assert_array_equal(np.asarray(a), np.asarray(counter_normal(k, (3, 5))))
    np.testing.assert_array_equal(np.asarray(a).ravel(), np.asarray(counter_normal(k, (15,))))


@pytest.mark.parametrize("impl", ["threefry2x32", "rbg"])
def test_works_with_jax_key_implementations(impl):
    z = counter_normal(jax.random.key(0, impl=impl), (4096,))
    assert np.isfinite(np.asarray(z)).all() and abs(float(z.std()) - 1) < 0.1
