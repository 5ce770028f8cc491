"""Package version and plugin API version."""
from importlib import metadata

try:
    __version__ = metadata.version("jaxfne")
except metadata.PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

#: Bumped when a hook spec or a stage base class changes incompatibly.
PLUGIN_API_VERSION = 2     # 2: model methods replace the service hooks; Source.step takes StepInputs
