"""The ``jaxfne run``, ``tune``, ``plot`` and ``export`` commands, registered as plugins.

Each is a :class:`jaxfne_core.stages.Command`; the command line in :mod:`jaxfne_core.cli`
builds its parser from the registered commands and maps refusals to exit codes.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

import attrs

from jaxfne_analysis.figures import run_figures, tune_history_png
from jaxfne_analysis.motif import event_times_ms, run_motif_report
from jaxfne_core.assemble import assemble
from jaxfne_core.config import load_config
from jaxfne_core.errors import ConfigError, MissingExtraError, SimulationDivergedError, UsageError
from jaxfne_core.io import to_json_text, write_npz_atomic
from jaxfne_core.model import Model
from jaxfne_objectives.objective import Objective
from jaxfne_core.stages import Command
from jaxfne_formats import load_run, signals_payload, validate_nwb, write_nwb
from jaxfne_formats.circuit_io import circuit_arrays, load_circuit
from jaxfne_tasks.trials import trials_receipt

from .output_folder import (add_to_output_folder, check_additions, check_output_file, check_output_folder,
                            staged_output_folder)
from .xla_tuning import use_wide_vectors


def _run(args) -> int:
    out = check_output_folder(args.out, overwrite=args.overwrite)
    cfg, pipe = load_pipeline(args.config)
    sim = cfg.simulation
    if args.seed is not None or args.duration_ms is not None:
        try:
            sim = attrs.evolve(sim, **{k: v for k, v in (("seed", args.seed), ("duration_ms", args.duration_ms))
                                       if v is not None})
        except ValueError as e:
            raise ConfigError([("--duration-ms" if args.duration_ms is not None else "--seed", str(e))]) from None
    model = Model(pipe, _saved_network(args.network, cfg) if args.network else None)
    if cfg.task is not None:
        if args.duration_ms is not None:
            raise ConfigError([("--duration-ms", "a task run's trial length is task.trial_ms "
                                "(default: the paradigm's); --duration-ms applies to plain runs")])
        return _run_task(args, cfg, model, sim, out)
    signals, state = model.simulate_with_state(sim, progress=None if args.progress is None else args.progress)
    receipt = model.run_receipt(signals)
    for w in receipt.warnings:
        print(f"warning: {w}", file=sys.stderr)
    runaway = [w for w in receipt.warnings if w.startswith("runaway")]
    if runaway and args.fail_on_runaway:
        raise SimulationDivergedError(f"{runaway[0]} (--fail-on-runaway); nothing was written")
    report = model.evaluate(signals) if cfg.objective is not None else None    # the config's objective
    with staged_output_folder(out, overwrite=args.overwrite, kind="run") as staging:
        (staging / "receipt.json").write_text(to_json_text(receipt.to_dict()), encoding="utf-8")
        write_npz_atomic(staging / "signals.npz", signals_payload(signals, raster=args.raster))
        summary = {"receipt_id": receipt.receipt_id, "config": str(args.config),
                   "n_cells": model.n_cells, "simulation": receipt.simulation,
                   "signals": receipt.signals_summary["signals"], "units": signals.units,
                   "field_diagnostics": receipt.field_diagnostics, "truth": receipt.truth,
                   "warnings": list(receipt.warnings)}
        written = ["receipt.json", "signals.npz", "summary.json"] + _write_network(staging, model)
        if model.pipeline.source.records_weights:
            written += _write_network(staging, model.with_weights(model.final_weights(state, sim.dt_ms)),
                                      "network_learned.npz")
            if model.weight_synapses is not None:
                summary["weights_synapses"] = model.weight_synapses.tolist()
        if report is not None:
            (staging / "objective.json").write_text(to_json_text(report.to_dict()), encoding="utf-8")
            written.append("objective.json")
            summary["objective"] = {"name": report.objective, "total_loss": report.to_dict()["total_loss"],
                                    "all_gates_pass": report.all_gates_pass}
        if args.nwb:
            write_nwb(signals, staging / "signals.nwb", receipt)
            written.append("signals.nwb")
        events = event_times_ms(getattr(getattr(model.pipeline.source, "options", None), "inputs", None))
        motif = run_motif_report(signals, events) if "LFP" in signals else None
        if motif is not None:
            summary["motif"] = motif.summary()
        if not args.no_figures:
            try:
                for name, png in run_figures(signals, events, motif).items():
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
    if report is not None:
        print(f"objective {report.objective!r}: total loss {report.total_loss:.6g}, gates "
              + ("pass" if report.all_gates_pass else "fail"))
    print(f"wrote {out}/: " + ", ".join(written))
    return 0




def _plot(args) -> int:
    """Figures of an existing run folder (from its signals.npz)."""
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




def _export(args) -> int:
    """A run folder's signals as NWB (with its receipt as provenance)."""
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




