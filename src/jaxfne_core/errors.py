"""Every error jaxfne raises on purpose. Each names the field, the value and what is allowed."""
from __future__ import annotations


class JaxfneError(Exception):
    """Base class of all jaxfne errors."""


class ConfigError(JaxfneError, ValueError):
    """A configuration value is invalid.

    ``problems`` is a list of ``(json_path, message)``; ``str()`` lists them all, one a line,
    e.g. ``$.emitter.preset: 'cortical' is not allowed; allowed: 'cortical_eig', 'RS', ...``.
    """

    def __init__(self, problems):
        if isinstance(problems, str):
            problems = [("$", problems)]
        self.problems = [(str(p), str(m)) for p, m in problems]
        super().__init__("\n".join(f"{p}: {m}" for p, m in self.problems))


class UsageError(JaxfneError, TypeError, ValueError):
    """The Python API was called with the wrong kind of argument; the message says what it takes."""


class PluginError(JaxfneError, TypeError, RuntimeError):
    """A plugin registered something that is not a valid stage, or could not be loaded; the
    message names the plugin (and its distribution) and how to block it."""


class PluginWarning(UserWarning):
    """An installed plugin was left out (broken), or a block name matched nothing."""


class UnknownNameError(JaxfneError, KeyError):
    """A name (condition, event, ...) that does not exist; the message lists the allowed ones."""

    def __str__(self):
        return self.args[0]


class UnknownStageError(JaxfneError, KeyError):
    """A stage name is not registered; the message lists the registered names of that stage."""

    def __init__(self, stage: str, name: str, available, failures=()):
        self.stage, self.name, self.available = stage, name, sorted(available)
        listed = ", ".join(repr(a) for a in self.available) or "(none registered)"
        note = "".join(f"; {f}" if isinstance(f, str) else f"; it may come from a plugin that failed to load: {f}"
                       for f in failures)
        super().__init__(f"unknown {stage} {name!r}; available {stage}s: {listed}{note}")

    def __str__(self):  # KeyError would quote the message
        return self.args[0]


class DuplicateStageError(JaxfneError):
    """Two plugins registered the same stage name."""


class IncompatibleStagesError(JaxfneError):
    """The assembled chain has edges whose claims or ports do not fit.

    ``problems`` is a list of :class:`jaxfne_core.claims.Incompatibility`.
    """

    def __init__(self, problems):
        self.problems = list(problems)
        lines = [f"{len(self.problems)} incompatible stage edge(s):"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class MissingExtraError(JaxfneError, ImportError):
    """An optional dependency is missing; the message names the pip extra that installs it."""


class NotYetAvailableError(JaxfneError, NotImplementedError):
    """A registered feature whose implementation is scheduled but not built yet."""


class SimulationDivergedError(JaxfneError, FloatingPointError):
    """A simulated quantity became NaN or infinite; the message says where and when."""


class InsufficientMemoryError(JaxfneError, MemoryError):
    """A run would need more memory than is available; the message says how much."""


class MissingSignalError(JaxfneError, KeyError):
    """A readout asked for a signal the probe did not record."""

    def __str__(self):
        return self.args[0]


class OutputExistsError(JaxfneError, FileExistsError):
    """Refused to overwrite an existing output (pass overwrite=True to allow)."""


class UnsafeOutputError(JaxfneError, ValueError):
    """An output path that jaxfne refuses to write or replace (the current folder, a symbolic
    link, a folder jaxfne did not write, ...). ``flag`` names the option, ``value`` its value."""

    def __init__(self, flag: str, value, reason: str):
        self.flag, self.value, self.reason = flag, str(value), reason
        super().__init__(f"{flag} {self.value!r}: {reason}")
