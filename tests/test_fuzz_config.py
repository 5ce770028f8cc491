"""Fuzzing: mutated valid configs (types, ranges, keys, nesting, unicode) give a valid model or a
JaxfneError that carries a path, never another exception."""
import copy
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from jaxfne_core.assemble import assemble
from jaxfne_core.config import config_from_dict, parse_config_text
from jaxfne_core.errors import ConfigError, JaxfneError
from jaxfne_core.model import Model

ROOT = Path(__file__).resolve().parent.parent
BASES = [json.loads((ROOT / "examples" / name).read_text()) for name in
         ("v1_laminar_column.jcfg.json", "minimal_column.jcfg.json", "omission_column.jcfg.json",
          "v1_column_layered_conductivity.jcfg.json")]
for base in BASES:                      # keep the fuzzed circuits small: construction is what is tested
    base["network"]["n"] = min(base["network"]["n"], 120)
    if "layers" in base["network"]:
        base["network"].pop("layers"), base["network"].pop("p_between_layers", None)
        base.pop("task", None)
        base["source"].pop("receptor_by_population", None)     # it names the layers' populations

ODD = st.one_of(
    st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 1, 2**32, 1e-300, 1e300, 0.5, -0.0, "", "E", "AMPA", "\u00e9\u4e2d", "\ud800",
                     "x" * 1000, [], {}, [1, 2], [[]], {"kind": "nope"}, {"a": {"b": {"c": [1]}}}]),
    st.text(max_size=8), st.lists(st.integers(-3, 3), max_size=3),
)


def paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from paths(v, prefix + (i,))


@st.composite
def mutated(draw):
    cfg = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from([p for p in paths(cfg) if p]))
        parent = cfg
        for key in where[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "replace", "delete", "add_key", "wrap"]))
        last = where[-1]
        if action == "replace":
            parent[last] = draw(ODD)
        elif action == "delete" and isinstance(parent, dict):
            del parent[last]
        elif action == "add_key" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=6))] = draw(ODD)
        elif action == "wrap":
            parent[last] = [parent[last]] if draw(st.booleans()) else {"value": parent[last]}
    return cfg


def outcome(cfg):
    try:
        model = Model(assemble(config_from_dict(cfg)))
    except ConfigError as e:
        assert e.problems and all(p for p, _ in e.problems), e.problems
        return "refused"
    except JaxfneError as e:
        assert str(e)
        return "refused"
    assert model.n_cells >= 1
    return "valid"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_configs_are_valid_or_refused_with_a_path(cfg):
    outcome(cfg)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_is_parsed_or_refused(text):
    try:
        parse_config_text(text)
    except ConfigError as e:
        assert e.problems


def test_the_unmutated_bases_are_valid():
    assert all(outcome(copy.deepcopy(b)) == "valid" for b in BASES)
