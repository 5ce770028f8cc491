"""Task paradigms for jaxfne: the visual omission task and the global-local oddball, their
stimulus schedules, trials run in parallel, and what a task run writes. Registered through
the ``jaxfne`` entry-point group like any third-party paradigm."""
from .task_config import DriveConfig, TaskConfig

__all__ = ["DriveConfig", "TaskConfig"]