def _tune(args) -> int:
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
    cfg, pipe = load_pipeline(args.config)
    if cfg.objective is None:
        raise ConfigError([("$.objective", "tuning needs an objective section in the config")])
    model = Model(pipe)
    steps = args.steps if args.steps is not None else (20 if args.max_evaluations is None else None)
    tuned, report = model.tune(Objective.from_config(cfg.objective), args.optimizer, steps,
                               tunables=args.tunables, bounds=bounds or None, options=options,
                               seed=args.seed, chunk_size=args.chunk_size, progress=not args.no_progress,
                               stop_on_gates=args.stop_on_gates, max_evaluations=args.max_evaluations)
    signals = tuned.simulate(cfg.simulation, progress=False)
    receipt = tuned.run_receipt(signals)
    with staged_output_folder(out, overwrite=args.overwrite, kind="tune") as staging:
        (staging / "tune_report.json").write_text(to_json_text(report.to_dict()), encoding="utf-8")
        (staging / "receipt.json").write_text(to_json_text(receipt.to_dict()), encoding="utf-8")
        write_npz_atomic(staging / "signals.npz", {**signals.to_numpy(), "time_ms": signals.time_ms})
        written = ["tune_report.json", "receipt.json", "signals.npz"]
        try:
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




def _saved_network(path, cfg):
    """The circuit saved at ``path`` (--network), checked against the configuration's size."""
    circuit = load_circuit(path)
    if circuit.n_cells != cfg.network.n:
        raise ConfigError([("--network", f"{str(path)!r} holds {circuit.n_cells} cells but network.n is "
                            f"{cfg.network.n}; allowed: the network of a run of this configuration")])
    return circuit


def _write_network(staging, model, name: str = "network.npz") -> list:
    """network.npz (the exact network, for --network) where the circuit can be saved; with
    plasticity also network_learned.npz, the same network with the weights at the end of the
    run (--network it to continue from them)."""
    try:
        arrays = circuit_arrays(model.circuit)
    except UsageError as e:
        print(f"{name} skipped: {e}", file=sys.stderr)
        return []
    write_npz_atomic(staging / name, arrays)
    return [name]


