"""CMA-ES with IPOP restarts: the covariance matrix adaptation evolution strategy.

The update is the one of Hansen's tutorial (arXiv:1604.00772, Table 1 and eqs. 39-47; c_sigma
as pycma has it):
weighted recombination, cumulative step-size adaptation, rank-one and rank-mu covariance
updates with the h_sigma stall of p_c, and the active update (negative weights for the worse
half, applied to Mahalanobis-normalised steps), in the normalised search box [0, 1]^d. Each
generation's lambda candidates are evaluated in one batched call (``problem.evaluate``: a
``vmap`` over the model in ``model.tune``).

Sampling (``sampling``): ``gaussian`` (the default) draws independent normal steps with the
active update: pycma's default algorithm. ``mirrored_orthogonal`` draws lambda/2 directions,
orthonormalised (in blocks of d) and scaled by independent chi_d lengths, and evaluates each
with its mirror image; of each mirrored pair only the better enters the ranking (pairwise
selection), and the update has no negative weights, since a pair's loser is the winner's
mirror and would cancel its rank-mu term (Wang, Emmerich & Baeck, "Mirrored orthogonal
sampling for covariance matrix adaptation evolution strategies", Evol. Comput. 27(4), 2019).
Measured (docs/optimizers.md): on Rosenbrock, Rastrigin and a noisy quadratic in 10-D the
mirrored sampler is at or below pycma's median on every line; on the column from a far start,
whose E-silent plateau is deceptive (E's first spikes raise PV's and SST's rates and the loss),
the mirror of a step into firing usually wins its pair, and the column is reached less often
(1 of 10 seeds at population 16 against 9 of 10): so it is an option, not the default.

Bounds: the genotype is unconstrained; a candidate is evaluated at its image in the box
under :func:`to_box` (the identity inside, quadratic within 0.05 of a bound, mirrored and
periodic beyond: the shape of pycma's ``BoundTransform``), so CMA-ES optimises f(to_box(y)).

Plateaus: when the best 70 % of a generation share one loss (a flat region, e.g. a population
that stays silent over a range of drives, or a spike count that does not change), sigma grows by
exp(0.2 + c_sigma / d_sigma), the flat-fitness rule of Hansen's reference implementations, so
the search leaves the plateau instead of shrinking on it.

Restarts (IPOP, Auger & Hansen 2005): a run ends when the step is below ``tol_x`` (box units),
the best losses of the last 10 + 30 d / lambda generations span less than ``tol_fun``, or the
covariance's condition number exceeds 1e14; the next run starts at a uniform random point of
the box (``restart_from = "random"``; ``"start"``: the problem's start) with the population
multiplied by ``popsize_factor``. The first run starts at the problem's start. The result is
the best point over all runs; the search ends when the last allowed run ends (or the budget
is spent). sigma grows by at most e per generation (as pycma's ``max_delta_log_sigma``).
"""
from __future__ import annotations

from typing import Optional

import attrs
import jax
import numpy as np

from .hookspecs import Optimizer
from jaxfne_core.validators import number, one_of

from .common import Elite
from .problem import record

MARGIN = 0.05      # box units near each bound where the map to the box is quadratic
FLAT_GENERATIONS = 5   # generations whose best losses are equal: a plateau


