"""``gsdr`` follows the published GSDR (HNXJ/GSDR ``gsdr/optimizers.py``: the SDR inner rule on
the true gradient inside the genetic outer rule) step for step: an independent NumPy port of
the authors' update, fed the same random numbers, gives the same trajectory."""
import attrs
import jax
import numpy as np
import pytest

import jaxfne as jtfne
from jaxfne_optim.problem import TuneProblem
from jaxfne_optim import GSDR, GSDROptions

TARGET = np.array([1.5, -0.7, 0.3, 2.2, -1.1])


def problem():
    def evaluate(xs):
        xs = np.asarray(xs, np.float64)
        return np.sum((xs - TARGET) ** 2 * np.arange(1, 6), axis=1), np.zeros(len(xs), bool)

    def value_and_grad(x):
        x = np.asarray(x, np.float64)
        return float(np.sum((x - TARGET) ** 2 * np.arange(1, 6))), 2 * (x - TARGET) * np.arange(1, 6)
    return TuneProblem(evaluate, np.full(5, 0.5, np.float32), np.full(5, -100.0, np.float32),
                       np.full(5, 100.0, np.float32), value_and_grad, "exact")


def port(opts, x0, steps, key):
    """The authors' update (SDR inside GSDR), re-written in NumPy from their code; random numbers
    drawn as they draw them (per-step key split in 4; one leaf: split(k, 1)[0])."""
    d = x0.size
    k = max(1, int(np.sqrt(d)))
    x = np.asarray(x0, np.float64)
    m = np.zeros(d)
    st = dict(x_opt=x.copy(), m_opt=m.copy(), loss_opt=np.inf, a=opts.a_init, a_opt=opts.a_init, step=0,
              unchanged=0, last=0)
    traj = []
    for t in range(1, steps + 1):
        loss, g = problem().value_and_grad(x)
        ks = jax.random.split(jax.random.fold_in(key, t), 4)
        r_noise = np.asarray(jax.random.normal(jax.random.split(ks[0], 1)[0], (d,), np.float32), np.float64)
        delta_noise = np.asarray(jax.random.normal(jax.random.split(ks[3], 1)[0], (d,), np.float32), np.float64)
        new = loss < st["loss_opt"]
        if new:
            st.update(x_opt=x.copy(), loss_opt=loss, a_opt=st["a"], m_opt=m.copy())
        st["unchanged"] = 0 if new else st["unchanged"] + 1
        if new:
            st["last"] = st["step"] + 1
        deselect = (loss > st["loss_opt"] * opts.deselection_threshold and st["loss_opt"] != np.inf) or np.isnan(loss)
        ckpt = st["step"] > 0 and st["unchanged"] >= opts.checkpoint_n and st["loss_opt"] != np.inf
        st["step"] += 1
        if deselect or ckpt:
            x, m = st["x_opt"].copy(), st["m_opt"].copy()
            st.update(a=st["a_opt"], unchanged=0, last=st["step"])
        else:
            if opts.a_dynamic:
                u = float(jax.random.uniform(ks[2], (), np.float32, -0.1, 0.1))
                st["a"] = float(np.clip(st["a"] + u, 0.0, 1.0))
            since = max(0, st["step"] - st["last"])
            lam = since ** 2 * (1 - np.exp(-since / opts.tau_a_growth))
            m = opts.momentum * m + g
            r = np.convolve(opts.sigma * r_noise, np.ones(k) / k, mode="same")
            inner = np.clip(-opts.learning_rate * np.sign(m) * r, -1, 1)
            delta = np.clip(delta_noise * x, -1, 1)
            x = x + lam * (st["a"] * delta + (1 - st["a"]) * inner)
        traj.append(x.copy())
    return np.array(traj)


@pytest.mark.parametrize("opts", [GSDROptions(), GSDROptions(a_init=0.2, checkpoint_n=4, learning_rate=0.1),
                                  GSDROptions(a_dynamic=True, checkpoint_n=6)],
                         ids=["defaults", "fast_checkpoint", "dynamic_a"])
def test_gsdr_follows_the_published_rule_step_for_step(opts):
    steps, key = 80, jax.random.key(3)
    expected = port(opts, problem().x0, steps, key)
    res = GSDR(opts).minimize(problem(), steps, key)
    evaluated = np.array([h["candidates"][0] for h in res.history[1:]])   # x at steps 1..80
    # evaluated[t] is the point after step t-1 of the port; float32 against float64
    np.testing.assert_allclose(evaluated[1:], expected[:-1], rtol=1e-4, atol=1e-5)
    assert res.n_evaluations == steps
    assert res.best_loss < 0.5 * problem().value_and_grad(problem().x0)[0]
    reverted = [not h["accepted"][0] for h in res.history[1:]]
    assert any(reverted), "the trajectory should include reversions (checkpoint or deselection)"


def test_mcdp_factors_scale_the_stochastic_term():
    key = jax.random.key(0)
    plain = GSDR(GSDROptions(a_init=1.0)).minimize(problem(), 15, key)
    frozen = GSDR(GSDROptions(a_init=1.0, mcdp_factors=(0, 0, 0, 0, 1.0))).minimize(problem(), 15, key)
    xs = np.array([h["candidates"][0] for h in frozen.history[1:]])
    assert np.all(xs[:, :4] == np.float32(0.5)), "factor 0 freezes a parameter when a = 1"
    assert not np.allclose(np.array([h["candidates"][0] for h in plain.history[1:]])[:, :4], 0.5)
    with pytest.raises(jtfne.ConfigError, match="mcdp_factors"):
        GSDR(GSDROptions(mcdp_factors=(1.0, 2.0))).minimize(problem(), 3, key)


def test_gsdr_refuses_a_model_without_gradients_and_names_the_alternatives():
    no_grad = attrs.evolve(problem(), value_and_grad=None, differentiability="none")
    with pytest.raises(jtfne.ConfigError, match="gsdr_blackbox"):
        GSDR(GSDROptions()).minimize(no_grad, 3, jax.random.key(0))


def test_a_nan_gradient_is_an_error_naming_the_parameter_and_step():
    from jaxfne_optim import NonFiniteGradientError

    def vg(x):
        g = 2 * (np.asarray(x, np.float64) - TARGET)
        g[2] = np.nan
        return float(np.sum((np.asarray(x) - TARGET) ** 2)), g
    bad = attrs.evolve(problem(), value_and_grad=vg, names=("a", "b", "c", "d", "e"))
    with pytest.raises(NonFiniteGradientError, match=r"step 1 for \['c'\]"):
        GSDR(GSDROptions()).minimize(bad, 3, jax.random.key(0))
