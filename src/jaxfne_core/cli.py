"""The command line's host: every command is registered (``run``, ``tune``, ``validate``,
``plugins``, ``plot``, ``export`` come from the ``jaxfne_workflows`` plugin; a third party adds
its own through the ``jaxfne_register_commands`` hook). Refusals map to the exit codes in
:data:`EXIT_CODES`."""
from __future__ import annotations

import argparse
import sys
import traceback
import warnings

from .errors import (ConfigError, IncompatibleStagesError, InsufficientMemoryError, JaxfneError, MissingExtraError,
                     OutputExistsError, SimulationDivergedError, UnknownStageError, UnsafeOutputError)
from .plugins import default_registry


class _Parser(argparse.ArgumentParser):
    """argparse with exit code 1 for a bad flag (argparse's own 2 means "the run failed" here)."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(EXIT_INVALID, f"{self.prog}: error: {message}\n")


COMMAND_ORDER = ("run", "tune", "validate", "plugins", "plot", "export")


def build_parser() -> argparse.ArgumentParser:
    """Every registered command, in COMMAND_ORDER (then by name)."""
    p = _Parser(prog="jaxfne", description="JAX source-to-field neurophysiology engine",
                epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    registry = default_registry()
    names = registry.names("command")
    for name in sorted(names, key=lambda n: (COMMAND_ORDER.index(n) if n in COMMAND_ORDER else len(COMMAND_ORDER), n)):
        command = registry.get("command", name).value()
        c = sub.add_parser(name, help=command.help)
        command.add_arguments(c)
        c.set_defaults(func=command.run)
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
    warnings.formatwarning = _format_warning
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:                 # --help (0) or a bad flag (1): a code, not an exit
        return e.code if isinstance(e.code, int) else EXIT_INVALID
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
        traceback.print_exc()
        print(f"jaxfne {args.command}: internal error (exit {EXIT_INTERNAL}); please report it with the "
              "traceback above", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