@attrs.frozen
class CMAESOptions:
    """population: lambda of the first run (None: 4 + floor(3 ln d)). sigma0: initial step
    as a fraction of each bound's span. restarts: IPOP restarts allowed (0: one run).
    popsize_factor: population growth per restart. restart_from: ``random`` (a uniform point of
    the box), ``start`` (the problem's start) or ``best`` (the best point so far).
    tol_x, tol_fun: the stop tests of a run (box units; loss units). stall_generations,
    stall_tol: a run also ends when its best loss of the last ``stall_generations`` generations
    is not below its earlier best by ``stall_tol`` (relative); None: never. sampling:
    ``gaussian`` (independent normal steps and the active update, as pycma's default) or
    ``mirrored_orthogonal`` (mirrored orthogonal steps, pairwise selection; better on smooth
    problems, worse on deceptive plateaus)."""

    population: Optional[int] = attrs.field(default=None, validator=attrs.validators.optional(number(2, 100_000)))
    sigma0: float = attrs.field(default=0.2, validator=number(0, 1, lo_open=True))
    restarts: int = attrs.field(default=9, validator=number(0, 1000))
    popsize_factor: float = attrs.field(default=2.0, validator=number(1))
    restart_from: str = attrs.field(default="random", validator=one_of("random", "start", "best"))
    tol_x: float = attrs.field(default=1e-11, validator=number(0, lo_open=True))
    tol_fun: float = attrs.field(default=1e-12, validator=number(0))
    stall_generations: Optional[int] = attrs.field(default=None, validator=attrs.validators.optional(number(2)))
    stall_tol: float = attrs.field(default=1e-3, validator=number(0))
    sampling: str = attrs.field(default="gaussian", validator=one_of("gaussian", "mirrored_orthogonal"))


def mirrored_orthogonal(z):
    """Steps (lam, d) from standard normal draws ``z`` (lam, d): rows 0..m-1 (m = lam // 2) are
    orthonormal directions (QR of z's first m rows, in blocks of d) times chi_d lengths (the
    norms of rows m..2m-1), rows m..2m-1 their mirrors; an odd last row stays as drawn."""
    lam, d = z.shape
    m = lam // 2
    blocks = []
    for s in range(0, m, d):
        q, r = np.linalg.qr(z[s:min(m, s + d)].T)
        blocks.append((q * np.where(np.diag(r) < 0, -1.0, 1.0)).T)
    half = np.concatenate(blocks)[:m] * np.linalg.norm(z[m:2 * m], axis=1)[:, None] if m else z[:0]
    return np.concatenate([half, -half, z[2 * m:]])


def pairwise_selection(losses):
    """Ranking losses for mirrored pairs (i, i + m): the worse of each pair is set to inf, so
    only pair winners are selected; an odd last candidate keeps its loss."""
    out = np.array(losses, np.float64)
    m = out.size // 2
    worse = np.where(out[m:2 * m] < out[:m], np.arange(m), np.arange(m, 2 * m))
    out[worse] = np.inf
    return out


def to_box(y, margin: float = MARGIN):
    """Map unconstrained box coordinates into [0, 1]: the identity on [margin, 1 - margin],
    a quadratic within ``margin`` of each bound (slope 1 to 0), mirrored beyond it, periodic
    (period 2 (1 + 2 margin)); continuous with a continuous slope."""
    half = 1.0 + 2 * margin
    t = np.mod(np.asarray(y, np.float64) + margin, 2 * half)
    x = np.where(t > half, 2 * half - t, t) - margin            # in [-margin, 1 + margin]
    low = (x + margin) ** 2 / (4 * margin)
    high = 1.0 - (1.0 + margin - x) ** 2 / (4 * margin)
    return np.where(x < margin, low, np.where(x > 1 - margin, high, x))


