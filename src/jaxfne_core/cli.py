"""Command line: ``jaxfne run``, ``jaxfne tune``, ``jaxfne validate``, ``jaxfne plugins``."""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import warnings
from pathlib import Path

import attrs

from .errors import (ConfigError, IncompatibleStagesError, InsufficientMemoryError, JaxfneError, MissingExtraError,
                     OutputExistsError, SimulationDivergedError, UnknownStageError, UnsafeOutputError)
from .io import to_json_text, write_npz_atomic
from .output_folder import add_to_output_folder, check_additions, check_output_file, check_output_folder, staged_output_folder
from .xla_tuning import use_wide_vectors


def _load(path):
    from .assemble import assemble
    from .config import load_config
    cfg = load_config(path)
    return cfg, assemble(cfg)


def cmd_validate(args) -> int:
    """Everything ``run`` checks before simulating: the config, the assembled claims, the built
    circuit and probe geometry, the recording interval and the task."""
    from .model import Model
    cfg, pipe = _load(args.config)
    model = Model(pipe)
    if cfg.task is not None:            # drives, conditions and trial length need the built circuit
        from .trials import prepare_task
        prepare_task(model, cfg.task, cfg.simulation)
    else:
        model.check_simulation(cfg.simulation)
    for w in model.warnings:
        print(f"warning: {w}", file=sys.stderr)
    names = " -> ".join(s.label for s in (pipe.emitter, pipe.source, pipe.field, pipe.probe) if s is not None)
    print(f"{args.config}: valid ({names})")
    return 0


def cmd_plugins(args) -> int:
    from .plugins import default_registry
    registry = default_registry()
    if args.options is not None:
        return _print_options(args, registry)
    entries = [e.to_json() for e in registry]
    if args.json:
        print(json.dumps(entries, indent=2))
    else:
        for e in entries:
            print(f"{e['stage']:<10} {e['name']:<24} {e['distribution']:<12} {e['summary']}")
    for f in registry.failures:                 # also warned about; said here as the listing's end
        print(f"not loaded: {f}", file=sys.stderr)
    return 0


def _print_options(args, registry) -> int:
    """``jaxfne plugins --options [STAGE [NAME]]``: each option of each registered stage."""
    from .config import CONFIG_SECTIONS
    from .options_doc import options_markdown, options_table, options_text
    from .registry import STAGES
    stage, name = (list(args.options) + [None, None])[:2]
    if stage is not None and stage not in STAGES:
        raise ConfigError([("--options", f"unknown stage kind {stage!r}; allowed: {', '.join(STAGES)}")])
    if name is not None:
        registry.get(stage, name)                     # an unknown name lists the registered ones
    table = options_table(registry, stage, name, args.distribution)
    if args.json:
        print(json.dumps(table, indent=2, default=str))
    elif args.markdown:
        print(options_markdown(table, CONFIG_SECTIONS if stage is None else ()), end="")
    else:
        print(options_text(table))
    return 0


def cmd_run(args) -> int:
    from .figures import run_figures
    from .formats import signals_payload, write_nwb
    from .model import Model
    out = check_output_folder(args.out, overwrite=args.overwrite)
    cfg, pipe = _load(args.config)
    sim = cfg.simulation
    if args.seed is not None or args.duration_ms is not None:
        try:
            sim = attrs.evolve(sim, **{k: v for k, v in (("seed", args.seed), ("duration_ms", args.duration_ms))
                                       if v is not None})
        except ValueError as e:
            raise ConfigError([("--duration-ms" if args.duration_ms is not None else "--seed", str(e))]) from None
    model = Model(pipe)
    if cfg.task is not None:
        if args.duration_ms is not None:
            raise ConfigError([("--duration-ms", "a task run's trial length is task.trial_ms "
                                "(default: the paradigm's); --duration-ms applies to plain runs")])
        return _run_task(args, cfg, model, sim, out)
    signals = model.simulate(sim, progress=None if args.progress is None else args.progress)
    receipt = model.run_receipt(signals)
    for w in receipt.warnings:
        print(f"warning: {w}", file=sys.stderr)
    runaway = [w for w in receipt.warnings if w.startswith("runaway")]
    if runaway and args.fail_on_runaway:
        raise SimulationDivergedError(f"{runaway[0]} (--fail-on-runaway); nothing was written")
    with staged_output_folder(out, overwrite=args.overwrite, kind="run") as staging:
        (staging / "receipt.json").write_text(to_json_text(receipt.to_dict()), encoding="utf-8")
        write_npz_atomic(staging / "signals.npz", signals_payload(signals))
        summary = {"receipt_id": receipt.receipt_id, "config": str(args.config),
                   "n_cells": model.n_cells, "simulation": receipt.simulation,
                   "signals": receipt.signals_summary["signals"], "units": signals.units,
                   "field_diagnostics": receipt.field_diagnostics, "truth": receipt.truth,
                   "warnings": list(receipt.warnings)}
        written = ["receipt.json", "signals.npz", "summary.json"]
        if args.nwb:
            write_nwb(signals, staging / "signals.nwb", receipt)
            written.append("signals.nwb")
        if not args.no_figures:
            try:
                for name, png in run_figures(signals).items():
                    (staging / name).write_bytes(png)
                    written.append(name)
            except MissingExtraError as e:
                print(f"figures skipped: {e}", file=sys.stderr)
        summary["files"] = written
        (staging / "summary.json").write_text(to_json_text(summary), encoding="utf-8")
    rate = receipt.signals_summary["signals"].get("spikes", {}).get("mean_rate_hz")
    print(f"run {receipt.receipt_id}: {model.n_cells} cells, {sim.duration_ms} ms at dt {sim.dt_ms} ms"
          + (f", mean rate {rate:.2f} Hz" if rate is not None else ""))
    print(f"field: {receipt.truth['field_solver_status']}, LFP units: {signals.units.get('LFP', '-')}")
    print(f"wrote {out}/: " + ", ".join(written))
    return 0


