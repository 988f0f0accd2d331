"""Publishes step record batches to a run on NATS JetStream, the way
diffusion-life's `publishStepTable` does, so a diffusers job on each GPU is
one producer of a run that one `diffusion-life embed-run` embeds:

    subject   dl.<run>.steps.<producer>
    payload   one Arrow IPC stream (schema, dictionaries, one record batch)
              of consecutive rows of one step; a step larger than the
              server's max_payload goes in several parts
    headers   Diffusion-Life-Run, -Producer, -Step, -Part ("k/K"), and
              Nats-Msg-Id "<run>/<producer>/<step>/<k>", so a publish retried
              after a lost reply (a broker restart) is stored once
    the end   an empty message with Diffusion-Life-End: JSON list of the steps

    pip install nats-py pyarrow

The diffusers callback is synchronous; the client is asyncio, so it runs on
an event loop of its own, and each step's publish is waited for (the GPU
does not run ahead of what the broker has stored).
"""

import asyncio
import json
import threading
import time

import nats
import pyarrow as pa
from nats.js.errors import NotFoundError

HEADROOM = 4096  # bytes left in each message for headers


class NatsStepSink:
    """`write_batch(batch)` publishes one step's rows; `close()` publishes the producer's end."""

    def __init__(self, url, run, producer, retry_seconds=120.0):
        for name, value in (("run", run), ("producer", producer)):
            if not value or not all(c.isalnum() or c in "-_" for c in value) or len(value) > 64:
                raise ValueError(f"{name} must be 1-64 letters, digits, '-' or '_' (one NATS subject token), not {value!r}")
        self.run, self.producer, self.retry_seconds = run, producer, retry_seconds
        self.subject = f"dl.{run}.steps.{producer}"
        self.steps = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self._wait(self._connect(url))

    def _wait(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    async def _connect(self, url):
        self.nc = await nats.connect(url, max_reconnect_attempts=-1, reconnect_time_wait=0.25)
        self.js = self.nc.jetstream()
        stream = f"DL_{self.run}"
        try:
            await self.js.stream_info(stream)
        except NotFoundError:
            await self.js.add_stream(name=stream, subjects=[f"dl.{self.run}.>"])

    def write_batch(self, batch):
        steps = set(batch.column("step").to_pylist())
        if len(steps) != 1:
            raise ValueError(f"a batch holds the rows of one step, not {sorted(steps)}")
        step = steps.pop()
        if step in self.steps:
            raise ValueError(f"step {step} was published already")
        parts = self._parts(batch)
        for k, data in enumerate(parts):
            headers = {
                "Diffusion-Life-Run": self.run,
                "Diffusion-Life-Producer": self.producer,
                "Diffusion-Life-Step": str(step),
                "Diffusion-Life-Part": f"{k}/{len(parts)}",
                "Nats-Msg-Id": f"{self.run}/{self.producer}/{step}/{k}",
            }
            self._publish(data, headers)
        self.steps.append(step)

    def close(self):
        headers = {
            "Diffusion-Life-Run": self.run,
            "Diffusion-Life-Producer": self.producer,
            "Diffusion-Life-End": json.dumps(sorted(self.steps)),
            "Nats-Msg-Id": f"{self.run}/{self.producer}/end",
        }
        self._publish(b"", headers)
        self._wait(self.nc.drain())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()

    def _publish(self, data, headers):
        """Until the stream confirms it, for retry_seconds at most: a broker restart is ridden out."""
        deadline, wait = time.monotonic() + self.retry_seconds, 0.1
        while True:
            try:
                return self._wait(self.js.publish(self.subject, data, headers=headers, timeout=5))
            except Exception:
                if time.monotonic() + wait > deadline:
                    raise
                time.sleep(wait)
                wait = min(wait * 2, 2.0)

    def _parts(self, batch):
        budget = self.nc.max_payload - HEADROOM
        count = 1
        while True:
            rows = -(-batch.num_rows // count)
            parts = [_ipc_stream(batch.slice(at, rows)) for at in range(0, max(batch.num_rows, 1), rows)]
            if all(len(p) <= budget for p in parts):
                return parts
            if rows == 1:
                raise ValueError(f"one row takes {max(len(p) for p in parts)} bytes, more than a NATS message holds")
            count = max(count + 1, int(count * 1.25))


def _ipc_stream(batch):
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return sink.getvalue().to_pybytes()
