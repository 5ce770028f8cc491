"""Dask execution for jaxfne (``pip install jaxfne[dask]``): trial batches, parameter sweeps
and optimizer populations on a cluster, bit-identical to the local run."""
from .dask_evaluator import (DaskEvaluator, ModelSpec, SweepResults, dask_population_evaluator,
                             run_trials_distributed, sweep, sweep_points, worker_model)

__all__ = ["DaskEvaluator", "ModelSpec", "SweepResults", "dask_population_evaluator", "run_trials_distributed",
           "sweep", "sweep_points", "worker_model"]
