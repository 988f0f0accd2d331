#!/usr/bin/python3
"""The public reference of the evolutionary embedding, rebuilt, for the `reference` bench case.

The reference is the code of EvolvED / Tree of Diffusion Life (Prasad et al.,
arXiv 2406.17462), github.com/vidyaprsd/evolved, directory
`evolutionary_embedding/` (commit 9bd42ee). This script recomputes what its
`tsne()` does, step for step, with numpy alone, and keeps its constants, its
schedule, its update rules and its costs (the dense O(T·n²) work of every
iteration in a Python loop over steps and over points). Where each part
comes from:

- `affinities` ← `tsne_funcs.py`: `x2p` and `Hbeta` (van der Maaten's tsne.py):
  squared Euclidean distances, a binary search on each row's precision β
  from β = 1 (×2 / ÷2 until bracketed, then bisection) to perplexity 30 within
  tol 1e-5 in at most 50 tries (the row sum by Python's built-in `sum`, as
  there); then, in `evol_embed_radial.tsne`, P + Pᵀ, normalised, ×4 (early
  exaggeration), floored at 1e-12; divided by 4 after iteration 100.
  `pca` from `tsne_funcs.py` (eigenvectors of XᵀX in numpy's order) runs
  only when the features have more than `--initial-dims` (50) columns, as
  there; the bench hands over 50-dimensional features, so it does not run.
- `semantic` ← `evol_embed_radial.semantic_dist_grad`: Student-t Q of the
  step's Cartesian points, Q floored at 1e-12, KL(P‖Q), and the gradient
  Σ_j (p_ij − q_ij) num_ij (y_i − y_j) (no factor 4), row by row.
- `displacement` ← `evol_embed_radial.displacement_dist_grad`: the Gaussian
  density N(ρ; r_t, σ) on the radius, with r_0 = 0 and r_t = 20 for every
  other step; σ 20 → 15 → 10 → 8 from 50 %, 62.5 % and 75 % of the
  iterations; update η·disp_wt·∂N/∂ρ added to ρ.
- `alignment` ← `evol_embed_radial.alignment_dist_grad`: −|cos(φ_t − φ_{t+1})|,
  update align_wt·(−sin(φ_t − φ_{t+1})) added to φ_t (no η), steps 0…T−2.
- the loop ← `evol_embed_radial.tsne`: η = 500, momentum 0.5 for the first
  20 iterations then 0.8, gains +0.2 / ×0.8 with floor 0.01 held in one n×2
  array shared by all steps (updated once per step per iteration against that
  step's previous update), disp_wt = 1, align_wt = 0.05, 2000 iterations;
  every step converted between polar and Cartesian coordinates (all of Y,
  in place) around each step's semantic gradient; the semantic updates are
  added in Cartesian coordinates, then the displacement and alignment updates
  in polar ones, φ wrapped to [0, 2π).
- the start ← `evol_embed_radial.tsne`: per step, ρ ~ U(max(0, r_t − 20), r_t + 20)
  then φ ~ U(0, 2π) from numpy's global generator (`np.random.seed(seed)`,
  as its `__main__` seeds it).
- `cart2pol` / `pol2cart` ← `utils.py`.

Left out: the loss print and the matplotlib picture every 100 iterations
(`log_interim`), which write files and are not part of the optimisation; the
losses are still computed every iteration, as there.

Reads steps × instances × dim float32 values (step-major, row-major) from
INPUT; writes the final positions in the optimisation frame, the Cartesian
x = ρ cos φ, y = ρ sin φ in which the reference computes its t-SNE, as
steps × instances × 2 float64 to OUTPUT (same order); prints one JSON line
last with the seconds of the affinities and optimisation together (wall
clock and CPU time; Python start-up, the import and the file reads excluded),
of the affinities alone, the iterations and numpy's version.

    /usr/bin/python3 scripts/reference_tdl.py INPUT OUTPUT --steps 10 --instances 500 --dim 50 [--iterations 2000] [--seed 0]
"""
import argparse
import json
import os
import sys
import time

# The reference's matrix products are small (n × 2 and n × 50 by n); OpenBLAS threads that spin between them only
# take the other core of a shared 2-core machine. One thread, waiting passively, as the `sklearn` case's script.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

