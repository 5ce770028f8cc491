"""The docs cannot rot: their examples run, and every hook is documented with its signature."""
import inspect
import re

import pytest
from pathlib import Path

from jaxfne_core import hookspecs

DOCS = Path(__file__).resolve().parent.parent / "docs"


def python_blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


PLUGIN_BLOCKS = python_blocks(DOCS / "write-a-plugin.md")


@pytest.mark.parametrize("index", range(len([b for b in PLUGIN_BLOCKS if "load_registry" in b])))
def test_write_a_plugin_examples_run(index):
    block = [b for b in PLUGIN_BLOCKS if "load_registry" in b][index]
    exec(compile(block, f"write-a-plugin.md block {index}", "exec"), {"__name__": "docs_example"})


def test_there_is_a_runnable_example_for_every_hook():
    runnable = [b for b in PLUGIN_BLOCKS if "load_registry" in b]
    for name, _ in inspect.getmembers(hookspecs, inspect.isfunction):
        if name.startswith("jaxfne_"):
            assert any(f"def {name}(" in b for b in runnable), f"no runnable example for {name}"


def test_every_hook_is_documented_with_its_signature():
    text = (DOCS / "write-a-plugin.md").read_text() + (DOCS / "architecture.md").read_text()
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction):
        if name.startswith("jaxfne_"):
            sig = f"{name}({', '.join(inspect.signature(fn).parameters)})"
            assert sig in text, sig


def test_readme_python_example_runs():
    readme = Path(__file__).resolve().parent.parent / "README.md"
    (block,) = python_blocks(readme)
    namespace = {"__name__": "readme_example"}
    exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["tuned"] is not namespace["model"]
    assert namespace["batch"]["spikes"].shape == (8, 1000, 64)


def test_stage_contracts_page_is_current_and_complete():
    from jaxfne_workflows.contracts_doc import contracts_markdown
    text = contracts_markdown()
    assert (DOCS / "contracts.md").read_text() == text, \
        "out of date: python -m jaxfne_workflows.contracts_doc > docs/contracts.md"
    assert "(no docstring)" not in text
    for kind in ("emitter", "source", "field", "probe", "objective", "optimizer", "paradigm", "command"):
        assert f"## {kind}: " in text


def test_network_guide_example_runs():
    (block,) = python_blocks(DOCS / "network.md")
    exec(compile(block, "network.md", "exec"), {"__name__": "network_guide"})


def test_optimizers_guide_example_runs_on_a_layered_column():
    (block,) = python_blocks(DOCS / "optimizers.md")
    namespace = {"__name__": "optimizers_example"}
    exec(compile(block, "optimizers.md", "exec"), namespace)
    import jaxfne as jtfne
    cfg = (jtfne.configuration().network(n=40, layers=[
        {"name": "L23", "top_um": 100, "bottom_um": 700, "populations": {"E": 16, "PV": 4}},
        {"name": "L4", "top_um": 700, "bottom_um": 1100, "populations": {"E": 16, "PV": 4}}])
        .field("point_source").probe(modes=["spikes", "CSD"], n_contacts=8))
    model = jtfne.construct(cfg)
    report = model.evaluate(model.simulate(jtfne.simulation(100.0, 0.1, 0)), namespace["obj"])
    assert set(report.values) == {"l4", "sink"}