@attrs.define
class Run:
    """The state of one CMA-ES run in box coordinates (Hansen's notation)."""

    mean: np.ndarray
    sigma: float
    lam: int
    C: np.ndarray
    pc: np.ndarray
    ps: np.ndarray
    generation: int = 0
    best_history: list = attrs.Factory(list)
    flat: bool = False
    eig: tuple = None            # (eigenvalues, eigenvectors) of C, computed once per update
    mirrored: bool = False       # mirrored orthogonal sampling with pairwise selection

    @classmethod
    def start(cls, mean, sigma, lam, mirrored=False):
        d = mean.size
        return cls(np.asarray(mean, np.float64), float(sigma), int(lam), np.eye(d), np.zeros(d), np.zeros(d),
                   eig=(np.ones(d), np.eye(d)), mirrored=bool(mirrored) and lam >= 2)

    def constants(self):
        """Hansen's defaults (tutorial Table 1), with the active (negative) weights (none when
        mirrored: a pair's loser is its winner's mirror)."""
        d, lam = self.mean.size, self.lam
        mu = lam // 2
        raw = np.log((lam + 1) / 2) - np.log(np.arange(1, lam + 1))
        pos, neg = raw[:mu], raw[mu:]
        mueff = pos.sum() ** 2 / np.sum(pos ** 2)
        mueff_neg = neg.sum() ** 2 / np.sum(neg ** 2) if neg.size and np.any(neg) else 0.0
        cc = (4 + mueff / d) / (d + 4 + 2 * mueff / d)
        cs = (mueff + 2) / (d + mueff + 3)          # pycma's (the tutorial's has + 5)
        c1 = 2 / ((d + 1.3) ** 2 + mueff)
        cmu = min(1 - c1, 2 * (0.25 + mueff + 1 / mueff - 2) / ((d + 2) ** 2 + mueff))
        scale_neg = min(1 + c1 / cmu if cmu > 0 else np.inf, 1 + 2 * mueff_neg / (mueff + 2),
                        (1 - c1 - cmu) / (d * cmu) if cmu > 0 else np.inf)
        w = np.concatenate([pos / pos.sum(), scale_neg * neg / np.abs(neg).sum() if np.any(neg) else neg])
        if self.mirrored:
            w[mu:] = 0.0
        damps = 1 + 2 * max(0.0, np.sqrt((mueff - 1) / (d + 1)) - 1) + cs
        chi_n = np.sqrt(d) * (1 - 1 / (4 * d) + 1 / (21 * d ** 2))
        return mu, w, mueff, cc, cs, c1, cmu, damps, chi_n

    def ask(self, z):
        """Candidates (lam, d) from standard normal draws ``z``, and their steps y = B D z."""
        if self.mirrored:
            z = mirrored_orthogonal(z)
        vals, vecs = self.eig
        y = z @ (vecs * np.sqrt(np.maximum(vals, 0.0))).T
        return self.mean + self.sigma * y, y

    def tell(self, y, losses):
        """Update from steps ``y`` (lam, d) ranked by ``losses`` (lam,) (tutorial eqs. 39-47)."""
        mu, w, mueff, cc, cs, c1, cmu, damps, chi_n = self.constants()
        d = self.mean.size
        ys = y[np.argsort(pairwise_selection(losses) if self.mirrored else losses, kind="stable")]
        yw = w[:mu] @ ys[:mu]
        vals, vecs = self.eig
        inv_sqrt = (vecs / np.sqrt(np.maximum(vals, 1e-300))) @ vecs.T
        self.mean = self.mean + self.sigma * yw
        self.ps = (1 - cs) * self.ps + np.sqrt(cs * (2 - cs) * mueff) * (inv_sqrt @ yw)
        self.generation += 1
        norm_ps = np.linalg.norm(self.ps) / np.sqrt(1 - (1 - cs) ** (2 * self.generation))
        hsig = float(norm_ps / chi_n < 1.4 + 2 / (d + 1))
        self.pc = (1 - cc) * self.pc + hsig * np.sqrt(cc * (2 - cc) * mueff) * yw
        w_circ = w.copy()
        neg = w < 0
        if np.any(neg):                      # negative weights act on normalised steps
            w_circ[neg] *= d / np.maximum(np.sum((ys[neg] @ inv_sqrt) ** 2, axis=1), 1e-300)
        rank_mu = (ys * w_circ[:, None]).T @ ys
        self.C = ((1 + c1 * (1 - hsig) * cc * (2 - cc) - c1 - cmu * w.sum()) * self.C
                  + c1 * np.outer(self.pc, self.pc) + cmu * rank_mu)
        self.C = (self.C + self.C.T) / 2
        self.eig = np.linalg.eigh(self.C)
        self.sigma *= float(np.exp(min(1.0, (cs / damps) * (np.linalg.norm(self.ps) / chi_n - 1))))   # <= e per step
        ranked = np.sort(losses)
        self.best_history.append(float(ranked[0]))
        recent = self.best_history[-FLAT_GENERATIONS:]
        self.flat = bool(np.isfinite(ranked[0]) and (ranked[0] == ranked[int(np.ceil(0.7 * self.lam)) - 1]
                                                     or (len(recent) == FLAT_GENERATIONS and len(set(recent)) == 1)))
        if self.flat:                        # a plateau: widen the search
            self.sigma *= float(np.exp(0.2 + cs / damps))

    def finished(self, o: CMAESOptions) -> Optional[str]:
        """Why this run should stop, or None."""
        d = self.mean.size
        if self.sigma * np.sqrt(np.max(np.diag(self.C))) < o.tol_x:
            return "tol_x"
        window = 10 + int(np.ceil(30 * d / self.lam))
        recent = self.best_history[-window:]
        if len(self.best_history) >= window and np.isfinite(recent).all() and max(recent) - min(recent) < o.tol_fun:
            return "tol_fun"
        k = o.stall_generations
        if k is not None and len(self.best_history) > k:
            before, recent = min(self.best_history[:-k]), min(self.best_history[-k:])
            if np.isfinite(before) and recent > before - o.stall_tol * abs(before):
                return "stalled"
        vals = self.eig[0]
        if vals.min() <= 0 or vals.max() / vals.min() > 1e14:
            return "condition"
        return None


