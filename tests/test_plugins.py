"""Plugin discovery through real entry-point metadata, blocking, duplicates, hook validation."""
import json
from pathlib import Path
import subprocess
import sys
import textwrap

import numpy as np
import pluggy
import pytest

import jaxfne as jtfne
from jaxfne_core.cli import main
from jaxfne_core.errors import PluginWarning
from jaxfne_core.plugins import clear_registry_cache, load_registry, make_plugin_manager

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "v1_laminar_column.jcfg.json"

THIRD_PARTY = '''
import attrs
import jax.numpy as jnp
import numpy as np
from jaxfne_core import hookimpl, Field
from jaxfne_core.claims import Amplitude, FieldSolver


@attrs.frozen
class BoxcarOptions:
    half_width_um: float = 200.0


class BoxcarField(Field):
    """Third-party proxy: mean of sources within +-half_width of each contact."""
    name = "boxcar_proxy"
    Options = BoxcarOptions

    def provides(self, upstream):
        return {"field_solver": FieldSolver.PROXY, "amplitude": Amplitude.RELATIVE}

    def operator(self, src, probe, circuit):
        m = (np.abs(probe.positions_um[:, None, 2] - src[None, :, 2]) <= self.options.half_width_um).astype(np.float32)
        return {"M": jnp.asarray(m / np.maximum(m.sum(1, keepdims=True), 1))}

    def apply(self, params, currents):
        y = params["M"] @ currents
        return {"LFP": y, "CSD": -y}


@hookimpl
def jaxfne_register_fields(registry):
    registry.add(BoxcarField)
'''


def make_distribution(root, dist, module, source, ep_name, version="1.0"):
    """Write an installed-looking distribution (module + .dist-info with entry points)."""
    (root / f"{module}.py").write_text(source)
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[jaxfne]\n{ep_name} = {module}\n")


@pytest.fixture
def third_party(tmp_path, monkeypatch):
    make_distribution(tmp_path, "thirdparty-boxcar", "thirdparty_boxcar", THIRD_PARTY, "boxcar")
    monkeypatch.syspath_prepend(str(tmp_path))
    clear_registry_cache()
    yield tmp_path
    clear_registry_cache()
    sys.modules.pop("thirdparty_boxcar", None)


def test_builtins_register_through_entry_points(registry):
    by = {(e.stage, e.name): e for e in registry}
    for key in [("emitter", "izhikevich"), ("emitter", "jaxley"), ("source", "exponential"),
                ("source", "receptor_exponential"), ("field", "laminar_proxy"), ("probe", "laminar"),
                ("objective", "spike_rate_hz"), ("optimizer", "random_search")]:
        assert key in by, key
        assert by[key].distribution == "jaxfne"
    assert by[("emitter", "izhikevich")].plugin == "izhikevich"


def test_third_party_distribution_is_discovered_used_and_blockable(third_party, monkeypatch):
    reg = jtfne.default_registry()
    entry = reg.get("field", "boxcar_proxy")
    assert entry.distribution == "thirdparty-boxcar" and entry.plugin == "boxcar"
    model = jtfne.construct(jtfne.configuration().network(n=20).field("boxcar_proxy", half_width_um=300.0)
                            .probe(n_contacts=4, spacing_um=300.0))
    sig = model.simulate(jtfne.simulation(duration_ms=10.0))
    np.testing.assert_allclose(sig["CSD"], -np.asarray(sig["LFP"]))
    # blocked by name through the environment variable
    monkeypatch.setenv("JAXFNE_BLOCK_PLUGINS", "boxcar")
    with pytest.raises(jtfne.UnknownStageError, match="available fields: 'disc', 'laminar_fv'"):
        jtfne.default_registry().get("field", "boxcar_proxy")


def test_unknown_name_lists_available(registry):
    with pytest.raises(jtfne.UnknownStageError) as e:
        registry.get("emitter", "hodgkin_huxley")
    assert "'izhikevich'" in str(e.value) and "'jaxley'" in str(e.value)
    with pytest.raises(jtfne.ConfigError, match=r"\$\.emitter\.kind: unknown emitter 'hodgkin'; available emitters"):
        jtfne.configuration().emitter("hodgkin")


def test_duplicate_stage_name_names_both_distributions(tmp_path, monkeypatch):
    dup = THIRD_PARTY.replace('name = "boxcar_proxy"', 'name = "laminar_proxy"')
    make_distribution(tmp_path, "dup-fields", "dup_fields_mod", dup, "dupfields")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with pytest.warns(PluginWarning, match="withheld"):
            reg = load_registry(make_plugin_manager())
        with pytest.raises(jtfne.UnknownStageError) as e:       # neither wins silently
            reg.get("field", "laminar_proxy")
        assert "jaxfne" in str(e.value) and "dup-fields" in str(e.value)
        assert reg.get("field", "line_source").distribution == "jaxfne"     # the rest still loads
        # blocking one of them, by plugin or by distribution name, resolves it
        for block in ("dupfields", "dup-fields", "Dup_Fields"):
            reg = load_registry(make_plugin_manager(block=[block]))
            assert reg.get("field", "laminar_proxy").distribution == "jaxfne" and not reg.failures
    finally:
        sys.modules.pop("dup_fields_mod", None)


