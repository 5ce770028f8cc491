"""FLIP and vFLIP (jaxfne_analysis.flip) against a line-by-line port of the published
FLIPAnalysis.m (Mendoza-Halliday, Major et al. 2024; doi:10.5061/dryad.9w0vt4bnp): the same
goodness (signed), window, peaks and crossover on hundreds of random maps, and the
deviations named in the issue behaving as published."""
import numpy as np
import pytest
from scipy.stats import linregress

from jaxfne_analysis.flip import flip, vflip

# ---------------------------------------------------------------- the port (1-based as the original)


def m_regress(y):
    """MATLAB regress(y, [x ones]) on x = 1..n: slope b(1), R^2 stats(1), p stats(3)."""
    r = linregress(np.arange(1, y.size + 1, dtype=float), y)
    if np.all(y == y[0]):
        return r.slope, np.nan, np.nan
    return r.slope, r.rvalue**2, r.pvalue


def m_peak(band):
    locations = np.nonzero(band == band.max())[0] + 1
    return locations.max() if locations.mean() > band.size / 2 else locations.min()


def m_bands(p, s, d, alpha, gamma):
    w = p[s - 1:d]
    rel = w / w.max(axis=0)
    return rel[:, alpha - 1].mean(axis=1), rel[:, gamma - 1].mean(axis=1)


def evaluate_frequency_range(p, alpha, gamma, minrange):
    """evaluateFrequencyRange of FLIPAnalysis.m, transliterated (indices 1-based)."""
    startrow, endrow = 1, p.shape[0]
    results = [(np.nan, np.nan, np.nan)]
    for s in range(startrow, endrow - minrange + 1):
        for d in range(s + minrange, endrow + 1):
            low, high = m_bands(p, s, d, alpha, gamma)
            lb, lr2, lp = m_regress(low)
            hb, hr2, hp = m_regress(high)
            reward = 0.04 * (d - s + 1) + 0.72
            bi, gi = m_peak(low), m_peak(high)
            if bi == 1:
                beta_ok = s == startrow and low[bi - 1] > low[bi]
            elif bi == low.size:
                beta_ok = d == endrow and low[bi - 1] > low[bi - 2]
            else:
                beta_ok = low[bi - 1] > low[bi] and low[bi - 1] > low[bi - 2]
            if gi == 1:
                gamma_ok = s == startrow and high[gi - 1] > high[gi]
            elif gi == high.size:
                gamma_ok = d == endrow and high[gi - 1] > high[gi - 2]
            else:
                gamma_ok = high[gi - 1] > high[gi] and high[gi - 1] > high[gi - 2]
            if not (gamma_ok and beta_ok):
                results.append((np.nan, s, d))
                continue
            if lp < 0.05 and hp < 0.05:
                if lb > 0 and hb < 0:
                    g = hr2 * lr2 * reward
                elif lb < 0 and hb > 0:
                    g = -hr2 * lr2 * reward
                else:
                    continue
                results.append((g, s, d))
    gs = np.array([r[0] for r in results])
    if np.all(np.isnan(gs)):
        return None
    a, b = np.nanmax(gs), np.nanmin(gs)
    value = a if a >= abs(b) else b
    _, s, d = results[int(np.nonzero(gs == value)[0][0])]
    low, high = m_bands(p, s, d, alpha, gamma)
    betamax, gammamax = s + m_peak(low) - 1, s + m_peak(high) - 1
    diff, inverted = high - low, low - high
    crosses = []
    for i in range(1, low.size - 2 + 1):
        if value > 0:
            if high[i - 1] > low[i - 1] and low[i] > high[i]:
                crosses.append(i if abs(diff[i - 1]) <= abs(diff[i]) else i + 1)
            elif high[i - 1] > low[i - 1] and high[i] == low[i] and low[i + 1] > high[i + 1]:
                crosses.append(i + 1)
        elif value < 0:
            if high[i - 1] < low[i - 1] and low[i] < high[i]:
                crosses.append(i if abs(diff[i - 1]) <= abs(diff[i]) else i + 1)
            elif high[i - 1] < low[i - 1] and high[i] == low[i] and low[i + 1] < high[i + 1]:
                crosses.append(i + 1)
    if not crosses:
        crossover = np.nan
    elif len(crosses) == 1:
        crossover = crosses[0] + s - 1
    else:
        use = diff if value > 0 else inverted
        ratings = [use[:c].sum() - use[c - 1:].sum() for c in crosses]
        crossover = crosses[int(np.argmax(ratings))] + s - 1
    return value, s, d, gammamax, betamax, crossover


def minrange_of(laminaraxis):
    ind = 1
    while laminaraxis[ind - 1] < 0.7:
        ind += 1
    return ind


def port_vflip(p, minrange):
    low_freq = [1, 10, 20, 30, 40, 50, 60, 70]
    gamma_freq = [30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150]
    pooled = []
    for i in range(len(low_freq) - 1):
        for j in range(i + 1, len(low_freq)):
            for k in range(len(gamma_freq) - 1):
                if gamma_freq[k] < low_freq[j]:
                    continue
                for m in range(k + 1, len(gamma_freq)):
                    r = evaluate_frequency_range(p, np.arange(low_freq[i], low_freq[j] + 1),
                                                 np.arange(gamma_freq[k], gamma_freq[m] + 1), minrange)
                    pooled.append(r)
    values = np.array([np.nan if r is None else r[0] for r in pooled])
    if np.all(np.isnan(values)):
        return None
    return pooled[int(np.nonzero(np.abs(values) == np.nanmax(np.abs(values)))[0][0])]