# The reference's constants (evol_embed_radial.tsne and its defaults).
PERPLEXITY = 30.0
TOL = 1e-5
MAX_TRIES = 50
ETA = 500
INITIAL_MOMENTUM, FINAL_MOMENTUM, MOMENTUM_SWITCH = 0.5, 0.8, 20
MIN_GAIN = 0.01
EXAGGERATION, EXAGGERATION_END = 4, 100
DISP_WT, ALIGN_WT = 1, 0.05
INIT_SIGMA, FINAL_SIGMA = 20, 8
RADIUS, RADII_BUFFER = 20, 20


def log(message):
    print(message, file=sys.stderr)


def to_cartesian(Y):
    """utils.pol2cart: (ρ, φ) → (x, y) in place over the last axis."""
    rho, phi = Y[..., 0], Y[..., 1]
    x, y = rho * np.cos(phi), rho * np.sin(phi)
    Y[..., 0], Y[..., 1] = x, y
    return Y


def to_polar(Y):
    """utils.cart2pol: (x, y) → (ρ, φ ∈ [0, 2π)) in place over the last axis."""
    x, y = Y[..., 0], Y[..., 1]
    rho = np.sqrt(x ** 2 + y ** 2)
    phi = np.arctan2(y, x) % (2 * np.pi)
    Y[..., 0], Y[..., 1] = rho, phi
    return Y


def entropy_and_row(d, beta):
    """tsne_funcs.Hbeta: a row's Gaussian at precision β and its entropy (the row sum by built-in sum, as there)."""
    p = np.exp(-d.copy() * beta)
    total = sum(p)
    h = np.log(total) + beta * np.sum(d * p) / total
    return h, p / total


def conditional_p(X):
    """tsne_funcs.x2p: each row's conditional P at the perplexity, by binary search on β."""
    n = X.shape[0]
    sq = np.sum(np.square(X), 1)
    D = np.add(np.add(-2 * np.dot(X, X.T), sq).T, sq)
    P = np.zeros((n, n))
    beta = np.ones((n, 1))
    target = np.log(PERPLEXITY)
    for i in range(n):
        lo, hi = -np.inf, np.inf
        others = np.concatenate((np.r_[0:i], np.r_[i + 1:n]))
        d = D[i, others]
        h, row = entropy_and_row(d, beta[i])
        diff = h - target
        tries = 0
        while np.abs(diff) > TOL and tries < MAX_TRIES:
            if diff > 0:
                lo = beta[i].copy()
                beta[i] = beta[i] * 2. if hi == np.inf or hi == -np.inf else (beta[i] + hi) / 2.
            else:
                hi = beta[i].copy()
                beta[i] = beta[i] / 2. if lo == np.inf or lo == -np.inf else (beta[i] + lo) / 2.
            h, row = entropy_and_row(d, beta[i])
            diff = h - target
            tries += 1
        P[i, others] = row
    log("mean sigma: %f" % np.mean(np.sqrt(1 / beta)))
    return P


def project(X, dims):
    """tsne_funcs.pca: centred X onto the first `dims` eigenvectors of XᵀX, in the order numpy.linalg.eig returns them."""
    X = X - np.tile(np.mean(X, 0), (X.shape[0], 1))
    _, M = np.linalg.eig(np.dot(X.T, X))
    return np.dot(X, M[:, 0:dims])


def semantic(Y, P):
    """evol_embed_radial.semantic_dist_grad: KL(P‖Q) of one step and its gradient, row by row."""
    n, dims = Y.shape
    sq = np.sum(np.square(Y), 1)
    num = 1. / (1. + np.add(np.add(-2. * np.dot(Y, Y.T), sq).T, sq))
    num[range(n), range(n)] = 0.
    Q = np.maximum(num / np.sum(num), 1e-12)
    PQ = P - Q
    grad = np.zeros((n, dims))
    for i in range(n):
        grad[i, :] = np.sum(np.tile(PQ[:, i] * num[:, i], (dims, 1)).T * (Y[i, :] - Y), 0)
    return np.sum(P * np.log(P / Q)), grad


def displacement(rho, target, sigma):
    """evol_embed_radial.displacement_dist_grad: −N(ρ; r, σ) and the gradient of N."""
    density = np.exp(-(rho - target) ** 2 / (2 * sigma ** 2)) / (sigma * np.sqrt(2 * np.pi))
    return -density, -((rho - target) / sigma ** 2) * density


