"""Configuration: strict structuring, path-bearing errors, round trips, builder equivalence."""
import json
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import jaxfne as jtfne
from jaxfne_core.config import Configuration

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = str(ROOT / "examples" / "v1_laminar_column.jcfg.json")


def base_dict():
    return jtfne.configuration().to_dict()


@pytest.mark.parametrize("mutate,path,fragment", [
    (lambda d: d["network"].update(n="64"), "$.network.n", "expected int, got '64'"),
    (lambda d: d["network"].update(n=2.7), "$.network.n", "expected int"),
    (lambda d: d["network"].update(n=0), "$.network.n", "out of range"),
    (lambda d: d["network"].update(nn=3), "$.network.nn", "unknown key; allowed:"),
    (lambda d: d["network"].update(connectivity="sparse"), "$.network.connectivity", "'dense', 'edge_list'"),
    (lambda d: d["emitter"].update(preset="x"), "$.emitter.preset", "'x' is not allowed"),
    (lambda d: d["emitter"].update(fractions={"E": 0.5}), "$.emitter.fractions", "must sum to 1"),
    (lambda d: d["emitter"].pop("kind"), "$.emitter.kind", "missing; allowed: 'adex', 'hh', 'izhikevich', 'jaxley', 'lif'"),
    (lambda d: d["source"].update(kind="alpha"), "$.source.kind", "available sources: 'cable', 'compartments', 'exponential'"),
    (lambda d: d["source"].update(tau_ms=-1.0), "$.source.tau_ms", "out of range"),
    (lambda d: d["probe"].update(modes=["LFP", "EEG"]), "$.probe.modes", "['EEG'] not allowed"),
    (lambda d: d.update(extra=1), "$.extra", "unknown key"),
    (lambda d: d.update(task={"drives": [{"events": ["p1"], "targets": ["E"], "amplitude": 1.0}]}),
     "$.task.drives[0].name", "required key missing"),
    (lambda d: d.update(network=[64]), "$.network", "expected"),
    (lambda d: d["simulation"].update(dt_ms=0.3, duration_ms=1.0), "$.simulation.duration_ms", "whole number"),
])
def test_bad_config_errors_carry_path_value_and_allowed(mutate, path, fragment):
    d = base_dict()
    mutate(d)
    with pytest.raises(jtfne.ConfigError) as e:
        jtfne.config_from_dict(d)
    text = str(e.value)
    assert any(p == path for p, _ in e.value.problems), text
    assert fragment in text, text


def test_several_errors_are_reported_together():
    d = base_dict()
    d["network"]["n"] = -1
    d["probe"]["spacing_um"] = 0
    with pytest.raises(jtfne.ConfigError) as e:
        jtfne.config_from_dict(d)
    paths = {p for p, _ in e.value.problems}
    assert {"$.network.n", "$.probe.spacing_um"} <= paths


def test_nan_refused_in_files(tmp_path):
    d = base_dict()
    text = json.dumps(d).replace('"p_connect": 0.1', '"p_connect": NaN')
    f = tmp_path / "x.jcfg.json"
    f.write_text(text)
    with pytest.raises(jtfne.ConfigError, match="NaN is not allowed"):
        jtfne.load_config(f)


def test_example_file_loads_saves_and_round_trips(tmp_path):
    cfg = jtfne.load_config(EXAMPLE)
    out = jtfne.save_config(cfg, tmp_path / "again.jcfg.json")
    assert jtfne.load_config(out) == cfg
    with pytest.raises(jtfne.OutputExistsError):
        jtfne.save_config(cfg, out)


def test_builder_and_json_produce_the_same_objects():
    built = (jtfne.configuration().network(name="V1", n=64, connectivity="edge_list")
             .emitter(family="izhikevich", preset="RS_FS").source("receptor_exponential")
             .field(gauge="none").probe(n_contacts=8).simulation(50.0, 0.05, 3).build())
    assert isinstance(built, Configuration)
    assert jtfne.config_from_dict(json.loads(json.dumps(jtfne.config_to_dict(built)))) == built
    assert built.network.connectivity == "edge_list" and built.source.kind == "receptor_exponential"
    same = jtfne.configuration().runtime(recurrent_backend="edge_list",
                                         synaptic_kernel="receptor_exponential").build()
    assert same.network.connectivity == "edge_list" and same.source.kind == "receptor_exponential"


names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 5000), p=st.floats(0, 1), thick=st.floats(10, 5000), name=names,
       preset=st.sampled_from(["cortical_eig", "RS", "RS_FS", "cortical_eig_vip"]),
       sigma=st.floats(0, 10), source=st.sampled_from(["exponential", "receptor_exponential"]),
       boundary=st.sampled_from(["mean_zero_neumann", "dirichlet_zero"]),
       modes=st.lists(st.sampled_from(["spikes", "V_m", "LFP", "CSD", "sources"]), min_size=1, unique=True),
       seed=st.integers(0, 2**32 - 1), steps=st.integers(1, 5000), dt=st.sampled_from([0.025, 0.05, 0.1, 0.5]))
def test_config_round_trips(n, p, thick, name, preset, sigma, source, boundary, modes, seed, steps, dt):
    cfg = (jtfne.configuration().network(name=name, n=n, p_connect=p, thickness_um=thick, seed=seed)
           .emitter(preset=preset, noise_sigma=sigma).source(source).field(boundary=boundary)
           .probe(modes=modes).simulation(steps * dt, dt, seed).build())
    text = json.dumps(jtfne.config_to_dict(cfg), allow_nan=False)
    again = jtfne.config_from_dict(json.loads(text))
    assert again == cfg
    assert jtfne.config_to_dict(again) == jtfne.config_to_dict(cfg)


def test_objective_section_round_trips():
    obj = (jtfne.objective("o").loss("r", 5.0, metric="spike_rate_hz", time_window_ms=(10, 50))
           .gate("g", (1.0, 2.0), "in_range", metric="mean_V_m"))
    cfg = jtfne.configuration().network(n=10).objective(obj).build()
    assert jtfne.config_from_dict(jtfne.config_to_dict(cfg)) == cfg
    assert cfg.objective.terms[1].threshold == (1.0, 2.0)


def test_gate_threshold_shape_is_checked():
    with pytest.raises(ValueError, match="pair"):
        jtfne.objective().gate("g", 1.0, "in_range", metric="mean_V_m")


def test_options_objects_are_frozen_values():
    cfg = jtfne.configuration().build()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        cfg.network.n = 3