def test_same_plugin_name_from_two_distributions_loads_neither_until_one_is_blocked(tmp_path, monkeypatch):
    make_distribution(tmp_path, "other-fields", "other_fields_mod", "", "fields")
    monkeypatch.syspath_prepend(str(tmp_path))
    pm = make_plugin_manager()
    assert pm.get_plugin("fields") is None and pm.get_plugin("izhikevich") is not None
    assert {f.distribution for f in pm.failures} == {"jaxfne", "other-fields"}
    assert "declared by two distributions" in pm.failures[0].reason
    pm = make_plugin_manager(block=["other-fields"])            # by distribution name
    assert pm.get_plugin("fields") is not None and not pm.failures


def test_misspelled_hook_is_caught_by_check_pending():
    class Bad:
        @jtfne.hookimpl
        def jaxfne_register_emiters(self, registry):  # typo
            pass
    with pytest.raises(pluggy.PluginValidationError):
        make_plugin_manager(entry_points=False, plugins=[("bad", Bad())])


def test_local_plugin_and_api_version():
    class Wrong:
        JAXFNE_PLUGIN_API = jtfne.PLUGIN_API_VERSION + 1
    with pytest.raises(RuntimeError, match="plugin API"):
        make_plugin_manager(entry_points=False, plugins=[("wrong", Wrong())])


def test_registering_a_non_stage_is_refused():
    class Plugin:
        @jtfne.hookimpl
        def jaxfne_register_fields(self, registry):
            registry.add(object, name="nothing")
    with pytest.raises(TypeError, match="must subclass Field"):
        load_registry(make_plugin_manager(entry_points=False, plugins=[("p", Plugin())]))


def test_core_imports_no_plugin_package():
    """Importing the core loads no other jaxfne package; importing the facade loads the packages
    it re-exports from (objectives, optimizers, tasks, formats) but registers nothing: no
    entry-point module (``*.plugin``) and no stage package it does not re-export."""
    code = textwrap.dedent("""
        import sys, jaxfne_core
        bad = [m for m in sys.modules if m.startswith('jaxfne') and m.split('.')[0] != 'jaxfne_core']
        assert not bad, bad
        import jaxfne
        bad = [m for m in sys.modules if m.startswith('jaxfne') and m.endswith('.plugin') or m.split('.')[0] in
               ('jaxfne_emitters', 'jaxfne_fields', 'jaxfne_bridges', 'jaxfne_cells', 'jaxfne_workflows')]
        assert not bad, bad
    """)
    subprocess.run([sys.executable, "-c", code], check=True)


def test_trace_switch_prints_registrations(monkeypatch, capsys):
    monkeypatch.setenv("JAXFNE_TRACE_PLUGINS", "1")
    load_registry(make_plugin_manager())
    err = capsys.readouterr().err
    assert ("jaxfne_register_emitters(registry) <- plugin 'izhikevich' (jaxfne): registered adex, hh, izhikevich, lif, mixed, rate"
            in err)
    assert "jaxfne_register_sources(registry) <- plugin 'izhikevich' (jaxfne): registered exponential, " \
           "receptor_exponential" in err


def test_plugins_json_cli_lists_every_builtin():
    out = subprocess.run([sys.executable, "-m", "jaxfne_core", "plugins", "--json"], check=True,
                         capture_output=True, text=True).stdout
    rows = json.loads(out)
    assert all({"stage", "name", "distribution"} <= set(r) for r in rows)
    names = {(r["stage"], r["name"]) for r in rows}
    assert {("emitter", "izhikevich"), ("field", "laminar_proxy"), ("probe", "laminar"),
            ("optimizer", "random_search")} <= names