class CMAES(Optimizer):
    """CMA-ES with IPOP restarts (Hansen's update; populations evaluated in one batched call)."""

    name = "cmaes"
    Options = CMAESOptions

    def minimize(self, problem, steps, key):
        o = self.options
        lo, hi = problem.lower.astype(np.float64), problem.upper.astype(np.float64)
        span = hi - lo
        d = problem.dim
        elite = Elite.start(problem)
        lam = o.population or 4 + int(3 * np.log(d))
        mirrored = o.sampling == "mirrored_orthogonal"
        run = Run.start((elite.x - lo) / span, o.sigma0, lam, mirrored)
        restarts = 0
        restart_key = jax.random.fold_in(key, 0x7FFFFFFF)
        for step in range(1, steps + 1):
            z = np.asarray(jax.random.normal(jax.random.fold_in(key, step), (run.lam, d)), np.float64)
            genotype, y = run.ask(z)
            n = elite.room(problem, run.lam)
            if n == 0:
                break
            cand = (lo + span * to_box(genotype[:n])).astype(np.float32)
            losses, gates = problem.evaluate(cand)
            losses = np.where(np.isfinite(losses), losses, np.inf)
            improved = elite.offer(cand, losses, gates)
            extra = {"sigma": run.sigma, "population": run.lam, "restart": restarts}
            if n == run.lam:
                run.tell(y, losses)
                extra["flat"] = run.flat
                why = run.finished(o)
                if why is not None and restarts >= o.restarts:     # converged, no restart left: done
                    elite.history.append(record(step, cand, losses, elite.loss, improved, **extra, stopped_because=why))
                    break
                if why is not None:
                    restarts += 1
                    start = {"start": lambda: (np.asarray(problem.x0, np.float64) - lo) / span,
                             "best": lambda: (np.asarray(elite.x, np.float64) - lo) / span,
                             "random": lambda: np.asarray(jax.random.uniform(jax.random.fold_in(restart_key, step), (d,)),
                                                          np.float64)}[o.restart_from]()
                    run = Run.start(start, o.sigma0, int(round(run.lam * o.popsize_factor)), mirrored)
                    extra["restarted_because"] = why
            elite.history.append(record(step, cand, losses, elite.loss, improved, **extra))
            if elite.step_done(problem, step):
                break
        return elite.result()
