"""``jaxfne plugins``: the registered stages, and with ``--options [STAGE [NAME]]`` every option
of each (type, default, units, allowed values, description; ``docs/options.md`` is its
``--markdown`` output)."""
from __future__ import annotations

import json
import sys

from jaxfne_core.errors import ConfigError
from jaxfne_core.plugins import default_registry
from jaxfne_core.stages import Command

from .options_doc import config_sections, options_markdown, options_table, options_text


class PluginsCommand(Command):
    name = "plugins"
    help = "list registered stages (--options: every option of each)"

    def add_arguments(self, pl):
        pl.add_argument("--json", action="store_true")
        pl.add_argument("--options", nargs="*", metavar="STAGE [NAME]",
                        help="every option of every stage (or of one stage kind, or one stage): type, default, "
                             "units, allowed values, description")
        pl.add_argument("--markdown", action="store_true", help="with --options: a Markdown page")
        pl.add_argument("--distribution", help="with --options: only stages of this distribution")

    def run(self, args) -> int:
        registry = default_registry()
        if args.options is not None:
            return print_options(args, registry)
        entries = [e.to_json() for e in registry]
        if args.json:
            print(json.dumps(entries, indent=2))
        else:
            for e in entries:
                print(f"{e['stage']:<10} {e['name']:<24} {e['distribution']:<12} {e['summary']}")
        for f in registry.failures:                 # also warned about; said here as the listing's end
            print(f"not loaded: {f}", file=sys.stderr)
        return 0


def print_options(args, registry) -> int:
    """``jaxfne plugins --options [STAGE [NAME]]``: each option of each registered stage."""
    stage, name = (list(args.options) + [None, None])[:2]
    if stage is not None and stage not in registry.kinds:
        raise ConfigError([("--options", f"unknown stage kind {stage!r}; allowed: {', '.join(registry.kinds)}")])
    if name is not None:
        registry.get(stage, name)                     # an unknown name lists the registered ones
    kind = registry.kinds.get(stage)
    if kind is not None and not (kind.options or kind.section):
        raise ConfigError([("--options", f"{stage} entries have no options; allowed: a kind with options "
                            f"({', '.join(k for k, v in registry.kinds.items() if v.options or v.section)}); "
                            f"`jaxfne plugins` lists the {stage} entries")])
    table = options_table(registry, stage, name, args.distribution)
    if args.json:
        print(json.dumps(table, indent=2, default=str))
    elif args.markdown:
        print(options_markdown(table, config_sections(registry) if stage is None else (), registry.kinds), end="")
    else:
        print(options_text(table))
    return 0