def cmd_plot(args) -> int:
    """Figures of an existing run folder (from its signals.npz)."""
    from .figures import run_figures
    from .formats import load_run
    if args.out is not None:
        out = check_output_folder(args.out, overwrite=args.overwrite)
    else:
        check_additions(args.run_dir, flag="RUN_DIR")
    signals = load_run(args.run_dir)
    figures = run_figures(signals)
    if args.out is None:
        out = Path(args.run_dir)
        add_to_output_folder(out, figures, flag="RUN_DIR")
    else:
        with staged_output_folder(out, overwrite=args.overwrite, kind="plot") as staging:
            for name, png in figures.items():
                (staging / name).write_bytes(png)
    print(f"wrote {out}/: " + ", ".join(figures))
    return 0


def cmd_export(args) -> int:
    """A run folder's signals as NWB (with its receipt as provenance)."""
    from .formats import load_run, validate_nwb, write_nwb
    check_output_file(args.nwb, overwrite=args.overwrite, flag="--nwb", signature=b"\x89HDF\r\n\x1a\n",
                      kind="an NWB (HDF5) file")
    signals = load_run(args.run_dir)
    receipt = _read_receipt(Path(args.run_dir) / "receipt.json")
    write_nwb(signals, args.nwb, receipt, overwrite=args.overwrite)
    errors = validate_nwb(args.nwb)
    print(f"wrote {args.nwb} ({'valid NWB' if not errors else f'{len(errors)} schema errors'})")
    return 0 if not errors else 2