BROKEN = {
    "raises-at-import": "raise RuntimeError('plugin import exploded')\n",
    "missing-module": None,                                  # the entry point names no module
    "misspelled-hook": "from jaxfne_core import hookimpl\n@hookimpl\ndef jaxfne_register_feilds(registry):\n    pass\n",
    "api-mismatch": "JAXFNE_PLUGIN_API = 999\n",
    "hook-raises": "from jaxfne_core import hookimpl\n@hookimpl\ndef jaxfne_register_fields(registry):\n"
                   "    raise ValueError('cannot register today')\n",
    "not-a-stage": "from jaxfne_core import hookimpl\n@hookimpl\ndef jaxfne_register_fields(registry):\n"
                   "    registry.add(object, name='nothing')\n",
    "wrong-argument": "from jaxfne_core import hookimpl\n@hookimpl\ndef jaxfne_register_fields(reg1stry):\n    pass\n",
    "half-registered": THIRD_PARTY + "\n@hookimpl\ndef jaxfne_register_probes(registry):\n    raise KeyError('x')\n",
}
REASONS = {"raises-at-import": "plugin import exploded", "missing-module": "ModuleNotFoundError",
           "misspelled-hook": "did you mean 'jaxfne_register_fields'", "api-mismatch": "plugin API 999",
           "hook-raises": "cannot register today", "not-a-stage": "must subclass Field",
           "wrong-argument": "reg1stry", "half-registered": "jaxfne_register_probes raised KeyError"}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_installed_plugin_is_isolated_named_and_blockable(case, tmp_path, monkeypatch, capsys):
    dist, module = f"broken-{case}", f"broken_{case.replace('-', '_')}"
    if BROKEN[case] is None:
        make_distribution(tmp_path, dist, module, "", "brokenplugin")
        (tmp_path / f"{module}.py").unlink()
    else:
        make_distribution(tmp_path, dist, module, BROKEN[case], "brokenplugin")
    monkeypatch.syspath_prepend(str(tmp_path))
    clear_registry_cache()
    try:
        with pytest.warns(PluginWarning) as caught:
            reg = jtfne.default_registry()
        (failure,) = reg.failures
        assert failure.distribution == dist and failure.plugin == "brokenplugin", failure
        assert REASONS[case] in failure.reason, failure.reason
        assert f"JAXFNE_BLOCK_PLUGINS={dist}" in str(failure) and str(failure) in str(caught[0].message)
        assert reg.get("emitter", "izhikevich").distribution == "jaxfne"          # the others load
        if case == "half-registered":              # what it registered before failing is taken back
            with pytest.raises(jtfne.UnknownStageError, match="failed to load"):
                reg.get("field", "boxcar_proxy")
        # the command line still works and says what was left out
        assert main(["validate", str(EXAMPLE)]) == 0
        assert main(["plugins"]) == 0
        assert f"not loaded: plugin 'brokenplugin' (distribution {dist}" in capsys.readouterr().err
        monkeypatch.setenv("JAXFNE_BLOCK_PLUGINS", dist)            # blocked by distribution name
        assert not jtfne.default_registry().failures
    finally:
        clear_registry_cache()
        sys.modules.pop(module, None)


def test_a_block_name_that_matches_nothing_is_warned_about():
    with pytest.warns(PluginWarning, match="'no-such-plugin' matches no installed"):
        make_plugin_manager(block=["no-such-plugin"])


def test_receipts_name_each_stage_distribution_and_its_version_enters_the_id(tmp_path, monkeypatch):
    """The same config and seed through two versions of a plugin distribution: different ids."""
    ids = []
    for version in ("1.0", "1.1"):
        root = tmp_path / version
        root.mkdir()
        make_distribution(root, "thirdparty-boxcar", "thirdparty_boxcar", THIRD_PARTY, "boxcar", version)
        monkeypatch.syspath_prepend(str(root))
        clear_registry_cache()
        try:
            model = jtfne.construct(jtfne.configuration().network(n=20).field("boxcar_proxy")
                                    .probe(n_contacts=4, spacing_um=300.0))
            receipt = model.run_receipt(model.simulate(jtfne.simulation(5.0)))
        finally:
            monkeypatch.syspath_prepend(str(tmp_path))   # keep sys.path order sane for the next round
            sys.path.remove(str(root))
            sys.modules.pop("thirdparty_boxcar", None)
            clear_registry_cache()
        field = [s for s in receipt.stages if s["stage"] == "field"][0]
        assert field == {"stage": "field", "name": "boxcar_proxy", "plugin": "boxcar",
                         "distribution": "thirdparty-boxcar", "version": version}
        emitter = [s for s in receipt.stages if s["stage"] == "emitter"][0]
        assert emitter["distribution"] == "jaxfne" and emitter["version"] == jtfne.__version__
        ids.append(receipt.receipt_id)
    assert ids[0] != ids[1]


def test_a_third_party_emitter_with_populations_E_and_I_drives_receptor_exponential():
    """The template's LIF emitter (installed through its entry point) names its populations E
    and I; the receptor source learns which is inhibitory from the emitter's declaration."""
    entry = jtfne.default_registry().get("emitter", "template_lif")
    assert entry.distribution != "jaxfne"
    cfg = (jtfne.configuration().network(n=60, p_connect=0.1).emitter("template_lif")
           .source("receptor_exponential").probe(n_contacts=4))
    model = jtfne.construct(cfg)
    assert model.circuit.population_names == ("E", "I")
    names = model.pipeline.source.channels(model.circuit)[0]
    assert names == ("AMPA", "GABA_A")
    sig = model.simulate(jtfne.simulation(20.0))
    assert np.isfinite(np.asarray(sig["LFP"])).all()
    # overrides use the emitter's names; a name it does not have is refused with the ones it has
    slow = jtfne.construct(cfg.source("receptor_exponential", receptor_by_population={"I": "GABA_B"}))
    assert slow.pipeline.source.channels(slow.circuit)[0] == ("AMPA", "GABA_B")
    with pytest.raises(jtfne.ConfigError, match=r"\['PV'\] match no population of the emitter; allowed: \['E', 'I'\]"):
        jtfne.construct(cfg.source("receptor_exponential", receptor_by_population={"PV": "GABA_A"})).params(0.1)
    with pytest.raises(jtfne.ConfigError, match="population 'I' is inhibitory"):
        jtfne.construct(cfg.source("receptor_exponential", receptor_by_population={"I": "AMPA"})).params(0.1)
