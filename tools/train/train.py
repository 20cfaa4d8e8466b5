#!/usr/bin/python3
"""Trains one MobileNet v1 or ShuffleNet v1 on Fashion-MNIST and exports it for @mobileops/onnx.

The network comes from tools/torch_nets.py, layer for layer as models/mobilenet_v1.ts and
models/shufflenet_v1.ts build it. It is trained on the 60,000 training images with the fixed
hyper-parameters below (chosen before any run, never tuned on the test set), evaluated once on
the 10,000 test images, and written to --out as

    NAME.onnx              opset 13, BatchNorm folded, batch axis dynamic
    NAME.predictions.txt   torch's class for each test image, one digit each, in test-set order
    NAME.json              the model's card entry (tools/train/card.py merges them)

A development tool, not a runtime dependency: Debian's python3-torch and python3-onnx, the data
from Debian's dataset-fashion-mnist, no network access. tools/train/README.md has the commands.

    /usr/bin/python3 tools/train/train.py --arch shufflenet --groups 3 --scale 0.5 --epochs 4
"""

import argparse
import gzip
import io
import math
import os
import shlex
import struct
import sys
import time

import onnx
from onnx import numpy_helper
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import card  # noqa: E402 (after the path; card.py sits beside this file)
from torch_nets import MobileNetV1, ShuffleNetV1  # noqa: E402 (after the path)

DATA_DIR = "/usr/share/datasets/fashion-mnist"
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

# The input: each 28x28 image zero-padded by 2 pixels on every side to 32x32, the smallest
# resolution the builders take (a multiple of 32), so no pixel is interpolated or repeated.
SIZE = 28
PAD = 2
RESOLUTION = SIZE + 2 * PAD
# The builders' first convolution reads 3 channels; the gray plane is copied into all three, so
# the imported graph is the builder's own.
CHANNELS = 3

# Fixed before any training run (tools/train/README.md, "Training").
BATCH = 128
PEAK_LR = 0.1
MOMENTUM = 0.9
WEIGHT_DECAY = 4e-5
WARMUP_FRACTION = 0.03
OPSET = 13


class DataError(Exception):
    """The dataset is missing or malformed; the message says which file and what to install."""


def read_idx(path, kind):
    """An idx-ubyte.gz file as a uint8 tensor: kind 3 = images [N, 28, 28], 1 = labels [N]."""
    if not os.path.exists(path):
        raise DataError(f"{path} is missing: install Debian's dataset-fashion-mnist "
                        "(apt-get install dataset-fashion-mnist) or pass --data DIR")
    with gzip.open(path, "rb") as file:
        data = file.read()
    # The header: two zero bytes, 0x08 (unsigned bytes), the number of dimensions, then each
    # dimension as a big-endian 32-bit integer.
    if len(data) < 4 or data[:3] != b"\0\0\x08" or data[3] != kind:
        raise DataError(f"{path}: not an idx file of {kind} dimension(s) of unsigned bytes")
    shape = struct.unpack(f">{kind}I", data[4:4 + 4 * kind])
    body = data[4 + 4 * kind:]
    if len(body) != math.prod(shape):
        raise DataError(f"{path}: {len(body)} bytes of data for shape {list(shape)}")
    return torch.frombuffer(bytearray(body), dtype=torch.uint8).reshape(shape)


def load_split(directory, split):
    images, labels = (read_idx(os.path.join(directory, name), kind)
                      for name, kind in zip(FILES[split], (3, 1)))
    if images.shape[1:] != (SIZE, SIZE) or len(images) != len(labels):
        raise DataError(f"{directory}: {split} images {list(images.shape)} and labels "
                        f"{list(labels.shape)} do not match")
    return images, labels.long()


def pixel_statistics(images):
    """The training set's pixel mean and (population) standard deviation, 4 decimals.

    The sums are of integers below 2^53, so they are exact in float64 in any order.
    """
    values = images.double()
    count = values.numel()
    mean = values.sum().item() / count
    std = math.sqrt((values * values).sum().item() / count - mean * mean)
    return round(mean, 4), round(std, 4)


