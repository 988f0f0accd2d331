#!/usr/bin/python3
"""Runs scikit-learn's Barnes-Hut t-SNE on points the `sklearn` bench case wrote, for its comparison.

Reads n × dim float32 values (row-major) from INPUT, embeds them in 2-D and
writes the n × 2 result as float64 to OUTPUT; prints one JSON line with the
seconds fit_transform took, in wall-clock and CPU time over all its threads
(affinities included, Python start-up and the import excluded), and the
scikit-learn version.

    /usr/bin/python3 scripts/sklearn_tsne.py INPUT OUTPUT --dim 50 [--perplexity 30] [--iterations 1000] [--seed 0]
"""
import argparse
import json
import os
import time

# OpenMP threads that spin while waiting starve each other on a shared machine (scikit-learn ran 10× slower).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import sklearn
from sklearn.manifold import TSNE

parser = argparse.ArgumentParser()
parser.add_argument("input")
parser.add_argument("output")
parser.add_argument("--dim", type=int, required=True)
parser.add_argument("--perplexity", type=float, default=30)
parser.add_argument("--iterations", type=int, default=1000)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

x = np.fromfile(args.input, dtype=np.float32).reshape(-1, args.dim)
# scikit-learn's own defaults (PCA start, learning rate max(n / 12 / 4, 50)) with the early exaggeration of the
# bench's run of the library: 12, which scikit-learn holds for 250 iterations. `n_iter` became `max_iter` in 1.5.
iterations = {"max_iter" if tuple(int(p) for p in sklearn.__version__.split(".")[:2]) >= (1, 5) else "n_iter": args.iterations}
tsne = TSNE(n_components=2, perplexity=args.perplexity, early_exaggeration=12, learning_rate="auto", init="pca",
            method="barnes_hut", angle=0.5, random_state=args.seed, **iterations)
start, cpu = time.perf_counter(), time.process_time()
y = tsne.fit_transform(x)
seconds, cpuSeconds = time.perf_counter() - start, time.process_time() - cpu
y.astype(np.float64).tofile(args.output)
print(json.dumps({"seconds": seconds, "cpuSeconds": cpuSeconds, "version": sklearn.__version__, "iterations": int(tsne.n_iter_) + 1}))