def alignment(phi, next_phi):
    """evol_embed_radial.alignment_dist_grad: −|cos Δφ| and the step towards the next step's angle."""
    delta = phi - next_phi
    similarity = np.abs(np.cos(delta))
    return -similarity, np.where(similarity > 0, -np.sin(delta), np.sin(delta))


def sigma_at(it, iterations):
    """The displacement σ schedule of evol_embed_radial.tsne."""
    if it < 0.5 * iterations:
        return INIT_SIGMA
    if it < 0.625 * iterations:
        return 0.75 * INIT_SIGMA
    if it < 0.75 * iterations:
        return 0.5 * INIT_SIGMA
    return FINAL_SIGMA


def embed(X, iterations, initial_dims=50, dims=2):
    """evol_embed_radial.tsne on X (steps × n × D); returns the final polar Y and the affinity seconds."""
    steps, n, D = X.shape
    radii = [RADIUS] * steps
    radii[0] = 0
    reduced = np.zeros((steps, n, initial_dims))
    Y = np.zeros((steps, n, dims))
    P = np.zeros((steps, n, n))
    sem_updt = np.zeros((steps, n, dims))
    disp_updt = np.zeros((steps, n))
    align_updt = np.zeros((steps, n))
    gains = np.ones((n, dims))

    start = time.perf_counter()
    for t in range(steps):
        rho = np.random.uniform(max(0, radii[t] - RADII_BUFFER), radii[t] + RADII_BUFFER, n)[:, None]
        phi = np.random.uniform(0, 2 * np.pi, n)[:, None]
        Y[t] = np.concatenate((rho, phi), axis=1)
        reduced[t] = project(X[t], initial_dims).real if initial_dims < D else X[t]
        P[t] = conditional_p(reduced[t])
        P[t] = P[t] + P[t].T
        P[t] /= np.sum(P[t])
        P[t] *= EXAGGERATION
        P[t] = np.maximum(P[t], 1e-12)
    affinity_seconds = time.perf_counter() - start

    for it in range(iterations):
        semantic_loss = displacement_loss = alignment_loss = 0
        for t in range(steps):
            Y = to_cartesian(Y)
            kl, grad = semantic(Y[t], P[t])
            momentum = INITIAL_MOMENTUM if it < MOMENTUM_SWITCH else FINAL_MOMENTUM
            flipped = (grad > 0) != (sem_updt[t] > 0)
            gains = (gains + 0.2) * flipped + (gains * 0.8) * ~flipped
            gains[gains < MIN_GAIN] = MIN_GAIN
            sem_updt[t] = momentum * sem_updt[t] - ETA * (gains * grad)
            semantic_loss += kl

            Y = to_polar(Y)
            loss, step = displacement(Y[t, :, 0], np.full(Y[t, :, 0].shape, radii[t]), sigma_at(it, iterations))
            disp_updt[t] = DISP_WT * ETA * step
            displacement_loss += np.sum(loss)

            if t < steps - 1:
                loss, step = alignment(Y[t, :, 1], Y[t + 1, :, 1])
                align_updt[t] = ALIGN_WT * step
                alignment_loss += np.sum(loss)

        Y = to_cartesian(Y)
        Y = Y + sem_updt
        Y = to_polar(Y)
        Y[..., 0] += disp_updt
        Y[..., 1] += align_updt
        Y[..., 1] = Y[..., 1] % (2 * np.pi)
        if (it + 1) % 100 == 0:
            log("iteration %d: C_s %f C_d %f C_a %f" % (it + 1, semantic_loss / steps, displacement_loss / (steps * n), alignment_loss / (steps * n)))
        if it == EXAGGERATION_END:
            P = P / EXAGGERATION
    return Y, affinity_seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--instances", type=int, required=True)
    parser.add_argument("--dim", type=int, required=True)
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--initial-dims", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    X = np.fromfile(args.input, dtype=np.float32).reshape(args.steps, args.instances, args.dim)
    np.random.seed(args.seed)
    start, cpu = time.perf_counter(), time.process_time()
    Y, affinity_seconds = embed(X, args.iterations, args.initial_dims)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    to_cartesian(Y).astype(np.float64).tofile(args.output)
    print(json.dumps({"seconds": seconds, "cpuSeconds": cpu_seconds, "affinitySeconds": affinity_seconds,
                      "iterations": args.iterations, "numpy": np.__version__}))


if __name__ == "__main__":
    main()
