"""Follow a diffusers generation live: every denoising step's predicted clean
image x̂0 goes out as one Arrow IPC record batch, to a file or to stdout, so
diffusion-life can read the steps while the run is still going.

    pip install diffusers transformers torch pyarrow
    python diffusers_to_arrow.py --prompt "a photo of a cat" --prompt "a photo of a dog" \
        --images-per-prompt 8 --steps 30 --out run.arrows
    python diffusers_to_arrow.py --prompt "a red bicycle" | node --import tsx examples/follow_recording.ts

Schema (one record batch per step, rows = the generation's images):

    instance  int32                        image index in the pipeline's batch (prompt-major)
    prompt    dictionary<int32, utf8>      the prompt text
    step      int32                        0 = noisiest
    timestep  float32                      the scheduler's timestep t at this step
    image     fixed_size_list<float32>[C*H*W]
              x̂0, channel-major: VAE latents as the UNet sees them (--space latent),
              or decoded RGB in [0, 1] (--space decoded)
    noisy     fixed_size_list<float32>[C*H*W]   (only with --noisy and --space latent)
              x_t as the UNet sees it (after scale_model_input)

Schema metadata: diffusion-life.image-shape = JSON [C, H, W]; diffusion-life.source
= "diffusers"; diffusion-life.space = "latent" | "decoded"; diffusion-life.model;
diffusion-life.scheduler (the scheduler's class name).

`ArrowStepWriter` is usable on its own with any diffusers pipeline that takes
`callback_on_step_end`: pass it as the callback and "latents" in
`callback_on_step_end_tensor_inputs`.

With --nats URL --run NAME --producer NAME the steps go to a run on NATS
JetStream instead (nats_sink.py; `pip install nats-py`), one producer of the
run per GPU: give each its own --instance-offset and --seed, and run
`diffusion-life embed-run --nats URL --run NAME --producers ...` once.
"""

import argparse
import json
import sys

import pyarrow as pa
import torch


