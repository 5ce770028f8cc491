"""Sweeps, trial batches and optimizer populations on a 2-worker Dask cluster equal local runs."""
import attrs
import numpy as np
import pytest

import jaxfne as jtfne
from jaxfne_distributed import DaskEvaluator, dask_population_evaluator, run_trials_distributed, sweep, sweep_points
from jaxfne_optim.evaluator import population_evaluator

distributed = pytest.importorskip("dask.distributed")

LAYERS = [{"name": "L23", "top_um": 100.0, "bottom_um": 600.0, "populations": {"E": 12, "PV": 4}},
          {"name": "L4", "top_um": 600.0, "bottom_um": 900.0, "populations": {"E": 10, "PV": 4}},
          {"name": "L56", "top_um": 900.0, "bottom_um": 1500.0, "populations": {"E": 6, "SST": 4}}]
FF = {"name": "ff", "events": ["p1", "p2", "p3", "p4"], "targets": ["L4"], "amplitude": 10.0}


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=40)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(scope="module")
def model():
    cfg = (jtfne.configuration().network(n=40, layers=LAYERS, p_between_layers=0.02)
           .task("standard_visual_omission", drives=[FF], trials_per_condition=1, trial_ms=300.0, chunk_size=6)
           .probe(sample_interval_ms=1.0, modes=["spikes", "LFP", "CSD"]))
    return jtfne.construct(cfg)


def test_sweep_of_2_x_12_conditions_on_2_workers_equals_the_local_run(model, client):
    name = sorted(model.tunables())[0]
    default = model.tunables()[name][0]
    grid = {name: [default, default * 1.2 if default else 0.1]}
    remote = sweep(model, grid, client=client)
    local = sweep(model, grid)
    assert len(remote.results) == 2 and len(remote.results[0].conditions) == 12
    for (p_r, r), (p_l, l) in zip(remote, local):
        assert p_r == p_l
        for mode in ("spikes", "LFP", "CSD"):
            np.testing.assert_array_equal(r.arrays[mode], l.arrays[mode])
    # the first point is the model as it is: the same as Model.run_trials
    np.testing.assert_array_equal(local.results[0].arrays["LFP"], model.run_trials().arrays["LFP"])
    assert not np.array_equal(local.results[0].arrays["spikes"], local.results[1].arrays["spikes"])
    workers = client.run(lambda: __import__("jaxfne_distributed.dask_evaluator").dask_evaluator._WORKER_MODELS.__len__())
    assert len(workers) == 2 and sum(workers.values()) >= 1


def test_trial_batch_on_the_cluster_equals_run_trials(model, client):
    task = attrs.evolve(model.config.task, conditions=("AAAB", "AXAB"), trials_per_condition=3, chunk_size=2)
    remote = run_trials_distributed(model, task, client=client)
    local = model.run_trials(task)
    np.testing.assert_array_equal(remote.arrays["spikes"], local.arrays["spikes"])
    assert remote.conditions == ("AAAB", "AXAB") and remote.arrays["LFP"].shape[:2] == (2, 3)


def test_optimizer_population_on_the_cluster(model, client):
    obj = jtfne.objective().loss("spike_rate_hz_mean", target=5.0)
    names = tuple(sorted(model.tunables())[:2])
    sim = jtfne.simulation(duration_ms=100.0)
    rng = np.random.default_rng(0)
    lo = np.array([model.tunables()[n][1] for n in names])
    hi = np.array([model.tunables()[n][2] for n in names])
    xs = (lo + (hi - lo) * rng.random((6, 2))).astype(np.float32)
    remote = dask_population_evaluator(model, obj, names, sim, client, chunk=3)(xs)
    here = population_evaluator(model, obj, names, sim)
    expect = [np.concatenate(v) for v in zip(here(xs[:3]), here(xs[3:]))]
    np.testing.assert_array_equal(remote[0], expect[0])
    np.testing.assert_array_equal(remote[1], expect[1])
    _, report = model.tune(obj, "random_search", steps=2, tunables=list(names), sim=sim, evaluator=DaskEvaluator(client))
    assert report.best_loss <= report.initial_loss


def test_sweep_refuses_unknown_tunables(model):
    with pytest.raises(jtfne.ConfigError, match="unknown tunable"):
        sweep(model, {"emitter.nope": [1.0]})
    assert sweep_points({"a": [1, 2], "b": [3]}) == [{"a": 1, "b": 3}, {"a": 2, "b": 3}]
