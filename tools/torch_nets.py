"""MobileNet v1 and ShuffleNet v1 in PyTorch, layer for layer as the library builds them.

models/mobilenet_v1.ts and models/shufflenet_v1.ts are the definitions; these classes follow them
so that an exported file imports (packages/onnx) into the very graph the builder makes: symmetric
padding, BatchNorm after every convolution, ReLU6 (MobileNet) / ReLU after compress and after the
add or concat (ShuffleNet), no ReLU after the depthwise, the stride-2 unit's 3x3/2 padded average
pool concatenated before the branch, Stage 2's first compress ungrouped. Two ablations, each off
by default, leave the builders' structure otherwise untouched: MobileNet with every
depthwise-separable block as one dense 3x3 convolution, and ShuffleNet without the channel shuffle.

Shared by tools/onnx/export_fixtures.py (random weights: the importer's fixtures) and
tools/train/train.py (trained on Fashion-MNIST), so the two cannot drift apart. Module and
parameter names are part of the exported files (the fixtures must regenerate byte for byte), so
renaming anything here changes them.
"""

import math

import torch
from torch import nn

# models/mobilenet_v1.ts BLOCKS: each depthwise-separable block as (pointwise output channels at
# alpha = 1, depthwise stride), Table 1 of the paper with its last stride-2 typo corrected.
MOBILENET_BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1),
                    (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]

# models/shufflenet_v1.ts: Stage 2's width at 1x by groups (Table 1), conv1's width by scale, and
# the units per stage.
SHUFFLENET_STAGE2_WIDTH = {1: 144, 2: 200, 3: 240, 4: 272, 8: 384}
SHUFFLENET_CONV1_WIDTH = {0.25: 12, 0.5: 12, 1: 24, 1.5: 24, 2: 48}
SHUFFLENET_UNITS = [4, 8, 4]


def mobilenet_channels(channels, alpha):
    """mobilenetChannels: max(floor(channels * alpha), 8), TF-slim's rounding."""
    return max(int(channels * alpha), 8)


def shufflenet_stage2_width(groups, scale):
    """shufflenetStage2Width: Table 1's width times scale, to the nearest multiple of 4 * groups."""
    quantum = 4 * groups
    # Halves round up, as JavaScript's Math.round does (Python's round goes to even).
    multiples = math.floor(SHUFFLENET_STAGE2_WIDTH[groups] * scale / quantum + 0.5)
    return max(quantum, multiples * quantum)


def shufflenet_conv1_channels(groups, scale):
    """shufflenetV1's default conv1 width, raised until Stage 2's first branch splits in groups."""
    width = shufflenet_stage2_width(groups, scale)
    stem = SHUFFLENET_CONV1_WIDTH[scale]
    while (width - stem) % groups != 0:
        stem += 1
    return stem


def conv_bn(inputs, outputs, kernel, stride, groups, eps):
    padding = kernel // 2
    return [
        nn.Conv2d(inputs, outputs, kernel, stride, padding, groups=groups, bias=False),
        nn.BatchNorm2d(outputs, eps=eps),
    ]


class MobileNetV1(nn.Module):
    """mobilenetV1({ alpha, classes }) at any resolution: symmetric padding, ReLU6, BN eps 1e-3.

    full_conv replaces each depthwise-separable block by one dense 3x3 convolution of the same
    stride and output channels, + BN + ReLU6: the MobileNet paper's Table 4 baseline.
    """

    def __init__(self, alpha, classes, eps=1e-3, full_conv=False):
        super().__init__()
        stem = mobilenet_channels(32, alpha)
        layers = conv_bn(3, stem, 3, 2, 1, eps) + [nn.ReLU6()]
        channels = stem
        for width, stride in MOBILENET_BLOCKS:
            out = mobilenet_channels(width, alpha)
            if full_conv:
                layers += conv_bn(channels, out, 3, stride, 1, eps) + [nn.ReLU6()]
            else:
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

    def __init__(self, inputs, outputs, groups, stride, first_groups, eps, shuffle=True):
        super().__init__()
        bottleneck = outputs // 4
        branch = outputs - inputs if stride == 2 else outputs
        self.groups = groups
        self.stride = stride
        self.shuffle = shuffle
        self.compress = nn.Sequential(*conv_bn(inputs, bottleneck, 1, 1, first_groups, eps))
        self.depthwise = nn.Sequential(*conv_bn(bottleneck, bottleneck, 3, stride, bottleneck, eps))
        self.expand = nn.Sequential(*conv_bn(bottleneck, branch, 1, 1, groups, eps))
        # PyTorch's AvgPool2d counts padded cells by default, as shufflenetV1's countIncludePad.
        self.shortcut = nn.AvgPool2d(3, 2, 1) if stride == 2 else None

    def forward(self, x):
        y = torch.relu(self.compress(x))
        if self.shuffle and self.groups > 1:
            y = channel_shuffle(y, self.groups)
        y = self.expand(self.depthwise(y))
        if self.stride == 2:
            return torch.relu(torch.cat([self.shortcut(x), y], 1))
        return torch.relu(x + y)


class ShuffleNetV1(nn.Module):
    """shufflenetV1({ groups, scale, classes }) at any resolution, with its default conv1 width.

    shuffle=False omits every channel shuffle and changes nothing else: the ShuffleNet paper's
    Table 3 comparison.
    """

    def __init__(self, groups, scale, classes, eps=1e-5, shuffle=True):
        super().__init__()
        stage2 = shufflenet_stage2_width(groups, scale)
        stem = shufflenet_conv1_channels(groups, scale)
        self.stem = nn.Sequential(*conv_bn(3, stem, 3, 2, 1, eps), nn.ReLU(),
                                  nn.MaxPool2d(3, 2, 1))
        units = []
        channels = stem
        for stage, count in enumerate(SHUFFLENET_UNITS):
            out = stage2 << stage
            for unit in range(count):
                stride = 2 if unit == 0 else 1
                first_groups = 1 if stage == 0 and unit == 0 else groups
                units.append(ShuffleUnit(channels, out, groups, stride, first_groups, eps, shuffle))
                channels = out
        self.units = nn.Sequential(*units)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.units(self.stem(x))), 1))
