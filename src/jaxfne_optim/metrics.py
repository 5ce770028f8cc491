"""Built-in objective metrics (spike rate, counts, mean V_m, abs-means of sources/CSD/LFP).

The ``*_mean``/``*_proxy_*`` names are the reference package's objective names, kept as aliases.
"""
from jaxfne_core.metrics import Metric, abs_mean, count, mean, rate_hz

BUILTIN_METRICS = (
    Metric("spike_rate_hz", "spikes", "Hz", rate_hz, "mean firing rate over cells and window (Hz)"),
    Metric("spike_count", "spikes", "1", count, "total spike count in the window"),
    Metric("mean_V_m", "V_m", "mV", mean, "mean membrane potential (mV)"),
    Metric("source_abs_mean", "sources", "signal", abs_mean, "mean |transmembrane current|"),
    Metric("csd_abs_mean", "CSD", "signal", abs_mean, "mean |CSD| over contacts and window"),
    Metric("lfp_abs_mean", "LFP", "signal", abs_mean, "mean |LFP| over contacts and window"),
)
ALIASES = {"spike_rate_hz_mean": "spike_rate_hz", "spike_count_total": "spike_count",
           "source_proxy_abs_mean": "source_abs_mean", "csd_proxy_abs_mean": "csd_abs_mean",
           "lfp_proxy_abs_mean": "lfp_abs_mean"}


def all_metrics():
    by_name = {m.name: m for m in BUILTIN_METRICS}
    out = list(BUILTIN_METRICS)
    for alias, target in ALIASES.items():
        m = by_name[target]
        out.append(Metric(alias, m.mode, m.units, m.fn, f"alias of {target} (reference name)"))
    return out
