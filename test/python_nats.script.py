# A producer of the Python recipe's NATS mode: nats_sink.NatsStepSink
# publishing steps in the recipe's schema (instance, prompt, step, timestep,
# image), one of them wider than a NATS message.
# Arguments: url run producer instance_offset
import json
import os
import sys

import pyarrow as pa

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples", "python"))
from nats_sink import NatsStepSink  # noqa: E402

url, run, producer, offset = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
shape, n = (1, 64, 64), 6
schema = pa.schema(
    [
        pa.field("instance", pa.int32(), nullable=False),
        pa.field("prompt", pa.dictionary(pa.int32(), pa.string()), nullable=False),
        pa.field("step", pa.int32(), nullable=False),
        pa.field("timestep", pa.float32(), nullable=False),
        pa.field("image", pa.list_(pa.field("item", pa.float32(), nullable=False), 64 * 64), nullable=False),
    ],
    metadata={"diffusion-life.image-shape": json.dumps(shape), "diffusion-life.source": "diffusers"},
)
sink = NatsStepSink(url, run, producer)
for step in range(3):
    rows = n if step < 2 else 400  # step 2: 400 × 16 kB, several messages
    image = [float((offset + i) * 1000 + step) for i in range(rows) for _ in range(64 * 64)]
    batch = pa.record_batch(
        [
            pa.array(range(offset, offset + rows), pa.int32()),
            pa.DictionaryArray.from_arrays(pa.array([i % 2 for i in range(rows)], pa.int32()), pa.array(["a cat", "a dog"])),
            pa.array([step] * rows, pa.int32()),
            pa.array([999.0 - 333 * step] * rows, pa.float32()),
            pa.FixedSizeListArray.from_arrays(pa.array(image, pa.float32()), 64 * 64),
        ],
        schema=schema,
    )
    sink.write_batch(batch)
sink.close()
print(json.dumps({"producer": producer, "steps": sink.steps}))
