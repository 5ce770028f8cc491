"""Tuning: random search recovers a known parameter; new model returned; reproducible."""
import json

import numpy as np
import pytest

import jaxfne as jtfne

SIM = jtfne.simulation(200.0, 0.1, 11)


def model_with_drive(drive_e):
    cfg = (jtfne.configuration().network(n=40, p_connect=0.05, seed=5)
           .emitter(preset="cortical_eig", drive={"E": drive_e}).no_field().probe(modes=["spikes", "V_m"]))
    return jtfne.construct(cfg)


@pytest.fixture(scope="module")
def target_rate():
    sig = model_with_drive(6.0).simulate(SIM)
    return float(np.asarray(sig["spikes"]).sum() / 40 / 0.2)


def test_random_search_recovers_a_known_drive(target_rate):
    start = model_with_drive(3.0)
    obj = jtfne.objective("fit").loss("rate", target=target_rate, metric="spike_rate_hz")
    tuned, report = start.tune(obj, "random_search", steps=6, tunables=["emitter.drive.E"],
                               bounds={"emitter.drive.E": (0.0, 15.0)}, sim=SIM, seed=0)
    assert report.best_loss < 0.05 * report.initial_loss
    assert report.best["emitter.drive.E"] == pytest.approx(6.0, abs=0.75)
    # the old model is untouched, the new one carries the value and reproduces the loss
    assert start.tuned == {} and tuned is not start
    assert tuned.tunables()["emitter.drive.E"][0] == report.best["emitter.drive.E"]
    rate = float(np.asarray(tuned.simulate(SIM)["spikes"]).sum() / 40 / 0.2)
    assert (rate - target_rate) ** 2 == pytest.approx(report.best_loss, rel=1e-3, abs=1e-3)
    d = report.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["n_evaluations"] == 1 + 6 * 16 and len(d["history"]) == 7
    assert d["physical_amplitude_claim_allowed"] is False


def test_tuning_is_reproducible_bit_for_bit(target_rate):
    obj = jtfne.objective("fit").loss("rate", target=target_rate, metric="spike_rate_hz")
    runs = [model_with_drive(3.0).tune(obj, steps=2, tunables=["emitter.drive.E", "source.gain_exc"],
                                       options={"population": 4}, sim=SIM, seed=3)[1] for _ in range(2)]
    assert runs[0].to_dict() == runs[1].to_dict()


def test_tune_refuses_bad_requests():
    model = model_with_drive(3.0)
    obj = jtfne.objective("fit").loss("rate", target=5.0, metric="spike_rate_hz")
    with pytest.raises(jtfne.UnknownStageError, match="available optimizers: 'agsdr', 'cmaes', 'gsdr', 'gsdr_blackbox', 'optax', 'random_search'"):
        model.tune(obj, optimizer="CMA", steps=1)
    with pytest.raises(jtfne.ConfigError, match="unknown tunable"):
        model.tune(obj, tunables=["emitter.drive.X"], steps=1)
    with pytest.raises(jtfne.ConfigError, match="steps"):
        model.tune(obj, steps=-1)
    with pytest.raises(jtfne.ConfigError, match="population"):
        model.tune(obj, steps=1, options={"population": 0})
    with pytest.raises(jtfne.ConfigError, match="unknown key"):
        model.tune(obj, steps=1, options={"popsize": 3})
    with pytest.raises(jtfne.ConfigError, match="nothing|no loss"):
        model.tune(jtfne.objective().gate("g", 1.0, "below", metric="spike_rate_hz"), steps=1)


def test_unknown_tuned_values_are_refused():
    from jaxfne_core.model import Model
    model = model_with_drive(3.0)
    with pytest.raises(jtfne.ConfigError, match="unknown tunable"):
        Model(model.pipeline, model.circuit, {"emitter.drive.X": 1.0})


def test_log_space_round_trip_and_wide_linear_bounds_stay_finite():
    import jax
    import jax.numpy as jnp
    from jaxfne_optim.tuning import select_tunables
    space, x0 = select_tunables({"a": (5.0, 0.0, 500.0), "tau": (5.0, 1.0, 100.0, "log")}, None, None)
    z = space.to_unit(x0)
    np.testing.assert_allclose(np.asarray(space.from_unit(jnp.asarray(z))), x0, rtol=1e-5)
    g = jax.grad(lambda z: jnp.sum(space.from_unit(z)))(jnp.asarray(z))
    assert np.all(np.isfinite(np.asarray(g)))
