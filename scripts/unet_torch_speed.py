#!/usr/bin/python3
"""Times the shipped U-Net's sampling in PyTorch, for the `unet` bench case.

The weights are read from models/unet.onnx itself, so PyTorch runs exactly
the model the library ships: parameters keep their names in the exported
graph, except the GroupNorm scales and shifts, which the exporter folds into
constant Mul/Add tensors, taken in the order the graph uses them. The
rebuilt model is checked against models/fixtures/unet-fixtures.json before
anything is timed.

Sampling as the library's sampler does it: DDIM (eta 0, "trailing"
timesteps), the "cosine" schedule of 1000 steps, classifier-free guidance on
the model output (conditional and unconditional rows in one batch), x0
clipped to [-1, 1]. Prints one JSON line: {"samplesStepsPerSecond": ...}.

    /usr/bin/python3 scripts/unet_torch_speed.py [--samples 1000] [--steps 20] [--guidance 2]
"""
import argparse
import json
import os
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from train_unet import NULL_LABEL, NUM_CLASSES, ROOT, T_STEPS, UNet, cosine_alpha_bar


def load_from_onnx(path):
    m = onnx.load(path)
    meta = {p.key: p.value for p in m.metadata_props}
    model = UNet(tuple(int(c) for c in meta["channels"].split(","))).eval()
    init = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in m.graph.initializer}
    state = model.state_dict()
    folded = []  # the folded GroupNorm constants, in the order nodes read them
    for node in m.graph.node:
        for name in node.input:
            if name.startswith("onnx::") and name in init and name not in folded:
                folded.append(name)
    norms = [n for n, mod in model.named_modules() if isinstance(mod, torch.nn.GroupNorm)]
    if len(folded) != 2 * len(norms):
        raise SystemExit(f"expected {2 * len(norms)} folded GroupNorm tensors, found {len(folded)}")
    for k, n in enumerate(norms):
        init[f"{n}.weight"], init[f"{n}.bias"] = init[folded[2 * k]], init[folded[2 * k + 1]]
    for key in state:
        state[key] = init[key].reshape(state[key].shape)
    model.load_state_dict(state)
    return model


def check(model):
    with open(os.path.join(ROOT, "models", "fixtures", "unet-fixtures.json")) as f:
        fx = json.load(f)
    x = fx["inputs"]
    with torch.no_grad():
        pred, h = model(torch.tensor(x["x_t"]["data"]).view(x["x_t"]["dims"]), torch.tensor(x["timestep"]["data"]),
                        torch.tensor(x["label"]["data"], dtype=torch.int64))
    for name, got in (("prediction", pred), ("h", h)):
        want = torch.tensor(fx["outputs"][name]["data"]).view(got.shape)
        diff = (got - want).abs().max().item()
        if diff > 1e-4:
            raise SystemExit(f"the model rebuilt from ONNX differs from the fixtures on {name} by {diff}")


def sample(model, samples, steps, guidance):
    abar = torch.tensor(cosine_alpha_bar(), dtype=torch.float64)
    ts = [round(T_STEPS - i * T_STEPS / steps) - 1 for i in range(steps)]
    labels = torch.arange(samples) % NUM_CLASSES
    g = torch.Generator().manual_seed(0)
    x = torch.randn(samples, 1, 28, 28, generator=g)
    with torch.no_grad():
        for i, t in enumerate(ts):
            a = abar[t].item()
            a_next = abar[ts[i + 1]].item() if i + 1 < len(ts) else 1.0
            if guidance != 1:
                out = model(torch.cat([x, x]), torch.full((2 * samples,), float(t)),
                            torch.cat([labels, torch.full((samples,), NULL_LABEL)]))[0]
                v = out[samples:] + guidance * (out[:samples] - out[samples:])
            else:
                v = model(x, torch.full((samples,), float(t)), labels)[0]
            x0 = (a ** 0.5 * x - (1 - a) ** 0.5 * v).clamp(-1, 1)
            eps = (x - a ** 0.5 * x0) / (1 - a) ** 0.5
            x = a_next ** 0.5 * x0 + (1 - a_next) ** 0.5 * eps
    return x


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--samples", type=int, default=1000)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--guidance", type=float, default=2)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    model = load_from_onnx(os.path.join(ROOT, "models", "unet.onnx"))
    check(model)
    start = time.perf_counter()
    sample(model, args.samples, args.steps, args.guidance)
    seconds = time.perf_counter() - start
    print(json.dumps({"samplesStepsPerSecond": args.samples * args.steps / seconds, "seconds": seconds, "threads": args.threads}))


if __name__ == "__main__":
    main()