# ---------------------------------------------------------------- random maps

def random_map(rng, n_ch):
    """(C, 150) power at 1..150 Hz: band profiles with random peaks (upright, inverted or
    absent), random widths, a 1/f background and multiplicative noise."""
    f = np.arange(1, 151, dtype=float)
    depth = np.arange(n_ch)
    ab = np.exp(-((depth - rng.uniform(0, n_ch)) / rng.uniform(1.5, 6)) ** 2) * rng.uniform(0, 2)
    g = np.exp(-((depth - rng.uniform(0, n_ch)) / rng.uniform(1.5, 6)) ** 2) * rng.uniform(0, 2)
    p = (1.0 / f)[None, :] * (1 + ab[:, None] * ((f >= 8) & (f <= 30))[None, :]
                              + g[:, None] * (f >= 50)[None, :])
    return p * np.exp(rng.normal(0, rng.uniform(0.01, 0.3), p.shape))


def compare(ours, port, n_ch):
    if port is None:
        assert not ours.found
        return 0
    value, s, d, gammamax, betamax, crossover = port
    assert ours.found and ours.goodness == pytest.approx(value, rel=1e-9, abs=1e-12)
    assert ours.window == (s - 1, d - 1)
    assert (ours.gamma_peak_channel, ours.alpha_beta_peak_channel) == (gammamax - 1, betamax - 1)
    if np.isnan(crossover):
        assert ours.crossover_channel is None
    else:
        assert ours.crossover_channel == crossover - 1
    return 1


def test_flip_equals_the_published_algorithm_on_random_maps():
    """320 maps of 12-24 channels at 100 um (default bands 10-19 / 75-150 Hz): every output
    equal; about half the maps hold a motif (upright or inverted), so both branches run."""
    rng = np.random.default_rng(2024)
    found = signs = 0
    freqs = np.arange(1, 151, dtype=float)
    for _ in range(320):
        n_ch = int(rng.integers(12, 25))
        p = random_map(rng, n_ch)
        minrange = minrange_of(np.arange(n_ch) * 0.1)
        port = evaluate_frequency_range(p, np.arange(10, 20), np.arange(75, 151), minrange)
        ours = flip(p, freqs, 100.0)
        found += compare(ours, port, n_ch)
        signs += bool(ours.found and ours.goodness < 0)
    assert 64 < found < 288 and signs > 6


@pytest.mark.parametrize("case", ["clear", "inverted", "flat"])
def test_flip_equals_the_published_algorithm_on_the_synthetic_cases(case):
    """The clear (gamma above alpha-beta), inverted and flat maps of 16 channels: the port and
    jaxfne's FLIP give the same window, sign, goodness and crossover (flat: neither finds one)."""
    freqs = np.arange(1, 151, dtype=float)
    depth = np.arange(16)
    ab, g = np.exp(-((depth - 11) / 3.0) ** 2) + 0.2, np.exp(-((depth - 3) / 3.0) ** 2) + 0.2
    clear = (((freqs >= 10) & (freqs <= 19)) * ab[:, None] + (freqs >= 75) * g[:, None]) + 0.5
    maps = {"clear": clear, "inverted": clear[::-1],
            "flat": 1 + 0.01 * np.random.default_rng(1).random((16, freqs.size))}
    p = maps[case]
    port = evaluate_frequency_range(p, np.arange(10, 20), np.arange(75, 151), minrange_of(depth * 0.1))
    ours = flip(p, freqs, 100.0)
    assert compare(ours, port, 16) == (case != "flat")
    if case != "flat":
        assert (ours.goodness > 0) == (case == "clear")


def test_vflip_equals_the_published_band_edge_search():
    rng = np.random.default_rng(7)
    freqs = np.arange(1, 151, dtype=float)
    hits = 0
    for _ in range(2):
        p = random_map(rng, 12)
        port = port_vflip(p, minrange_of(np.arange(12) * 0.1))
        hits += compare(vflip(p, freqs, 100.0), port, 12)
    assert hits >= 1


def test_relative_or_absolute_power_give_the_same_flip():
    """Each window renormalises, so any per-frequency scaling of the map changes nothing."""
    rng = np.random.default_rng(3)
    p = random_map(rng, 16)
    freqs = np.arange(1, 151, dtype=float)
    a, b = flip(p, freqs), flip(p * rng.uniform(0.1, 10, (1, 150)), freqs)
    assert a.found == b.found and a.window == b.window and a.crossover_channel == b.crossover_channel
    assert a.goodness == pytest.approx(b.goodness, rel=1e-9)


def test_an_inverted_motif_has_negative_goodness_and_the_minimum_window_is_the_published_one():
    freqs = np.arange(1, 151, dtype=float)
    depth = np.arange(16)
    ab, g = np.exp(-((depth - 3) / 3.0) ** 2) + 0.2, np.exp(-((depth - 11) / 3.0) ** 2) + 0.2
    inverted = (((freqs >= 10) & (freqs <= 19)) * ab[:, None] + (freqs >= 75) * g[:, None]) + 0.5
    r = flip(inverted, freqs)
    assert r.found and r.goodness < 0 and not r.upright
    assert r.alpha_beta_peak_channel < r.gamma_peak_channel
    assert r.window[1] - r.window[0] >= 8                 # first contact >= 0.7 mm: index 8 (1-based)
    upright = flip(inverted[::-1], freqs)
    assert upright.upright and upright.goodness == pytest.approx(-r.goodness)
