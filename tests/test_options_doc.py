"""Every option of every stage is documented from the code: ``jaxfne plugins --options`` and
docs/options.md (generated from the same source, checked here to be current)."""
from pathlib import Path

import attrs

import jaxfne as jtfne
from jaxfne_core.cli import main
from jaxfne_workflows.options_doc import config_sections, options_markdown, options_table

DOC = Path(__file__).resolve().parent.parent / "docs" / "options.md"
REGENERATE = "jaxfne plugins --options --markdown --distribution jaxfne > docs/options.md"


def test_docs_page_is_current():
    table = options_table(jtfne.default_registry(), distribution="jaxfne")
    assert DOC.read_text() == options_markdown(table, config_sections(jtfne.default_registry()), jtfne.default_registry().kinds), f"out of date: run {REGENERATE}"


def test_options_lists_every_option_of_every_builtin_stage(capsys):
    assert main(["plugins", "--options"]) == 0
    text = capsys.readouterr().out
    checked = 0
    for e in jtfne.default_registry():
        if e.stage in ("objective", "command", "method") or e.distribution != "jaxfne":
            continue
        assert f"{e.stage} {e.name} (jaxfne)" in text
        for f in attrs.fields(e.value if e.stage == "section" else e.value.Options):
            assert f"  {f.name}: " in text, (e.name, f.name)
            checked += 1
    assert checked > 80
    rows = {(s["name"], o["name"]): o for s in options_table(jtfne.default_registry(), distribution="jaxfne")
            for o in s["options"]}
    assert all(o["description"] for o in rows.values()), [k for k, o in rows.items() if not o["description"]]
    assert rows[("line_source", "sigma_S_per_m")]["units"] == "S/m"
    assert rows[("laminar", "tilt_deg")]["allowed"] == "[-89.0, 89.0]"
    assert rows[("laminar", "modes")]["default"] == ["spikes", "V_m", "LFP", "CSD"]


def test_options_of_one_stage_and_unknown_names(capsys):
    assert main(["plugins", "--options", "probe", "laminar"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("probe laminar (jaxfne)") and "field" not in out.split("\n")[0]
    assert main(["plugins", "--options", "probe", "nope"]) == 1
    assert "available probes: 'laminar', 'multi_shank'" in capsys.readouterr().err
    assert main(["plugins", "--options", "probes"]) == 1
    capsys.readouterr()
    assert main(["plugins", "--options", "method"]) == 1          # a kind without options says so
    assert "method entries have no options" in capsys.readouterr().err
