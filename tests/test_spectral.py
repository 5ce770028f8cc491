"""Spectra against sinusoids and white noise; FLIP on synthetic maps with known answers."""
import numpy as np
import pytest

from jaxfne_analysis.spectral import (band_profile, flip, laminar_spectrum, multitaper_psd, relative_power,
                                  vflip, welch_psd)

DT = 1.0   # ms -> 1 kHz


@pytest.mark.parametrize("method", [welch_psd, multitaper_psd])
def test_sinusoid_peak_and_power(method):
    t = np.arange(4000) * DT / 1000.0
    amp, f0 = 2.0, 40.0
    f, p = method(amp * np.sin(2 * np.pi * f0 * t), DT)
    assert f[np.argmax(p)] == pytest.approx(f0, abs=f[1])
    power = np.trapezoid(p, f) if hasattr(np, "trapezoid") else np.trapz(p, f)
    assert power == pytest.approx(amp**2 / 2, rel=0.05)          # variance of a sinusoid


@pytest.mark.parametrize("method", [welch_psd, multitaper_psd])
def test_white_noise_is_flat_at_its_variance_over_nyquist(method):
    rng = np.random.default_rng(0)
    sigma = 3.0
    x = sigma * rng.normal(size=(40, 2000))
    f, p = method(x, DT)
    level = sigma**2 / 500.0                                      # variance / (fs / 2), one-sided
    inner = p.mean(axis=0)[(f > 20) & (f < 480)]
    assert inner.mean() == pytest.approx(level, rel=0.03)
    assert inner.std() / inner.mean() < 0.15


def synthetic_map(n_ch=15, noise=0.0, seed=0):
    """Gamma falls and alpha-beta rises linearly with depth, mirror images with equal maxima,
    so their relative profiles cross at the middle channel, (n_ch - 1) / 2."""
    f = np.arange(0, 200.0, 1.0)
    ch = np.arange(n_ch, dtype=float)
    gamma = 1.0 - 0.05 * ch
    ab = 1.0 - 0.05 * (n_ch - 1 - ch)
    power = np.ones((n_ch, f.size))
    power[:, (f >= 10) & (f <= 19)] = ab[:, None]
    power[:, (f >= 75) & (f <= 150)] = gamma[:, None]
    power += noise * np.random.default_rng(seed).random(power.shape)
    return f, relative_power(power)


def test_flip_finds_a_known_crossover_exactly():
    f, rel = synthetic_map(15)
    r = flip(rel, f)
    assert r.found and r.crossover_channel == pytest.approx(7.0, abs=1e-9)
    assert r.gamma_peak_channel == r.window[0] and r.alpha_beta_peak_channel == r.window[1]
    assert r.gamma_slope < 0 < r.alpha_beta_slope
    assert r.window == (0, 14)                                    # the whole probe fits best
    assert r.goodness == pytest.approx(1.0 * 1.0 * (0.04 * 15 + 0.72))
    v = vflip(rel, f)           # band edges searched: at least as good, crossover nearby
    assert v.found and v.goodness >= r.goodness - 1e-12 and abs(v.crossover_channel - 7.0) < 2.0


def test_flip_rejects_maps_without_a_motif():
    f = np.arange(0, 200.0)
    flat = relative_power(1 + 0.01 * np.random.default_rng(1).random((16, f.size)))
    assert not flip(flat, f).found
    same = np.ones((16, f.size))
    same[:, (f >= 10) & (f <= 150)] = np.linspace(1, 2, 16)[:, None]   # both bands rise together
    r = flip(relative_power(same), f)
    assert not r.found and "opposite" in r.reason


def test_band_profile_and_laminar_spectrum_shapes():
    f, rel = synthetic_map()
    assert band_profile(rel, f, (75, 150)).shape == (15,)
    lfp = np.random.default_rng(0).normal(size=(3, 1000, 8))
    f2, p2 = laminar_spectrum(lfp, 1.0)
    assert p2.shape == (8, f2.size)
    with pytest.raises(ValueError, match="holds no frequency"):
        band_profile(rel, f, (500, 600))


def test_band_power_metric_matches_numpy_and_tunes_refuse_numpy_metrics():
    import jax.numpy as jnp

    import jaxfne as jtfne
    from jaxfne_objectives.reductions import band_power
    t = np.arange(1000) * 1.0 / 1000.0
    x = np.stack([np.sin(2 * np.pi * 100 * t), 0.5 * np.sin(2 * np.pi * 15 * t)], axis=1)   # (T, 2)
    fn = band_power((75.0, 150.0))
    value = float(fn(jnp.asarray(x, jnp.float32), 1.0))
    w = np.hanning(1000)
    psd = 2 * np.abs(np.fft.rfft((x - x.mean(0)) * w[:, None], axis=0)) ** 2 / (1000 * np.sum(w**2))
    f = np.fft.rfftfreq(1000, 1e-3)
    sel = (f >= 75) & (f <= 150)
    assert value == pytest.approx(psd[sel].mean(axis=0).mean(), rel=1e-4)
    model = jtfne.construct(jtfne.configuration().network(n=20).probe(modes=["spikes", "LFP"]))
    obj = jtfne.objective().loss("x", 500.0, metric="flip_crossover_depth_um")
    with pytest.raises(jtfne.ConfigError, match="outside JAX"):
        model.tune(obj, steps=1)
    sig = model.simulate(jtfne.simulation(200.0))
    r = model.compute_readout(sig, [jtfne.readout_spec("g", "flip_goodness"),
                                    jtfne.readout_spec("gamma", "lfp_gamma_power")])
    assert r["g"].value >= 0 and r["gamma"].value > 0