def preprocess(images, mean, std):
    """uint8 [N, 28, 28] -> float32 [N, 3, 32, 32], exactly as the card says and evaluate.ts does.

    Zero-pad the 8-bit image by PAD on every side, then (v - mean) / std in float64 rounded once
    to float32, and the gray plane copied to the 3 channels.
    """
    padded = nn.functional.pad(images, (PAD, PAD, PAD, PAD))
    plane = ((padded.double() - mean) / std).float()
    return plane.unsqueeze(1).expand(-1, CHANNELS, -1, -1)


def build(args):
    if args.arch == "shufflenet":
        model = ShuffleNetV1(args.groups, args.scale, len(card.CLASSES),
                             shuffle=not args.no_shuffle)
        options = {"groups": args.groups, "scale": args.scale}
        ablation = "no-shuffle" if args.no_shuffle else "none"
        name = f"shufflenet_v1_{card.number(args.scale)}x_g{args.groups}"
        name += "_noshuffle" if args.no_shuffle else ""
        architecture = "shufflenet_v1"
    else:
        full_conv = args.arch == "mobilenet-fullconv"
        model = MobileNetV1(args.alpha, len(card.CLASSES), full_conv=full_conv)
        options = {"alpha": args.alpha}
        ablation = "full-conv" if full_conv else "none"
        name = f"mobilenet_v1{'_fullconv' if full_conv else ''}_{card.number(args.alpha)}"
        architecture = "mobilenet_v1"
    options.update(resolution=RESOLUTION, classes=len(card.CLASSES))
    return model, f"{name}_{RESOLUTION}", architecture, options, ablation


def learning_rate(step, total):
    """Linear warm-up over the first WARMUP_FRACTION of the steps, then cosine decay to 0."""
    warmup = max(1, round(WARMUP_FRACTION * total))
    if step < warmup:
        return PEAK_LR * (step + 1) / warmup
    return PEAK_LR * 0.5 * (1 + math.cos(math.pi * (step - warmup) / (total - warmup)))


def batches(count, generator):
    """One epoch: a fresh permutation in full batches; the count % BATCH left over vary."""
    order = torch.randperm(count, generator=generator)
    return [order[i:i + BATCH] for i in range(0, count - BATCH + 1, BATCH)]


def sgd(model):
    return torch.optim.SGD(model.parameters(), lr=PEAK_LR, momentum=MOMENTUM, nesterov=True,
                           weight_decay=WEIGHT_DECAY)