def _read_receipt(path: Path):
    """A run folder's receipt as a dict (None where there is none); a damaged one is refused."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise ConfigError([("RUN_DIR", f"{str(path)!r} is not valid JSON ({e}); allowed: the receipt.json "
                            "a jaxfne run wrote")]) from None
    if not isinstance(data, dict) or "receipt_id" not in data:
        raise ConfigError([("RUN_DIR", f"{str(path)!r} is not a jaxfne receipt (no receipt_id)")])
    return data


def _option_value(text):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def cmd_tune(args) -> int:
    from .model import Model
    from .objective import Objective
    out = check_output_folder(args.out, overwrite=args.overwrite)
    options = {}
    for item in args.option or []:
        if "=" not in item:
            print(f"--option {item!r}: expected NAME=VALUE", file=sys.stderr)
            return 1
        k, v = item.split("=", 1)
        options[k] = _option_value(v)
    bounds = {}
    for item in args.bounds or []:
        try:
            name, lo, hi = item.split(":")
            bounds[name] = (float(lo), float(hi))
        except ValueError:
            print(f"--bounds {item!r}: expected NAME:LOWER:UPPER", file=sys.stderr)
            return 1
    cfg, pipe = _load(args.config)
    if cfg.objective is None:
        raise ConfigError([("$.objective", "tuning needs an objective section in the config")])
    model = Model(pipe)
    tuned, report = model.tune(Objective.from_config(cfg.objective), args.optimizer, args.steps,
                               tunables=args.tunables, bounds=bounds or None, options=options,
                               seed=args.seed, chunk_size=args.chunk_size, progress=not args.no_progress,
                               stop_on_gates=args.stop_on_gates)
    signals = tuned.simulate(cfg.simulation, progress=False)
    receipt = tuned.run_receipt(signals)
    with staged_output_folder(out, overwrite=args.overwrite, kind="tune") as staging:
        (staging / "tune_report.json").write_text(to_json_text(report.to_dict()), encoding="utf-8")
        (staging / "receipt.json").write_text(to_json_text(receipt.to_dict()), encoding="utf-8")
        write_npz_atomic(staging / "signals.npz", {**signals.to_numpy(), "time_ms": signals.time_ms})
        written = ["tune_report.json", "receipt.json", "signals.npz"]
        try:
            from .figures import tune_history_png
            (staging / "history.png").write_bytes(tune_history_png(report))
            written.append("history.png")
        except MissingExtraError as e:
            print(f"figure skipped: {e}", file=sys.stderr)
    print(f"tuned with {report.optimizer}: loss {report.initial_loss:.6g} -> {report.best_loss:.6g} "
          f"in {report.n_evaluations} evaluations" + (" (stopped early: gates pass)" if report.stopped_early else ""))
    for name, value in report.best.items():
        print(f"  {name} = {value:.6g} (was {report.initial[name]:.6g})")
    print(f"wrote {out}/: " + ", ".join(written))
    return 0


def _run_task(args, cfg, model, sim, out) -> int:
    """Trials of the task section: per-condition outputs, spectra, FLIP, figures, receipt."""
    from .task_outputs import write_task_run
    results = model.run_trials(cfg.task, sim)
    receipt = model.trials_receipt(results, sim)
    with staged_output_folder(out, overwrite=args.overwrite, kind="task") as staging:
        written, spectral = write_task_run(staging, model, results, receipt, figures=not args.no_figures)
    n_trials = len(results.conditions) * cfg.task.trials_per_condition
    print(f"run {receipt.receipt_id}: {results.paradigm.name}, {len(results.conditions)} conditions x "
          f"{cfg.task.trials_per_condition} trials ({n_trials} in parallel chunks), {model.n_cells} cells")
    if results.failures:
        print(f"{len(results.failures)} trial(s) diverged: {results.failures[:3]}", file=sys.stderr)
    if spectral:
        f = spectral["flip"]
        print("FLIP: " + (f"crossover at channel {f['crossover_channel']:.2f}, G = {f['goodness']:.3f}"
                          if f["found"] else f"no motif ({f['reason']})"))
    print(f"wrote {out}/: " + ", ".join(written))
    return 0


def _int_arg(lo: int, hi: int | None = None):
    """argparse type: an integer in [lo, hi], refused with the range otherwise."""
    allowed = f"an integer {lo} .. {hi}" if hi is not None else f"an integer >= {lo}"

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer; allowed: {allowed}") from None
        if value < lo or (hi is not None and value > hi):
            raise argparse.ArgumentTypeError(f"{value} is out of range; allowed: {allowed}")
        return value
    return parse


_seed_arg = _int_arg(0, 2**32 - 1)
_positive_int_arg = _int_arg(1)


def _duration_arg(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; allowed: a duration in ms > 0") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is out of range; allowed: a finite duration in ms > 0")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse with exit code 1 for a bad flag (argparse's own 2 means "the run failed" here)."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(EXIT_INVALID, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="jaxfne", description="JAX source-to-field neurophysiology engine",
                                epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="simulate a .jcfg.json and write receipt, signals, summary, figures")
    r.add_argument("config")
    r.add_argument("--out", required=True, help="output directory (written atomically)")
    r.add_argument("--overwrite", action="store_true",
                   help="replace --out if it is a folder jaxfne wrote (never anything else)")
    r.add_argument("--seed", type=_seed_arg, help="override the simulation seed (integer 0 .. 2**32 - 1)")
    r.add_argument("--duration-ms", type=_duration_arg, help="override the simulated duration (ms, > 0)")
    r.add_argument("--no-figures", action="store_true")
    r.add_argument("--wide-vectors", action="store_true",
                   help="let XLA use 512-bit vectors on AVX-512 CPUs (~10%% faster; results may differ from "
                        "a run without it in the last bits; the receipt records XLA_FLAGS)")
    r.add_argument("--fail-on-runaway", action="store_true",
                   help="exit 2, writing nothing, when the mean rate exceeds the runaway bound (500 Hz)")
    r.add_argument("--nwb", action="store_true", help="also write signals.nwb (needs jaxfne[nwb])")
    r.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar (default: on for long runs in a terminal)")
    r.set_defaults(func=cmd_run)
    t = sub.add_parser("tune", help="tune a .jcfg.json's tunables against its objective section")
    t.add_argument("config")
    t.add_argument("--out", required=True, help="output directory (written atomically)")
    t.add_argument("--optimizer", default="gsdr", help="registered optimizer (jaxfne plugins)")
    t.add_argument("--steps", type=_positive_int_arg, default=20)
    t.add_argument("--tunables", nargs="+", help="names (default: all; see Model.tunables())")
    t.add_argument("--bounds", nargs="+", help="NAME:LOWER:UPPER overrides")
    t.add_argument("--option", nargs="+", help="optimizer option NAME=VALUE (JSON values)")
    t.add_argument("--seed", type=_seed_arg, default=0, help="optimizer seed")
    t.add_argument("--chunk-size", type=_positive_int_arg, help="candidates per vmapped chunk")
    t.add_argument("--stop-on-gates", action="store_true", help="stop once every gate passes")
    t.add_argument("--overwrite", action="store_true")
    t.add_argument("--no-progress", action="store_true")
    t.set_defaults(func=cmd_tune)
    v = sub.add_parser("validate", help="check a .jcfg.json; exit 1 with path-bearing errors")
    v.add_argument("config")
    v.set_defaults(func=cmd_validate)
    pl = sub.add_parser("plugins", help="list registered stages")
    pl.add_argument("--json", action="store_true")
    pl.add_argument("--options", nargs="*", metavar="STAGE [NAME]",
                    help="every option of every stage (or of one stage kind, or one stage): type, default, "
                         "units, allowed values, description")
    pl.add_argument("--markdown", action="store_true", help="with --options: a Markdown page")
    pl.add_argument("--distribution", help="with --options: only stages of this distribution")
    pl.set_defaults(func=cmd_plugins)
    f = sub.add_parser("plot", help="(re)draw the figures of a run folder")
    f.add_argument("run_dir")
    f.add_argument("--out", help="a new folder for the PNGs (default: into the run folder)")
    f.add_argument("--overwrite", action="store_true", help="replace --out if jaxfne wrote it")
    f.set_defaults(func=cmd_plot)
    e = sub.add_parser("export", help="write a run folder's signals as NWB (needs jaxfne[nwb])")
    e.add_argument("run_dir")
    e.add_argument("--nwb", required=True, help="output .nwb path")
    e.add_argument("--overwrite", action="store_true")
    e.set_defaults(func=cmd_export)
    return p


EXIT_OK, EXIT_INVALID, EXIT_FAILED, EXIT_INTERNAL = 0, 1, 2, 3
EXIT_CODES = """exit codes:
  0  done
  1  invalid input: a config, flag or output path refused (the message names it, its value
     and what is allowed), an output that exists, a missing file or optional extra
  2  the run failed: it diverged (NaN/inf; the message says where and when), it would not
     fit in memory, or another refusal raised while running
  3  internal error: a bug in jaxfne or a plugin (the traceback follows; please report it)"""


def _format_warning(message, category, filename, lineno, line=None):
    return f"jaxfne: warning: {message}\n"


def main(argv=None) -> int:
    """Run the command line; returns the exit code (see :data:`EXIT_CODES`)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:                 # --help (0) or a bad flag (1): a code, not an exit
        return e.code if isinstance(e.code, int) else EXIT_INVALID
    warnings.formatwarning = _format_warning
    # the vector-width hint changes the last bits of float reductions, so the command line
    # applies it only when asked: by default a run here is bit-identical to the same run from Python
    if getattr(args, "wide_vectors", False) or os.environ.get("JAXFNE_XLA_TUNING") == "1":
        use_wide_vectors()                  # before the first computation creates the backend
    try:
        return args.func(args)
    except (OutputExistsError, UnsafeOutputError, MissingExtraError) as e:
        print(str(e), file=sys.stderr)
        return EXIT_INVALID
    except FileNotFoundError as e:
        print(f"{e.filename}: no such file", file=sys.stderr)
        return EXIT_INVALID
    except (ConfigError, IncompatibleStagesError, UnknownStageError) as e:
        print(f"{getattr(args, 'config', '')}: invalid\n{e}", file=sys.stderr)
        return EXIT_INVALID
    except (SimulationDivergedError, InsufficientMemoryError) as e:
        print(f"{args.command} failed: {e}", file=sys.stderr)
        return EXIT_FAILED
    except JaxfneError as e:
        print(f"{args.command} failed: {e}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as e:
        where = f" {e.filename}" if getattr(e, "filename", None) else ""
        print(f"{args.command} failed:{where}: {e.strerror or e}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"{args.command}: interrupted; no output was replaced", file=sys.stderr)
        return 130
    except Exception:
        import traceback
        traceback.print_exc()
        print(f"jaxfne {args.command}: internal error (exit {EXIT_INTERNAL}); please report it with the "
              "traceback above", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
