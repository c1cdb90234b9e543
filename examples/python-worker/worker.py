#!/usr/bin/env python3
"""An EvolverActors worker evaluator, written the way a lab writes its own harness: PyTorch, its own data.

It scores `cnn` image classifiers (the architecture of the mnist-noniid demo zoo) on IDX files (the MNIST
format). EvolverActors starts one worker per configured device and talks to it over stdin/stdout, one JSON
object per line (docs/external-evaluators.md):

    request:  {"id": 7, "checkpoint": "/dev/shm/evolver/.../candidate-7", "split": "dev"}
    reply:    {"id": 7, "score": 0.9125, "examples": 1000}
    failure:  {"id": 7, "error": "what went wrong"}

Selection uses "dev" only; "test" and "ood" are asked for reports. Anything else the worker wants to say goes to
stderr (EvolverActors logs it): stdout carries replies only. The device is in EVOLVER_DEVICE ("cpu" or "cuda";
for cuda:N, CUDA_VISIBLE_DEVICES=N makes GPU N this process's only one).

    python3 worker.py --data DIR    # DIR holds {dev,test,ood}-images.idx[.gz] and {dev,test,ood}-labels.idx[.gz]
"""
import argparse
import gzip
import json
import os
import struct
import sys

import numpy
import torch
import torch.nn.functional as F
from torch import nn

SAFETENSORS_DTYPES = {
    "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool,
}
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


def read_safetensors(path):
    """A .safetensors file: 8-byte little-endian header length, a JSON header, then raw little-endian bytes."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = bytearray(f.read())
    tensors = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        start, end = spec["data_offsets"]
        dtype = SAFETENSORS_DTYPES[spec["dtype"]]
        flat = torch.frombuffer(data, dtype=dtype, count=(end - start) // torch.empty(0, dtype=dtype).element_size(), offset=start) \
            if end > start else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(spec["shape"]).clone()
    return tensors


def load_checkpoint(path):
    """A Hugging Face checkpoint: a .safetensors file, a directory with model.safetensors, or a sharded index."""
    if os.path.isfile(path) and path.endswith(".json"):
        directory, index = os.path.dirname(path), path
    elif os.path.isfile(path):
        return read_safetensors(path)
    else:
        directory, index = path, os.path.join(path, "model.safetensors.index.json")
        single = os.path.join(path, "model.safetensors")
        if os.path.exists(single):
            return read_safetensors(single)
    with open(index) as f:
        shards = sorted(set(json.load(f)["weight_map"].values()))
    tensors = {}
    for shard in shards:
        tensors.update(read_safetensors(os.path.join(directory, shard)))
    return tensors


IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """An IDX file (optionally gzipped): magic 0 0 type ndims, big-endian int32 dims, then big-endian data."""
    with open(path, "rb") as f:
        gzipped = f.read(2) == b"\x1f\x8b"
    with (gzip.open if gzipped else open)(path, "rb") as f:
        zero, kind, ndims = struct.unpack(">HBB", f.read(4))
        if zero != 0 or kind not in IDX_TYPES:
            raise ValueError(f"{path}: not an IDX file (magic {zero:#x}, type {kind:#x})")
        dims = struct.unpack(">" + "I" * ndims, f.read(4 * ndims))
        values = numpy.frombuffer(f.read(), dtype=IDX_TYPES[kind]).astype(IDX_TYPES[kind][1:])
    return torch.from_numpy(values.reshape(dims).copy())


def find(directory, name):
    for candidate in (name, name + ".gz", name.replace(".idx", ".idx.gz")):
        if os.path.exists(os.path.join(directory, candidate)):
            return os.path.join(directory, candidate)
    return None


class Cnn(nn.Module):
    """The `cnn` family: conv 3x3 (16) → max-pool → conv 3x3 (32) → max-pool → linear → 64 → classes."""

    def __init__(self, classes, image_size):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc1 = nn.Linear(32 * (image_size // 4) ** 2, 64)
        self.classifier = nn.Linear(64, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.classifier(F.relu(self.fc1(x.flatten(1))))


class Harness:
    def __init__(self, data_dir, device, batch_size):
        self.data_dir, self.device, self.batch_size = data_dir, device, batch_size
        self.splits = {}

    def split(self, name):
        if name not in self.splits:
            images, labels = find(self.data_dir, f"{name}-images.idx"), find(self.data_dir, f"{name}-labels.idx")
            if images is None or labels is None:
                raise ValueError(f"no {name}-images.idx / {name}-labels.idx in {self.data_dir}")
            pixels = read_idx(images)
            # Unsigned bytes are 0..255; float IDX files hold pixels already in [0, 1].
            x = (pixels.float().div_(255) if pixels.dtype == torch.uint8 else pixels.float()).sub_(MNIST_MEAN).div_(MNIST_STD).unsqueeze(1)
            self.splits[name] = (x.to(self.device), read_idx(labels).long().to(self.device))
        return self.splits[name]

    @torch.no_grad()
    def score(self, checkpoint, split):
        weights = load_checkpoint(checkpoint)
        x, y = self.split(split)
        model = Cnn(weights["classifier.weight"].shape[0], x.shape[-1])
        model.load_state_dict({k: v.float() for k, v in weights.items()})
        model.to(self.device).eval()
        correct = sum(int((model(x[i:i + self.batch_size]).argmax(1) == y[i:i + self.batch_size]).sum())
                      for i in range(0, len(y), self.batch_size))
        return {"score": correct / len(y), "examples": len(y)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="directory with {split}-images.idx and {split}-labels.idx")
    parser.add_argument("--batch-size", type=int, default=512)
    args = parser.parse_args()
    wanted = os.environ.get("EVOLVER_DEVICE", "cpu")
    device = torch.device(wanted if wanted != "cuda" or torch.cuda.is_available() else "cpu")
    torch.set_num_threads(max(1, int(os.environ.get("WORKER_THREADS", "1"))))
    harness = Harness(args.data, device, args.batch_size)
    print(f"worker ready on {device} (pid {os.getpid()})", file=sys.stderr, flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            reply = harness.score(request["checkpoint"], request.get("split", "dev"))
        except Exception as e:  # the service counts it as a failed evaluation and goes on
            reply = {"error": f"{type(e).__name__}: {e}"}
        reply["id"] = request.get("id")
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
