"""The docs cannot rot: their examples run, and every hook is documented with its signature."""
import inspect
import re
from pathlib import Path

from jaxfne_core import hookspecs

DOCS = Path(__file__).resolve().parent.parent / "docs"


def python_blocks(path):
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


def test_write_a_plugin_example_runs():
    blocks = python_blocks(DOCS / "write-a-plugin.md")
    exec(compile(blocks[0], "write-a-plugin.md", "exec"), {"__name__": "docs_example"})


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
