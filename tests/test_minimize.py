"""``jaxfne.minimize``: every registered optimizer on plain functions, with the same budget rule."""
import jax.numpy as jnp
import numpy as np
import pytest

import jaxfne as jtfne

TARGET = np.array([0.3, -1.2, 0.8, 1.5])


def jax_quadratic(x):
    return jnp.sum((x - jnp.asarray(TARGET, jnp.float32)) ** 2)


def python_quadratic(x):          # not traceable by JAX (float() of the input)
    return sum((float(v) - t) ** 2 for v, t in zip(x, TARGET))


def test_cmaes_minimises_a_jax_function_within_the_budget():
    res = jtfne.minimize(jax_quadratic, [(-2, 2)] * 4, "cmaes", max_evaluations=1500, seed=1)
    assert res.n_evaluations <= 1500 and res.fun < 1e-6
    np.testing.assert_allclose(res.x, TARGET, atol=2e-3)
    assert res.names == ("x[0]", "x[1]", "x[2]", "x[3]") and res.optimizer == "cmaes"


def test_a_python_function_is_called_per_candidate_and_gradient_optimizers_refuse_it():
    res = jtfne.minimize(python_quadratic, {f"p{i}": (-2, 2) for i in range(4)}, "cmaes", max_evaluations=800)
    assert res.fun < 1e-3 and res.names == ("p0", "p1", "p2", "p3")
    with pytest.raises(jtfne.ConfigError, match="gsdr_blackbox"):
        jtfne.minimize(python_quadratic, [(-2, 2)] * 4, "gsdr", max_evaluations=10)


@pytest.mark.parametrize("optimizer,options,budget,tol", [
    ("gsdr", {"learning_rate": 0.5}, 400, 0.5),
    ("optax", {"method": "adam", "learning_rate": 0.05, "differentiability": "differentiable"}, 400, 1e-3),
    ("random_search", {}, 400, 2.0),
    ("agsdr", {}, 400, 0.5),
    ("gsdr_blackbox", {}, 400, 0.5),
])
def test_every_optimizer_improves_and_respects_max_evaluations(optimizer, options, budget, tol):
    start = float(jax_quadratic(jnp.zeros(4)))
    res = jtfne.minimize(jax_quadratic, [(-2, 2)] * 4, optimizer, max_evaluations=budget, options=options)
    assert res.n_evaluations <= budget
    assert res.fun < min(tol, start)


def test_bad_bounds_and_start_are_refused_with_the_field():
    with pytest.raises(jtfne.ConfigError, match="bounds"):
        jtfne.minimize(jax_quadratic, [(1, -1)] * 4)
    with pytest.raises(jtfne.ConfigError, match="x0"):
        jtfne.minimize(jax_quadratic, [(-1, 1)] * 4, x0=[5, 0, 0, 0])
    with pytest.raises(jtfne.ConfigError, match="max_evaluations"):
        jtfne.minimize(jax_quadratic, [(-1, 1)] * 4, max_evaluations=0)
    with pytest.raises(jtfne.ConfigError, match="gradient_window_steps"):
        jtfne.minimize(jax_quadratic, [(-1, 1)] * 4, "gsdr", options={"gradient_window_steps": 10})
    with pytest.raises(jtfne.UnknownStageError, match="cmaes"):
        jtfne.minimize(jax_quadratic, [(-1, 1)] * 4, "nelder_mead")


def test_optax_clip_norm_bounds_each_step():
    opts = {"method": "sgd", "learning_rate": 1.0, "differentiability": "differentiable"}

    def steps(options):
        res = jtfne.minimize(jax_quadratic, [(-2, 2)] * 4, "optax", max_evaluations=21, options=options)
        xs = np.array([res.history[0]["candidates"][0]] + [h["candidates"][0] for h in res.history[1:]])
        return np.linalg.norm(np.diff(xs, axis=0), axis=1)          # box coordinates
    clipped = steps({**opts, "clip_norm": 0.01})
    assert clipped.size == 10 and np.all(clipped <= 0.01 + 1e-6) and clipped[0] > 0.009
    assert steps(opts)[0] > 0.1
