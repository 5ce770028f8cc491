"""The house: the core is the plugin host and imports no other jaxfne package; no import cycle
among jaxfne's modules; one table of stage kinds that the hooks follow."""
import ast
import json
from pathlib import Path

import attrs
import numpy as np
import pluggy
import pytest

import jaxfne as jtfne
import jaxfne_core.hookspecs as hookspecs
from jaxfne_core.cli import main
from jaxfne_core.config import config_from_dict, config_to_dict, load_config
from jaxfne_core.errors import ConfigError
from jaxfne_core.plugins import load_registry, make_plugin_manager
from jaxfne_core.stages import STAGE_KINDS
from jaxfne_tasks.hookspecs import Paradigm
from jaxfne_tasks.plugin import VisualOmission
from jaxfne_workflows.commands import _run_task

SRC = Path(__file__).resolve().parent.parent / "src"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """jaxfne modules imported anywhere in ``path`` (top level or inside functions)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.add(mod)
            out |= {f"{mod}.{a.name}" for a in node.names}
    return {m for m in out if m.split(".")[0].startswith("jaxfne")}


def graph() -> dict:
    files = {module_name(p): p for p in SRC.rglob("*.py")}
    edges = {}
    for name, path in files.items():
        edges[name] = {m for m in imports_of(path) if m in files and m != name}
    return edges


def test_core_imports_no_other_jaxfne_package():
    bad = [(p.name, m) for p in (SRC / "jaxfne_core").rglob("*.py") for m in imports_of(p)
           if m.split(".")[0] != "jaxfne_core"]
    assert not bad, bad


def test_no_import_cycle_among_jaxfne_modules():
    edges = graph()
    state, stack, cycles = {}, [], []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node)
    # a package's __init__ re-exporting its own modules is not a cycle between modules
    real = [c for c in cycles if not any(a == b.rsplit(".", 1)[0] or b == a.rsplit(".", 1)[0]
                                         for a, b in zip(c, c[1:]))]
    assert not real, real


def test_core_has_no_function_local_imports_of_jaxfne_modules():
    local = []
    for path in (SRC / "jaxfne_core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and node.col_offset > 0:
                mod = getattr(node, "module", None) or node.names[0].name
                if node.level or (mod or "").startswith("jaxfne"):
                    local.append((path.name, node.lineno, mod))
    assert not local, local


def test_one_table_of_stage_kinds_and_its_hooks():
    """The host's kinds have their hooks in jaxfne_core.hookspecs; the packages' kinds are
    declared by the packages, hook specs included, and reach the registry in listing order."""
    specs = {n for n in dir(hookspecs) if n.startswith("jaxfne_register_")}
    assert specs == {k.hook for k in STAGE_KINDS.values()}
    kinds = jtfne.default_registry().kinds
    assert list(kinds) == ["emitter", "source", "field", "probe", "objective", "optimizer", "paradigm",
                           "command", "section", "method"]
    declared = {k: v.base.__module__ for k, v in kinds.items()
                if k not in STAGE_KINDS}
    assert {k: v.split(".")[0] for k, v in declared.items()} == {
        "objective": "jaxfne_objectives", "optimizer": "jaxfne_optim", "paradigm": "jaxfne_tasks"}


def test_a_kinds_hook_without_its_declaring_package_leaves_that_plugin_out():
    """With jaxfne_optim blocked, no plugin declares the optimizer kind: a third party that
    registers optimizers is left out, naming the hook; the other kinds and plugins load."""
    from jaxfne_core.errors import UnknownStageError

    class Extra:
        @jtfne.hookimpl
        def jaxfne_register_optimizers(self, registry):
            raise AssertionError("never called")

    pm = make_plugin_manager(block=["optim"])
    with pytest.raises(pluggy.PluginValidationError, match="hook 'jaxfne_register_optimizers' is not a jaxfne hook"):
        make_plugin_manager(block=["optim"], plugins=[("extra", Extra())])
    registry = load_registry(pm)
    assert "optimizer" not in registry.kinds and "paradigm" in registry.kinds
    with pytest.raises(UnknownStageError, match="unknown stage kind 'optimizer'"):
        registry.get("optimizer", "cmaes")


def test_one_default_per_option_whatever_the_route(tmp_path):
    sparse = {"network": {"n": 20}}
    path = tmp_path / "sparse.jcfg.json"
    path.write_text(json.dumps(sparse))
    built = config_to_dict(jtfne.configuration().network(n=20).build())
    assert config_to_dict(config_from_dict(sparse)) == built == config_to_dict(load_config(path))
    assert config_from_dict({"network": {"n": 20}, "field": None}).field is None      # null means "none"


def test_a_configs_objective_is_usable_by_evaluate_tune_and_run(tmp_path):
    example = SRC.parent / "examples" / "v1_laminar_column.jcfg.json"
    cfg = load_config(example)
    cfg_small = jtfne.configuration().network(n=40).probe(n_contacts=4).objective(
        jtfne.objective("o").loss("rate", target=10.0, metric="spike_rate_hz")).build()
    model = jtfne.construct(cfg_small)
    signals = model.simulate(jtfne.simulation(10.0))
    a = model.evaluate(signals, cfg_small.objective)                   # the config's ObjectiveConfig
    b = model.evaluate(signals)                                        # default: the config's own
    assert a.total_loss == b.total_loss and a.objective == "o"
    tuned, report = model.tune(cfg_small.objective, "random_search", steps=1, tunables=["emitter.drive.E"],
                               sim=jtfne.simulation(10.0), options={"population": 2})
    assert report.n_evaluations == 3
    out = tmp_path / "run"
    assert main(["run", str(example), "--out", str(out), "--duration-ms", "10", "--no-figures"]) == 0
    objective = json.loads((out / "objective.json").read_text())
    assert objective["objective"] == cfg.objective.name and "total_loss" in objective
    assert json.loads((out / "summary.json").read_text())["objective"]["name"] == cfg.objective.name


def test_signal_rows_say_their_time():
    model = jtfne.construct(jtfne.configuration().network(n=20).probe(n_contacts=4, sample_interval_ms=1.0))
    signals = model.simulate(jtfne.simulation(5.0))
    assert list(signals.time_ms) == [1.0, 2.0, 3.0, 4.0, 5.0]
    meta = signals.metadata
    assert meta["dt_ms"] == 1.0 and meta["row_time"].startswith("end")
    assert meta["reduction"]["spikes"] == "count" and meta["reduction"]["LFP"] == "mean"


def test_a_paradigm_without_outputs_is_refused_by_run_before_any_trial(tmp_path):
    """A third-party paradigm that implements only the runner: its trials run from Python, and
    ``jaxfne run`` refuses it with a path-bearing error instead of running all trials first."""

    class Bare(Paradigm):
        name = "bare"
        Options = VisualOmission.Options
        runs = []

        def definition(self):
            return VisualOmission().definition()

        def check(self, model, task, sim):
            VisualOmission().check(model, task, sim)

        def run_trials(self, model, task, sim):
            Bare.runs.append(task)
            return VisualOmission().run_trials(model, task, sim)

        def simulate_trial(self, model, task, condition, trial, sim):
            return VisualOmission().simulate_trial(model, task, condition, trial, sim)

    class Plugin:
        @jtfne.hookimpl
        def jaxfne_register_paradigms(self, registry):
            registry.add(Bare)

    registry = load_registry(make_plugin_manager(plugins=[("bare", Plugin())]))
    cfg = (jtfne.configuration(registry=registry).network(n=20).probe(n_contacts=4)
           .task("bare", conditions=["AAAB"], trials_per_condition=1).build())
    model = jtfne.construct(cfg, registry=registry)
    assert model.run_trials().arrays["LFP"].shape[:2] == (1, 1) and len(Bare.runs) == 1
    with pytest.raises(ConfigError, match=r"\$\.task\.paradigm: paradigm 'bare' writes no task outputs"):
        _run_task(None, cfg, model, cfg.simulation, tmp_path / "out")
    assert len(Bare.runs) == 1 and not (tmp_path / "out").exists()


def test_scoring_tuning_and_trials_are_model_methods_their_packages_register():
    """Model.evaluate / compute_readout / tune / run_trials are not in the core: each is a
    model method a package registers; with that package's entry point blocked the method is
    gone, and the error lists the methods there are and the hook that adds them."""
    from jaxfne_core.model import Model, construct
    for name in ("evaluate", "check_objective", "objective_config", "compute_readout", "tune", "run_trials",
                 "check_task", "simulate_trial", "paradigm"):
        assert name not in vars(Model), name
    owners = {e.name: e.distribution for e in jtfne.default_registry() if e.stage == "method"}
    assert owners["tune"] == owners["evaluate"] == owners["run_trials"] == "jaxfne"
    for blocked, call, name in [
            ("objectives", lambda m, s: m.compute_readout(s, [jtfne.readout_spec("r", "spike_rate_hz")]),
             "compute_readout"),
            ("optim", lambda m, s: m.tune(jtfne.objective().loss("spike_rate_hz", 5.0), steps=1), "tune")]:
        registry = load_registry(make_plugin_manager(block=[blocked]))
        model = construct(jtfne.configuration(registry).network(n=8).build(), registry=registry)
        signals = model.simulate(jtfne.simulation(duration_ms=5.0))
        assert name not in dir(model) and "simulate" in dir(model)
        with pytest.raises(AttributeError, match=rf"Model has no attribute {name!r}: unknown method .*available "
                           r"methods: .*model methods come from plugins \(jaxfne_register_model_methods\)"):
            call(model, signals)


def test_a_third_party_model_method_is_called_with_the_model_and_checked():
    """A plugin's function becomes ``model.<name>``; a name starting with '_' is refused at
    registration; the conformance check refuses a name the Model already answers."""
    from jaxfne_core.errors import PluginError
    from jaxfne_core.model import construct
    from jaxfne_testing import check_model_method

    def mean_rate_hz(model, signals):
        """Mean rate over every cell (Hz)."""
        return float(np.asarray(signals["spikes"]).sum() / model.n_cells / (signals.duration_ms / 1000.0))

    class Methods:
        @jtfne.hookimpl
        def jaxfne_register_model_methods(self, registry):
            registry.add(mean_rate_hz, name="mean_rate_hz")

    registry = load_registry(make_plugin_manager(plugins=[("rates", Methods())]))
    model = construct(jtfne.configuration(registry).network(n=16).build(), registry=registry)
    signals = model.simulate(jtfne.simulation(duration_ms=50.0))
    spikes = np.asarray(signals["spikes"]).sum()
    assert model.mean_rate_hz(signals) == pytest.approx(spikes / 16 / 0.05) and "mean_rate_hz" in dir(model)
    check_model_method(registry.get("method", "mean_rate_hz"))
    with pytest.raises(AssertionError, match="shadowed by Model.simulate"):
        check_model_method(attrs.evolve(registry.get("method", "mean_rate_hz"), name="simulate"))

    class Private:
        @jtfne.hookimpl
        def jaxfne_register_model_methods(self, registry):
            registry.add(mean_rate_hz, name="_rate")

    with pytest.raises(PluginError, match="method name '_rate' must be a Python name not starting with '_'"):
        load_registry(make_plugin_manager(plugins=[("private", Private())]))


def test_the_network_task_and_objective_sections_belong_to_their_packages():
    """The core structures ``network``, ``task`` and ``objective`` into the classes plugins
    registered for them; with a provider blocked, its section is refused by path and name, and
    a section name outside the three is refused at registration."""
    from jaxfne_core.errors import PluginError
    registry = jtfne.default_registry()
    owners = {e.name: e.plugin for e in registry if e.stage == "section"}
    assert owners == {"network": "izhikevich", "task": "tasks", "objective": "objectives"}
    cfg = config_from_dict({"task": {"trials_per_condition": 2}}, registry)
    assert type(cfg.task).__module__ == "jaxfne_tasks.task_config" and cfg.task.trials_per_condition == 2

    blocked = load_registry(make_plugin_manager(block=["tasks"]))
    assert config_from_dict({}, blocked).task is None            # a config without the section is fine
    with pytest.raises(ConfigError, match=r"\$\.task: no installed plugin declares the 'task' section"):
        config_from_dict({"task": {"trials_per_condition": 2}}, blocked)

    no_objectives = load_registry(make_plugin_manager(block=["objectives"]))
    with pytest.raises(ConfigError, match=r"\$\.objective: no installed plugin declares the 'objective' section"):
        config_from_dict({"objective": {"terms": []}}, no_objectives)
    with pytest.raises(ConfigError, match=r"\$\.network: expected an object, got NoneType None"):
        config_from_dict({"network": None}, registry)

    class Odd:
        @jtfne.hookimpl
        def jaxfne_register_sections(self, registry):
            registry.add(dict, name="analysis")

    with pytest.raises(PluginError, match="section 'analysis' must be an attrs class registered as one of network"):
        load_registry(make_plugin_manager(entry_points=False, plugins=[("odd", Odd())]))


def test_every_source_step_gets_the_same_step_inputs():
    """Source.step has one signature whatever the source needs (no flag changes its arity):
    the engine hands every step a StepInputs with the global step, the run key and the
    drives, and the membrane potential only to a source that declares needs_voltage."""
    import inspect

    import jax.numpy as jnp
    from jaxfne_core.model import construct
    from jaxfne_core.stages import Source, StepInputs
    from jaxfne_emitters.synapses import ExponentialSource

    @attrs.frozen
    class NoOptions:
        """No options."""

    class ClockSource(Source):
        """Records what its step was handed; delivers no current."""
        name, Options, voltage = "clock", NoOptions, False

        @property
        def needs_voltage(self):
            return self.voltage

        def positions_um(self, circuit):
            return circuit.positions_um

        def cell_of_source(self, circuit):
            return np.arange(circuit.n_cells)

        def init_params(self, circuit, dt):
            return {"zero": jnp.zeros(circuit.n_cells, jnp.float32)}

        def init_state(self, params):
            return {"t": jnp.int32(-1), "v_mean": jnp.float32(0.0), "v_given": jnp.bool_(False)}

        def step(self, params, state, spikes, inputs):
            assert isinstance(inputs, StepInputs) and inputs.drive.shape == (0,)
            given = inputs.v is not None
            v_mean = jnp.mean(inputs.v) if given else jnp.float32(0.0)
            return {"t": inputs.t, "v_mean": v_mean, "v_given": jnp.bool_(given)}, params["zero"], params["zero"]

    class VoltageClockSource(ClockSource):
        name, voltage = "voltage_clock", True

    class Plugin:
        @jtfne.hookimpl
        def jaxfne_register_sources(self, registry):
            registry.add(ClockSource)
            registry.add(VoltageClockSource)

    registry = load_registry(make_plugin_manager(plugins=[("clock", Plugin())]))
    for name, voltage in (("clock", False), ("voltage_clock", True)):
        cfg = (jtfne.configuration(registry).network(n=8).source(name).no_field()
               .probe(modes=["spikes", "V_m"]).build())
        signals, state = construct(cfg, registry=registry).simulate_with_state(jtfne.simulation(duration_ms=2.0))
        assert int(state["source"]["t"]) == 19 and bool(state["source"]["v_given"]) is voltage
        if voltage:          # the V handed to the last step is the V recorded one step earlier
            assert float(state["source"]["v_mean"]) == pytest.approx(float(np.mean(signals["V_m"][-2])), abs=1e-4)
    for cls in (Source, ExponentialSource):
        assert list(inspect.signature(cls.step).parameters)[:5] == ["self", "params", "state", "spikes", "inputs"]
    assert not hasattr(Source, "needs_clock")


def test_a_plugin_section_takes_part_in_assembly_through_its_own_methods():
    """The assembler knows no objective terms or paradigms: a section class joins the claim
    chain with requires()/label, reports what the stages cannot deliver with problems(), and
    names the registered things it uses with uses() (they enter the receipt's provenance)."""
    from jaxfne_core.assemble import assemble
    from jaxfne_core.claims import Amplitude
    from jaxfne_core.errors import IncompatibleStagesError

    @attrs.frozen
    class Budget:
        """A third party's objective section."""
        needs_lfp: bool = True

        label = "objective 'budget'"

        def requires(self):
            return {"amplitude": (Amplitude.MICROVOLT,)}

        def problems(self, stages, registry):
            return [] if "LFP" in stages["probe"].modes else [f"{self.label} needs LFP from {stages['probe'].label}"]

        def uses(self):
            return [("field", "point_source")]

    class Plugin:
        @jtfne.hookimpl
        def jaxfne_register_sections(self, registry):
            registry.add(Budget, name="objective")

    registry = load_registry(make_plugin_manager(block=["objectives"], plugins=[("budget", Plugin())]))
    with pytest.raises(IncompatibleStagesError) as e:
        assemble(config_from_dict({"network": {"n": 8}, "probe": {"kind": "laminar", "modes": ["spikes"]},
                                   "objective": {}}, registry), registry)
    text = str(e.value)
    assert "objective 'budget'" in text and "needs LFP from probe 'laminar'" in text and "uV" in text
    cfg = config_from_dict({"network": {"n": 8}, "field": {"kind": "point_source"}, "objective": {},
                            "source": {"kind": "exponential", "calibration_nA_per_native": 0.1,
                                       "calibration_provenance": "assumed"}}, registry)
    provenance = assemble(cfg, registry).provenance
    assert [(p["stage"], p["name"]) for p in provenance][-1] == ("field", "point_source")
