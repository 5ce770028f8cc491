"""jaxfne core, the plugin host: hook specs, registry, stage contracts, claims, configuration,
assembly, simulation engine, receipts. Imports no other jaxfne package (scoring, tuning and
trials are model methods their packages register)."""
from .plugins import hookimpl  # noqa: I001  (first: plugins import it from here)
from .assemble import Pipeline, assemble
from .claims import Amplitude, ChargeConservation, FieldSolver, SourceCalibration, truth_labels
from .config import (Configuration, Simulation, StageConfig, config_from_dict, config_to_dict, load_config,
                     save_config)
from .errors import (ConfigError, DuplicateStageError, IncompatibleStagesError, JaxfneError,
                     MissingExtraError, MissingSignalError, NotYetAvailableError, OutputExistsError,
                     SimulationDivergedError, UnknownStageError)
from .memory import InsufficientMemoryError
from .model import Model, construct, simulation
from .plugins import default_registry, load_registry, make_plugin_manager
from .ports import Port
from .receipts import RunReceipt, save_receipt
from .registry import Registry
from .signals import Signals
from .stages import (Circuit, Command, Emitter, Field, MembraneSource, Pathway, Probe,
                     ProjectingSource, Source, StepInputs)
from .version import PLUGIN_API_VERSION, __version__

__all__ = [
    "hookimpl", "Pipeline", "assemble", "Amplitude",
    "ChargeConservation", "FieldSolver", "SourceCalibration", "truth_labels", "Configuration",
    "Simulation", "StageConfig",
    "config_from_dict", "config_to_dict", "load_config", "save_config", "ConfigError",
    "DuplicateStageError", "IncompatibleStagesError", "JaxfneError", "MissingExtraError",
    "MissingSignalError", "NotYetAvailableError", "OutputExistsError", "SimulationDivergedError",
    "UnknownStageError", "InsufficientMemoryError", "Model", "construct", "simulation",
    "default_registry", "load_registry", "make_plugin_manager",
    "Port", "RunReceipt",
    "save_receipt", "Registry", "Signals", "Circuit", "Pathway", "Emitter", "Field", "Probe",
    "Source", "MembraneSource", "ProjectingSource", "StepInputs", "Command",
    "PLUGIN_API_VERSION", "__version__",
]