def _run_task(args, cfg, model, sim, out) -> int:
    """Trials of the task section: per-condition outputs, spectra, FLIP, figures, receipt."""
    paradigm = model.paradigm(cfg.task)
    if not paradigm.writes_outputs:                       # refuse before running any trial
        paradigm.write_outputs(None, model, None, None)
    results = model.run_trials(cfg.task, sim)
    receipt = trials_receipt(model, results, sim)
    with staged_output_folder(out, overwrite=args.overwrite, kind="task") as staging:
        written, spectral = model.paradigm(cfg.task).write_outputs(staging, model, results, receipt,
                                                                    figures=not args.no_figures)
        written = list(written) + _write_network(staging, model)
    n_trials = len(results.conditions) * cfg.task.trials_per_condition
    print(f"run {receipt.receipt_id}: {results.paradigm.name}, {len(results.conditions)} conditions x "
          f"{cfg.task.trials_per_condition} trials ({n_trials} in parallel chunks), {model.n_cells} cells")
    if results.failures:
        print(f"{len(results.failures)} trial(s) diverged: {results.failures[:3]}", file=sys.stderr)
    if spectral:
        f = spectral["flip"]
        cross = f["crossover_channel"]
        print("FLIP: " + ((f"{'upright' if f['upright'] else 'inverted'} motif, G = {f['goodness']:.3f}, "
                           + (f"crossover at channel {cross:.0f}" if cross is not None else "no crossover"))
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


def load_pipeline(path):
    """(Configuration, assembled Pipeline) of a .jcfg.json file."""
    cfg = load_config(path)
    return cfg, assemble(cfg)


class ValidateCommand(Command):
    name = "validate"
    help = "check a .jcfg.json as run would; exit 1 with path-bearing errors"

    def add_arguments(self, v):
        v.add_argument("config")

    def run(self, args) -> int:
        """Everything ``run`` checks before simulating: the config, the assembled claims, the
        built circuit and probe geometry, the recording interval and the task."""
        cfg, pipe = load_pipeline(args.config)
        model = Model(pipe)
        if cfg.task is not None:            # drives, conditions and trial length need the built circuit
            model.check_task(cfg.task, cfg.simulation)
        else:
            model.check_simulation(cfg.simulation)
        for w in model.warnings:
            print(f"warning: {w}", file=sys.stderr)
        names = " -> ".join(s.label for s in (pipe.emitter, pipe.source, pipe.field, pipe.probe) if s is not None)
        print(f"{args.config}: valid ({names})")
        return 0


class RunCommand(Command):
    name = "run"
    help = "simulate a .jcfg.json and write receipt, signals, summary, figures"

    def add_arguments(self, r):
        r.add_argument("config")
        r.add_argument("--out", required=True, help="output directory (written atomically)")
        r.add_argument("--overwrite", action="store_true",
                       help="replace --out if it is a folder jaxfne wrote (never anything else)")
        r.add_argument("--seed", type=_seed_arg, help="override the simulation seed (integer 0 .. 2**32 - 1)")
        r.add_argument("--duration-ms", type=_duration_arg, help="override the simulated duration (ms, > 0)")
        r.add_argument("--no-figures", action="store_true")
        r.add_argument("--raster", action="store_true",
                       help="also store the dense (T, N) spike raster in signals.npz (default: spike times only)")
        r.add_argument("--network", help="simulate the network saved in this network.npz (or run folder) "
                                         "instead of drawing it from the configuration")
        r.add_argument("--wide-vectors", action="store_true",
                       help="let XLA use 512-bit vectors on AVX-512 CPUs (~10%% faster; results may differ "
                            "from a run without it in the last bits; the receipt records XLA_FLAGS)")
        r.add_argument("--fail-on-runaway", action="store_true",
                       help="exit 2, writing nothing, when the mean rate exceeds the runaway bound (500 Hz)")
        r.add_argument("--nwb", action="store_true", help="also write signals.nwb (needs jaxfne[nwb])")
        r.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                       help="progress bar (default: on for long runs in a terminal)")

    def run(self, args) -> int:
        # the vector-width hint changes the last bits of float reductions, so it applies only
        # when asked: by default a run here is bit-identical to the same run from Python
        if args.wide_vectors or os.environ.get("JAXFNE_XLA_TUNING") == "1":
            use_wide_vectors()              # before the first computation creates the backend
        return _run(args)


class TuneCommand(Command):
    name = "tune"
    help = "tune a .jcfg.json's tunables against its objective section"

    def add_arguments(self, t):
        t.add_argument("config")
        t.add_argument("--out", required=True, help="output directory (written atomically)")
        t.add_argument("--optimizer", default="cmaes", help="registered optimizer (jaxfne plugins)")
        t.add_argument("--steps", type=_positive_int_arg, help="steps (generations) at most (default 20, or "
                       "unlimited with --max-evaluations)")
        t.add_argument("--max-evaluations", type=_positive_int_arg,
                       help="simulations at most, for every optimizer")
        t.add_argument("--tunables", nargs="+", help="names (default: all; see Model.tunables())")
        t.add_argument("--bounds", nargs="+", help="NAME:LOWER:UPPER overrides")
        t.add_argument("--option", nargs="+", help="optimizer option NAME=VALUE (JSON values)")
        t.add_argument("--seed", type=_seed_arg, default=0, help="optimizer seed")
        t.add_argument("--chunk-size", type=_positive_int_arg, help="candidates per vmapped chunk")
        t.add_argument("--stop-on-gates", action="store_true", help="stop once every gate passes")
        t.add_argument("--overwrite", action="store_true")
        t.add_argument("--no-progress", action="store_true")

    def run(self, args) -> int:
        return _tune(args)


class PlotCommand(Command):
    name = "plot"
    help = "(re)draw the figures of a run folder"

    def add_arguments(self, f):
        f.add_argument("run_dir")
        f.add_argument("--out", help="a new folder for the PNGs (default: into the run folder)")
        f.add_argument("--overwrite", action="store_true", help="replace --out if jaxfne wrote it")

    def run(self, args) -> int:
        return _plot(args)


class ExportCommand(Command):
    name = "export"
    help = "write a run folder's signals as NWB (needs jaxfne[nwb])"

    def add_arguments(self, e):
        e.add_argument("run_dir")
        e.add_argument("--nwb", required=True, help="output .nwb path")
        e.add_argument("--overwrite", action="store_true")

    def run(self, args) -> int:
        return _export(args)
