"""The first non-finite cell of a run: found on the step it diverges, in single runs and batches."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxfne_core.divergence import first_nonfinite, update_bad_cell


def run_checks(vs):
    """The engine's bookkeeping over steps of v (steps, ..., N) -> (bad_step, bad_cell)."""
    def step(carry, x):
        t, v = x
        bad_step, bad_cell = carry
        newly = (bad_step < 0) & ~jnp.isfinite(jnp.sum(v, axis=-1))
        return (jnp.where(newly, t, bad_step), update_bad_cell(newly, v, bad_cell)), None
    lead = vs.shape[1:-1]
    init = (jnp.full(lead, -1, jnp.int32), jnp.full(lead, -1, jnp.int32))
    return jax.lax.scan(step, init, (jnp.arange(vs.shape[0]), vs))[0]


def test_first_nonfinite_finds_the_lowest_index_or_n():
    v = jnp.array([[1.0, jnp.nan, jnp.inf], [0.0, 1.0, 2.0], [-jnp.inf, 0.0, jnp.nan]])
    np.testing.assert_array_equal(first_nonfinite(v), [1, 3, 0])


def test_the_first_bad_step_and_cell_are_kept_in_single_runs_and_vmapped_batches():
    steps, trials, n = 12, 5, 7
    vs = np.zeros((steps, trials, n), np.float32)
    where = {0: (3, 4), 2: (0, 6), 3: (9, 1)}            # trial -> (step, cell); 1 and 4 stay finite
    for b, (t, c) in where.items():
        vs[t, b, c] = np.nan
        vs[t + 1:, b, :] = np.inf                      # later steps: every cell bad, not the first
    expected_step = [where.get(b, (-1, -1))[0] for b in range(trials)]
    expected_cell = [where.get(b, (-1, -1))[1] for b in range(trials)]
    for b in range(trials):
        s, c = run_checks(jnp.asarray(vs[:, b]))
        assert (int(s), int(c)) == (expected_step[b], expected_cell[b])
    s, c = jax.jit(jax.vmap(run_checks, in_axes=1))(jnp.asarray(vs))
    np.testing.assert_array_equal(s, expected_step)
    np.testing.assert_array_equal(c, expected_cell)
    # nested batches (e.g. candidates x trials) agree too
    s2, c2 = jax.vmap(jax.vmap(run_checks, in_axes=1), in_axes=1)(jnp.asarray(vs[:, None]).transpose(0, 2, 1, 3))
    np.testing.assert_array_equal(np.asarray(s2).ravel(), expected_step)
    np.testing.assert_array_equal(np.asarray(c2).ravel(), expected_cell)


def test_the_search_stays_a_cond_under_vmap():
    """A plain cond with a batched predicate becomes a select that searches every step."""
    jaxpr = jax.make_jaxpr(jax.vmap(update_bad_cell))(jnp.zeros(4, bool), jnp.zeros((4, 9)), jnp.zeros(4, jnp.int32))
    assert "cond" in str(jaxpr)
    plain = lambda newly, v, prev: jax.lax.cond(newly, lambda: first_nonfinite(v), lambda: prev)
    assert "cond" not in str(jax.make_jaxpr(jax.vmap(plain))(jnp.zeros(4, bool), jnp.zeros((4, 9)),
                                                              jnp.zeros(4, jnp.int32)))


def test_gradients_pass_through_the_check():
    """The index is an integer: differentiating a run through the check must work (surrogate
    gradients), under vmap too."""
    def loss(x):
        v = jnp.stack([x * jnp.arange(1.0, 4.0), x * 2.0 * jnp.ones(3)])
        newly = ~jnp.isfinite(jnp.sum(v, axis=-1))
        cell = update_bad_cell(newly, v, jnp.full(2, -1, jnp.int32))
        return jnp.sum(v ** 2) + jnp.sum(cell)
    assert float(jax.grad(loss)(1.5)) == pytest.approx(2 * 1.5 * (1 + 4 + 9 + 12))
    np.testing.assert_allclose(jax.vmap(jax.grad(loss))(jnp.array([1.0, 2.0])), [52.0, 104.0], rtol=1e-6)
