#!/usr/bin/python3
"""Writes the PyTorch-exported ONNX fixtures of @mobileops/onnx's tests.

MobileNet v1 and ShuffleNet v1 are defined here layer for layer as
models/mobilenet_v1.ts and models/shufflenet_v1.ts build them, at a small
width and resolution, with fixed random weights and random BatchNorm
statistics. Each network is exported twice: once in eval mode, where the
exporter folds BatchNorm into the convolutions, and once with its
BatchNormalization nodes kept. A fixed input and torch's output are written
next to the files as ONNX TensorProto (.pb), the format of the ONNX backend
test data.

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

SEED = 20240612


def mobilenet_channels(channels, alpha):
    # models/mobilenet_v1.ts: max(floor(channels * alpha), 8), TF-slim's rounding.
    return max(int(channels * alpha), 8)


def conv_bn(inputs, outputs, kernel, stride, groups, eps):
    padding = kernel // 2
    return [
        nn.Conv2d(inputs, outputs, kernel, stride, padding, groups=groups, bias=False),
        nn.BatchNorm2d(outputs, eps=eps),
    ]


class MobileNetV1(nn.Module):
    """mobilenetV1({ alpha, resolution, classes }): symmetric padding, ReLU6, BN eps 1e-3."""

    BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1),
              (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]

    def __init__(self, alpha, classes, eps=1e-3):
        super().__init__()
        stem = mobilenet_channels(32, alpha)
        layers = conv_bn(3, stem, 3, 2, 1, eps) + [nn.ReLU6()]
        channels = stem
        for width, stride in self.BLOCKS:
            out = mobilenet_channels(width, alpha)
            layers += conv_bn(channels, channels, 3, stride, channels, eps) + [nn.ReLU6()]
            layers += conv_bn(channels, out, 1, 1, 1, eps) + [nn.ReLU6()]
            channels = out
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))


def channel_shuffle(x, groups):
    # ShuffleNet's reshape (g, C/g) -> transpose -> reshape, as exporters write it.
    n, c, h, w = x.shape
    x = x.view(n, groups, c // groups, h, w).transpose(1, 2).contiguous()
    return x.view(n, c, h, w)


class ShuffleUnit(nn.Module):
    """One unit of models/shufflenet_v1.ts: compress, shuffle, depthwise, expand, add or concat."""

    def __init__(self, inputs, outputs, groups, stride, first_groups, eps):
        super().__init__()
        bottleneck = outputs // 4
        branch = outputs - inputs if stride == 2 else outputs
        self.groups = groups
        self.stride = stride
        self.compress = nn.Sequential(*conv_bn(inputs, bottleneck, 1, 1, first_groups, eps))
        self.depthwise = nn.Sequential(*conv_bn(bottleneck, bottleneck, 3, stride, bottleneck, eps))
        self.expand = nn.Sequential(*conv_bn(bottleneck, branch, 1, 1, groups, eps))
        # PyTorch's AvgPool2d counts padded cells by default, as shufflenetV1's countIncludePad.
        self.shortcut = nn.AvgPool2d(3, 2, 1) if stride == 2 else None

    def forward(self, x):
        y = torch.relu(self.compress(x))
        if self.groups > 1:
            y = channel_shuffle(y, self.groups)
        y = self.expand(self.depthwise(y))
        if self.stride == 2:
            return torch.relu(torch.cat([self.shortcut(x), y], 1))
        return torch.relu(x + y)


class ShuffleNetV1(nn.Module):
    """shufflenetV1({ groups, scale, resolution, classes }) with its default conv1 width."""

    def __init__(self, groups, stage2, stem, classes, eps=1e-5):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn(3, stem, 3, 2, 1, eps), nn.ReLU(),
                                  nn.MaxPool2d(3, 2, 1))
        units = []
        channels = stem
        for stage, count in enumerate([4, 8, 4]):
            out = stage2 << stage
            for unit in range(count):
                stride = 2 if unit == 0 else 1
                first_groups = 1 if stage == 0 and unit == 0 else groups
                units.append(ShuffleUnit(channels, out, groups, stride, first_groups, eps))
                channels = out
        self.units = nn.Sequential(*units)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.units(self.stem(x))), 1))


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
    groups, scale, stage2, stem = 3, 0.25, 60, 12
    write_fixture(directory, "shufflenet_v1", ShuffleNetV1(groups, stage2, stem, classes),
                  resolution, (11, 9),
                  {"groups": groups, "scale": scale, "resolution": resolution,
                   "classes": classes, "conv1Channels": stem, "batchNormEpsilon": 1e-5})


if __name__ == "__main__":
    main()
