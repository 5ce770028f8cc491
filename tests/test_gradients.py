"""Gradients through spiking runs work or fail loudly: a NaN surrogate gradient is an error
naming the tunables and the step (never a silent zero), and truncated backpropagation
(``gradient_window_steps``) leaves the forward values unchanged."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxfne as jtfne
from jaxfne_optim.evaluator import candidate_loss
from jaxfne_optim import NonFiniteGradientError

SIM = jtfne.simulation(100.0, 0.1, 2)


def surrogate_model(n=40):
    cfg = (jtfne.configuration().network(n=n, p_connect=0.1, seed=5)
           .emitter(preset="cortical_eig", surrogate_slope=1.0).no_field().probe(modes=["spikes", "V_m"]))
    return jtfne.construct(cfg)


def test_truncated_backpropagation_keeps_values_and_cuts_gradients():
    model = surrogate_model()
    obj = jtfne.objective("o").loss("vm", target=-60.0, metric="mean_V_m")
    names = ("emitter.drive.E", "emitter.drive.PV")
    x = jnp.asarray([3.0, 2.0], jnp.float32)
    vg = {w: jax.value_and_grad(lambda z, f=candidate_loss(model, obj, names, SIM, w): f(z)[0])(x)
          for w in (None, 1000, 100)}
    (v_full, g_full), (v_whole, g_whole), (v_cut, g_cut) = vg[None], vg[1000], vg[100]
    assert float(v_full) == float(v_whole) == float(v_cut)
    np.testing.assert_allclose(np.asarray(g_whole), np.asarray(g_full), rtol=1e-6)
    assert np.all(np.isfinite(np.asarray(g_cut))) and not np.allclose(np.asarray(g_cut), np.asarray(g_full))
    with pytest.raises(jtfne.ConfigError, match="gradient_window_steps"):
        candidate_loss(model, obj, names, SIM, 300)


def test_a_nan_surrogate_gradient_raises_naming_tunables_and_step():
    """The issue's case: rates of a 200-cell column from a far start; the surrogate gradient
    through 2,000 steps is NaN. Adam used to zero it and end 'unchanged'."""
    start = surrogate_model(200).with_tuned({"emitter.drive.E": -5.0, "emitter.drive.PV": 12.0,
                                             "emitter.drive.SST": 10.0, "source.gain_inh": 3.0})
    obj = jtfne.objective("o")
    for pop, rate in {"E": 16.0, "PV": 34.0, "SST": 36.0}.items():
        obj = obj.loss(f"rate_{pop}", target=rate, metric="spike_rate_hz", population=pop)
    tunables = ["emitter.drive.E", "emitter.drive.PV", "emitter.drive.SST", "source.gain_inh"]
    opts = {"method": "adam", "learning_rate": 0.05, "differentiability": "declared_surrogate"}
    sim = jtfne.simulation(200.0, 0.1, 0)
    with pytest.raises(NonFiniteGradientError, match=r"step 1 for \['emitter.drive.E'"):
        start.tune(obj, "optax", steps=3, tunables=tunables, options=opts, sim=sim)
    # truncated to windows of 20 steps the gradient is finite and Adam moves
    _, rep = start.tune(obj, "optax", steps=3, tunables=tunables, sim=sim,
                        options={**opts, "gradient_window_steps": 20})
    assert all(np.isfinite(h["grad_norm"]) for h in rep.history[1:])
    assert rep.best_loss < rep.initial_loss
