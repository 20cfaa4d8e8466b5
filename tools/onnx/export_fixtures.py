#!/usr/bin/python3
"""Writes the PyTorch-exported ONNX fixtures of @mobileops/onnx's tests.

MobileNet v1 and ShuffleNet v1, from tools/torch_nets.py (layer for layer as
models/mobilenet_v1.ts and models/shufflenet_v1.ts build them; the trainer in
tools/train uses the same definitions), at a small width and resolution, with
fixed random weights and random BatchNorm statistics. Each network is exported
twice: once in eval mode, where the exporter folds BatchNorm into the
convolutions, and once with its BatchNormalization nodes kept. A fixed input
and torch's output are written next to the files as ONNX TensorProto (.pb),
the format of the ONNX backend test data.

A development tool, not a runtime dependency. Run it with Debian's
python3-torch and python3-onnx:

    /usr/bin/python3 tools/onnx/export_fixtures.py [output directory]

The default output directory is packages/onnx/testdata.
"""

import io
import json
import os
import sys

import onnx
import torch
from onnx import numpy_helper
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from torch_nets import MobileNetV1, ShuffleNetV1, ShuffleUnit  # noqa: E402 (after the path)

SEED = 20240612


def randomize(model, generator):
    """He-uniform weights and non-trivial BatchNorm statistics, so that folding matters."""
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            fan_in = module.weight[0].numel()
            bound = (6 / fan_in) ** 0.5
            module.weight.data.uniform_(-bound, bound, generator=generator)
            if module.bias is not None:
                module.bias.data.uniform_(-0.1, 0.1, generator=generator)
        elif isinstance(module, nn.BatchNorm2d):
            module.weight.data.uniform_(0.5, 1.5, generator=generator)
            module.bias.data.uniform_(-0.2, 0.2, generator=generator)
            module.running_mean.uniform_(-0.3, 0.3, generator=generator)
            module.running_var.uniform_(0.5, 2.0, generator=generator)
    # As models/model.ts does: a residual branch ends with a small BatchNorm scale, so that the
    # sums of a stage keep the activations at a steady scale.
    for module in model.modules():
        if isinstance(module, ShuffleUnit) and module.stride == 1:
            module.expand[1].weight.data.uniform_(0.1, 0.3, generator=generator)


def export(model, example, opset, training):
    buffer = io.BytesIO()
    torch.onnx.export(model, example, buffer, opset_version=opset, training=training,
                      do_constant_folding=True, input_names=["image"], output_names=["logits"])
    return buffer.getvalue()


def count_ops(data):
    ops = {}
    for node in onnx.load_from_string(data).graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    return ops


def write_fixture(directory, name, model, resolution, opsets, config):
    """model.onnx twice (BN folded / kept), input_0.pb, output_0.pb, fixture.json."""
    generator = torch.Generator().manual_seed(SEED)
    randomize(model, generator)
    model.eval()
    example = torch.rand(1, 3, resolution, resolution, generator=generator) * 2 - 1
    with torch.no_grad():
        logits = model(example)
    target = os.path.join(directory, name)
    os.makedirs(target, exist_ok=True)
    files = {}
    for kind, opset, training in [("bn_folded", opsets[0], torch.onnx.TrainingMode.EVAL),
                                  ("bn_kept", opsets[1], torch.onnx.TrainingMode.PRESERVE)]:
        data = export(model, example, opset, training)
        onnx.checker.check_model(onnx.load_from_string(data))
        ops = count_ops(data)
        if (kind == "bn_kept") != ("BatchNormalization" in ops):
            sys.exit(f"{name} {kind}: unexpected BatchNormalization count {ops}")
        with open(os.path.join(target, f"{kind}.onnx"), "wb") as file:
            file.write(data)
        files[kind] = {"file": f"{kind}.onnx", "opset": opset, "bytes": len(data), "ops": ops}
    for stem, tensor in [("input_0", example), ("output_0", logits)]:
        proto = numpy_helper.from_array(tensor.numpy(), stem)
        with open(os.path.join(target, f"{stem}.pb"), "wb") as file:
            file.write(proto.SerializeToString())
    meta = {"model": name, "config": config, "torch": torch.__version__, "onnx": onnx.__version__,
            "seed": SEED, "files": files}
    with open(os.path.join(target, "fixture.json"), "w") as file:
        json.dump(meta, file, indent=2)
        file.write("\n")
    print(name, {kind: (f["opset"], f["bytes"]) for kind, f in files.items()})


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default = os.path.join(here, "..", "..", "packages", "onnx", "testdata")
    directory = os.path.normpath(sys.argv[1] if len(sys.argv) > 1 else default)
    torch.manual_seed(SEED)
    alpha, resolution, classes = 0.125, 64, 10
    write_fixture(directory, "mobilenet_v1", MobileNetV1(alpha, classes), resolution, (13, 9),
                  {"alpha": alpha, "resolution": resolution, "classes": classes,
                   "batchNormEpsilon": 1e-3})
    groups, scale = 3, 0.25
    shufflenet = ShuffleNetV1(groups, scale, classes)
    write_fixture(directory, "shufflenet_v1", shufflenet, resolution, (11, 9),
                  {"groups": groups, "scale": scale, "resolution": resolution,
                   "classes": classes, "conv1Channels": shufflenet.stem[0].out_channels,
                   "batchNormEpsilon": 1e-5})


if __name__ == "__main__":
    main()