class ArrowStepWriter:
    """A `callback_on_step_end` that writes x̂0 of every step as an Arrow record batch."""

    def __init__(self, pipe, sink, prompts, images_per_prompt, space="latent", noisy=False, model="", instance_offset=0):
        if space not in ("latent", "decoded"):
            raise ValueError(f"space must be 'latent' or 'decoded', not {space!r}")
        if noisy and space != "latent":
            raise ValueError("noisy (x_t) is written only with space='latent'")
        self.pipe, self.sink, self.space, self.noisy = pipe, sink, space, noisy
        self.prompts = list(prompts)
        self.images_per_prompt = images_per_prompt
        self.model = model
        self.instance_offset = instance_offset
        self.writer = None
        self._x0 = self._xt = None
        self._wrap_scheduler(pipe.scheduler)

    def _wrap_scheduler(self, scheduler):
        """Captures x̂0 (and x_t) from each scheduler step: the callback only sees x_{t-1}."""
        step = scheduler.step

        def wrapped(model_output, timestep, sample, *args, return_dict=True, **kwargs):
            self._xt = scheduler.scale_model_input(sample, timestep) if self.noisy else None
            out = step(model_output, timestep, sample, *args, return_dict=True, **kwargs)
            x0 = getattr(out, "pred_original_sample", None)
            self._x0 = x0 if x0 is not None else self._x0_from_prediction(scheduler, model_output, timestep, sample)
            return out if return_dict else (out.prev_sample,)

        scheduler.step = wrapped

    @staticmethod
    def _x0_from_prediction(scheduler, model_output, timestep, sample):
        # Schedulers that keep no x̂0 (PNDM, DPM-Solver) work on variance-preserving x_t.
        alpha_bar = scheduler.alphas_cumprod.to(sample.device)[int(timestep)].to(sample.dtype)
        kind = scheduler.config.prediction_type
        if kind == "epsilon":
            return (sample - (1 - alpha_bar).sqrt() * model_output) / alpha_bar.sqrt()
        if kind == "v_prediction":
            return alpha_bar.sqrt() * sample - (1 - alpha_bar).sqrt() * model_output
        if kind == "sample":
            return model_output
        raise ValueError(f"cannot derive x̂0 for prediction type {kind!r}")

    def _schema(self, shape):
        dim = shape[0] * shape[1] * shape[2]
        vector = pa.list_(pa.float32(), dim)
        fields = [
            pa.field("instance", pa.int32()),
            pa.field("prompt", pa.dictionary(pa.int32(), pa.string())),
            pa.field("step", pa.int32()),
            pa.field("timestep", pa.float32()),
            pa.field("image", vector),
        ]
        if self.noisy:
            fields.append(pa.field("noisy", vector))
        return pa.schema(fields, metadata={
            "diffusion-life.image-shape": json.dumps(list(shape)),
            "diffusion-life.source": "diffusers",
            "diffusion-life.space": self.space,
            "diffusion-life.model": self.model,
            "diffusion-life.scheduler": type(self.pipe.scheduler).__name__,
        })

    @torch.no_grad()
    def _image(self, x0):
        if self.space == "latent":
            return x0
        vae = self.pipe.vae
        decoded = vae.decode(x0.to(vae.dtype) / vae.config.scaling_factor, return_dict=False)[0]
        return (decoded / 2 + 0.5).clamp(0, 1)

    def __call__(self, pipe, step_index, timestep, callback_kwargs):
        image = self._image(self._x0).float().cpu()
        n = image.shape[0]
        schema = self._schema(tuple(image.shape[1:]))
        # A NATS sink takes record batches; a file or stdout, an IPC stream.
        if self.writer is None:
            self.writer = self.sink if hasattr(self.sink, "write_batch") else pa.ipc.new_stream(self.sink, schema)
        vectors = lambda t: pa.FixedSizeListArray.from_arrays(pa.array(t.reshape(-1).numpy(), pa.float32()), t[0].numel())
        columns = [
            pa.array(range(self.instance_offset, self.instance_offset + n), pa.int32()),
            pa.DictionaryArray.from_arrays(
                pa.array([i // self.images_per_prompt for i in range(n)], pa.int32()), pa.array(self.prompts, pa.string())
            ),
            pa.array([step_index] * n, pa.int32()),
            pa.array([float(timestep)] * n, pa.float32()),
            vectors(image),
        ]
        if self.noisy:
            columns.append(vectors(self._xt.float().cpu()))
        self.writer.write_batch(pa.record_batch(columns, schema=schema))
        if hasattr(self.sink, "flush"):
            self.sink.flush()  # the reader sees this step now, not when the run ends
        return callback_kwargs

    def close(self):
        if self.writer is not None and self.writer is not self.sink:
            self.writer.close()
        if hasattr(self.sink, "flush"):
            self.sink.flush()
        else:
            self.sink.close()  # the NATS sink publishes the producer's end


SCHEDULERS = {
    "ddim": "DDIMScheduler",
    "ddpm": "DDPMScheduler",
    "euler": "EulerDiscreteScheduler",
    "euler-ancestral": "EulerAncestralDiscreteScheduler",
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="stable-diffusion-v1-5/stable-diffusion-v1-5")
    parser.add_argument("--prompt", action="append", required=True, help="repeat for several prompts")
    parser.add_argument("--images-per-prompt", type=int, default=4)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--guidance", type=float, default=7.5)
    parser.add_argument("--scheduler", choices=sorted(SCHEDULERS), help="default: the model's own")
    parser.add_argument("--space", choices=["latent", "decoded"], default="latent")
    parser.add_argument("--noisy", action="store_true", help="also write x_t (latent space only)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="-", help="a file, or - for stdout (default)")
    parser.add_argument("--nats", help="publish to a run on NATS JetStream at this URL instead of --out")
    parser.add_argument("--run", help="the run's name (with --nats)")
    parser.add_argument("--producer", default="0", help="this producer's name in the run (with --nats; default 0)")
    parser.add_argument("--instance-offset", type=int, default=0, help="added to every instance id (several producers of one run)")
    args = parser.parse_args()
    if args.nats and not args.run:
        parser.error("--nats needs --run")

    import diffusers

    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.float16 if device == "cuda" else torch.float32
    pipe = diffusers.AutoPipelineForText2Image.from_pretrained(args.model, torch_dtype=dtype).to(device)
    if args.scheduler:
        pipe.scheduler = getattr(diffusers, SCHEDULERS[args.scheduler]).from_config(pipe.scheduler.config)
    pipe.set_progress_bar_config(disable=True)  # stdout may carry the stream; keep it clean

    if args.nats:
        from nats_sink import NatsStepSink

        sink = NatsStepSink(args.nats, args.run, args.producer)
    else:
        sink = sys.stdout.buffer if args.out == "-" else open(args.out, "wb")
    writer = ArrowStepWriter(pipe, sink, args.prompt, args.images_per_prompt, args.space, args.noisy, args.model, args.instance_offset)
    try:
        pipe(
            prompt=args.prompt,
            num_images_per_prompt=args.images_per_prompt,
            num_inference_steps=args.steps,
            guidance_scale=args.guidance,
            generator=torch.Generator(device).manual_seed(args.seed),
            callback_on_step_end=writer,
            callback_on_step_end_tensor_inputs=["latents"],
        )
    finally:
        writer.close()
        if sink is not sys.stdout.buffer and not args.nats:
            sink.close()


if __name__ == "__main__":
    main()