def train_step(model, optimizer, images, labels, mean, std):
    # channels_last lets oneDNN run the convolutions about 2.5x faster on these CPUs.
    x = preprocess(images, mean, std).contiguous(memory_format=torch.channels_last)
    logits = model(x)
    loss = nn.functional.cross_entropy(logits, labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item(), (logits.argmax(1) == labels).sum().item()


def train(model, images, labels, epochs, seed, mean, std):
    generator = torch.Generator().manual_seed(seed)
    optimizer = sgd(model)
    steps = len(images) // BATCH
    total = epochs * steps
    history = []
    model.train()
    for epoch in range(epochs):
        start = time.perf_counter()
        loss_sum, correct = 0.0, 0
        for i, indices in enumerate(batches(len(images), generator)):
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(epoch * steps + i, total)
            loss, right = train_step(model, optimizer, images[indices], labels[indices], mean, std)
            loss_sum += loss * len(indices)
            correct += right
        seen = steps * BATCH
        history.append({"epoch": epoch + 1, "loss": round(loss_sum / seen, 4),
                        "accuracy": round(correct / seen, 4),
                        "seconds": round(time.perf_counter() - start, 1)})
        print(f"epoch {epoch + 1}/{epochs}: train loss {history[-1]['loss']}, "
              f"train accuracy {history[-1]['accuracy']}, {history[-1]['seconds']} s", flush=True)
    return history


def probe(model, images, labels, steps, seed, mean, std):
    """Seconds per training step over `steps` steps after 2 warm-up steps, and per epoch."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = sgd(model)
    model.train()
    chosen = batches(len(images), generator)[:steps + 2]
    for indices in chosen[:2]:
        train_step(model, optimizer, images[indices], labels[indices], mean, std)
    start = time.perf_counter()
    for indices in chosen[2:]:
        train_step(model, optimizer, images[indices], labels[indices], mean, std)
    per_step = (time.perf_counter() - start) / (len(chosen) - 2)
    return per_step, per_step * (60000 // BATCH)


def predict(model, images, mean, std):
    model.eval()
    with torch.no_grad():
        return torch.cat([model(preprocess(images[i:i + 500], mean, std)).argmax(1)
                          for i in range(0, len(images), 500)])


def cost(model):
    """Multiply-adds and parameters as @mobileops/models' summary counts the imported graph.

    A multiply-add per filter tap (or fully connected input) per output; parameters as the graph
    holds them: each convolution's BatchNorm folded into its weights and a bias.
    """
    totals = {"multiplyAdds": 0, "parameters": 0}

    def count(module, inputs, output):
        taps = module.weight[0].numel()
        totals["multiplyAdds"] += output[0].numel() * taps
        totals["parameters"] += module.weight.numel() + module.weight.shape[0]

    hooks = [module.register_forward_hook(count) for module in model.modules()
             if isinstance(module, (nn.Conv2d, nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, CHANNELS, RESOLUTION, RESOLUTION))
    for hook in hooks:
        hook.remove()
    return totals


def make_batch_dynamic(proto):
    """Traced at batch 1, then the batch axis made dynamic.

    Exported with a dynamic batch axis, torch 1.13 computes the channel shuffle's view sizes
    with Shape -> Gather chains at run time, which the importer (rightly) refuses; traced at a
    fixed batch, it writes them as constants. So the input's and output's first dimension become
    "batch" and each Reshape's leading 1 becomes 0, ONNX's "copy this dimension of the input".
    """
    for value in (proto.graph.input[0], proto.graph.output[0]):
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    del proto.graph.value_info[:]
    constants = {tensor.name: tensor for tensor in proto.graph.initializer}
    for node in proto.graph.node:
        if node.op_type == "Constant" and node.attribute[0].name == "value":
            constants[node.output[0]] = node.attribute[0].t
    for node in proto.graph.node:
        if node.op_type == "Reshape":
            tensor = constants[node.input[1]]
            shape = numpy_helper.to_array(tensor).copy()
            if shape[0] != 1:
                sys.exit(f"Reshape {node.name}: shape {shape.tolist()} does not lead with batch 1")
            shape[0] = 0
            tensor.CopyFrom(numpy_helper.from_array(shape, tensor.name))
    onnx.checker.check_model(proto)
    return proto


def export(model):
    model.eval()
    buffer = io.BytesIO()
    torch.onnx.export(model, torch.zeros(1, CHANNELS, RESOLUTION, RESOLUTION), buffer,
                      opset_version=OPSET, training=torch.onnx.TrainingMode.EVAL,
                      do_constant_folding=True, input_names=["image"], output_names=["logits"])
    return make_batch_dynamic(onnx.load_from_string(buffer.getvalue())).SerializeToString()


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Train one MobileNet v1 / ShuffleNet v1 on Fashion-MNIST and export it.")
    parser.add_argument("--arch", required=True,
                        choices=["mobilenet", "mobilenet-fullconv", "shufflenet"])
    parser.add_argument("--alpha", type=float, default=0.5, help="MobileNet width (default 0.5)")
    parser.add_argument("--scale", type=float, default=0.5, choices=[0.25, 0.5, 1, 1.5, 2],
                        help="ShuffleNet scale (default 0.5)")
    parser.add_argument("--groups", type=int, default=3, choices=[1, 2, 3, 4, 8],
                        help="ShuffleNet groups (default 3)")
    parser.add_argument("--no-shuffle", action="store_true",
                        help="ShuffleNet without its channel shuffles")
    parser.add_argument("--epochs", type=int, default=1, help="default 1")
    parser.add_argument("--seed", type=int, default=1,
                        help="seeds the initial weights and the data order (default 1)")
    parser.add_argument("--threads", type=int, default=2, help="torch's threads (default 2)")
    parser.add_argument("--limit", type=int, help="train on the first N training images (smoke)")
    parser.add_argument("--probe", type=int, metavar="STEPS",
                        help="only time STEPS training steps and print seconds per epoch")
    parser.add_argument("--data", default=DATA_DIR, help=f"dataset directory (default {DATA_DIR})")
    parser.add_argument("--out", default=os.path.join(HERE, "out"),
                        help="output directory (default tools/train/out)")
    args = parser.parse_args(argv)
    if args.arch != "shufflenet" and args.no_shuffle:
        parser.error("--no-shuffle applies to --arch shufflenet")
    if not 0 < args.alpha <= 4:
        parser.error(f"--alpha {args.alpha}: must be above 0 and at most 4")
    if args.limit is not None and not BATCH <= args.limit <= 60000:
        parser.error(f"--limit {args.limit}: must be from {BATCH} (one batch) to 60000")
    for flag in ("epochs", "threads", "probe"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            parser.error(f"--{flag} {value}: must be at least 1")
    return args


def main(argv):
    args = parse_args(argv)
    command = shlex.join([sys.executable, os.path.relpath(sys.argv[0]), *argv])
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    try:
        train_images, train_labels = load_split(args.data, "train")
        test_images, test_labels = load_split(args.data, "test")
    except DataError as error:
        sys.exit(f"train.py: {error}")
    mean, std = pixel_statistics(train_images)
    if args.limit is not None:
        train_images, train_labels = train_images[:args.limit], train_labels[:args.limit]
    model, name, architecture, options, ablation = build(args)
    model = model.to(memory_format=torch.channels_last)
    if args.probe is not None:
        per_step, per_epoch = probe(model, train_images, train_labels, args.probe, args.seed,
                                    mean, std)
        print(f"{name}: {per_step * 1000:.0f} ms per step of {BATCH}, "
              f"{per_epoch:.0f} s per epoch of 60,000 images on {args.threads} thread(s)")
        return
    print(f"{name}: {len(train_images)} training images, {args.epochs} epoch(s), seed {args.seed}, "
          f"{args.threads} thread(s), mean {mean}, std {std}", flush=True)
    start = time.perf_counter()
    history = train(model, train_images, train_labels, args.epochs, args.seed, mean, std)
    train_seconds = time.perf_counter() - start
    model = model.to(memory_format=torch.contiguous_format)
    predictions = predict(model, test_images, mean, std)
    accuracy = (predictions == test_labels).double().mean().item()
    data = export(model)
    wall_seconds = time.perf_counter() - start
    print(f"{name}: torch test accuracy {accuracy:.4f} on {len(test_images)} images, "
          f"{train_seconds:.0f} s training, {wall_seconds:.0f} s in all", flush=True)

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, f"{name}.onnx"), "wb") as file:
        file.write(data)
    with open(os.path.join(args.out, f"{name}.predictions.txt"), "w") as file:
        file.write("".join(str(p) for p in predictions.tolist()) + "\n")
    entry = card.model_entry(
        name=name, architecture=architecture, options=options, ablation=ablation,
        onnx_bytes=data, opset=OPSET, resolution=RESOLUTION, channels=CHANNELS, pad=PAD,
        mean=mean, std=std, accuracy=accuracy, test_images=len(test_images), cost=cost(model),
        training={
            "command": command, "epochs": args.epochs, "seed": args.seed,
            "threads": args.threads, "trainImages": len(train_images),
            "trainSeconds": round(train_seconds, 1), "wallSeconds": round(wall_seconds, 1),
            "batch": BATCH, "optimizer": f"SGD, Nesterov momentum {MOMENTUM}, weight decay "
                                         f"{WEIGHT_DECAY} on every parameter",
            "schedule": f"peak learning rate {PEAK_LR}, linear warm-up over the first "
                        f"{WARMUP_FRACTION:.0%} of the steps, then cosine decay to 0",
            "augmentation": "none", "torch": torch.__version__, "history": history,
        })
    card.write_json(os.path.join(args.out, f"{name}.json"), entry)
    print(f"wrote {os.path.join(args.out, name)}.onnx ({len(data)} bytes), .predictions.txt, .json")


if __name__ == "__main__":
    main(sys.argv[1:])
