#!/usr/bin/python3
"""The machine-readable card of the Fashion-MNIST models: one entry per model, merged.

train.py writes each model's entry (NAME.json) beside its NAME.onnx and NAME.predictions.txt.
This script checks the entries against their files, copies the files into the card's directory
and writes card.json there: the dataset, then the entries in the order given.

    /usr/bin/python3 tools/train/card.py --out models/pretrained/fashion-mnist \\
        tools/train/out/fashion-mnist-seed1/*.json

tools/evaluate.ts reads the card, and the entry format is documented in tools/train/README.md.
"""

import argparse
import hashlib
import json
import os
import shutil
import sys

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Ankle boot"]

DATASET = {
    "name": "Fashion-MNIST",
    "source": "Debian's dataset-fashion-mnist: /usr/share/datasets/fashion-mnist",
    "license": "MIT (Zalando Research)",
    "train": {"images": "train-images-idx3-ubyte.gz", "labels": "train-labels-idx1-ubyte.gz",
              "count": 60000},
    "test": {"images": "t10k-images-idx3-ubyte.gz", "labels": "t10k-labels-idx1-ubyte.gz",
             "count": 10000},
}


def number(value):
    """A width or scale as the builders' model names write it: 1 -> "1.0", 0.5 -> "0.5"."""
    return f"{value:.1f}" if float(value).is_integer() else repr(float(value))


def model_entry(name, architecture, options, ablation, onnx_bytes, opset, resolution, channels,
                pad, mean, std, accuracy, test_images, cost, training):
    """One model's entry of card.json."""
    side = resolution - 2 * pad
    return {
        "name": name,
        "file": f"{name}.onnx",
        "bytes": len(onnx_bytes),
        "sha256": hashlib.sha256(onnx_bytes).hexdigest(),
        "predictions": f"{name}.predictions.txt",
        "architecture": architecture,
        "options": options,
        "ablation": ablation,
        "onnx": {"opset": opset, "batchNorm": "folded into the convolutions by the exporter",
                 "input": "image", "output": "logits"},
        "input": {"shape": ["batch", channels, resolution, resolution], "layout": "NCHW",
                  "channels": channels},
        "preprocessing": {
            "image": [side, side],
            "replicate": 1,
            "pad": [pad, pad, pad, pad],
            "padValue": 0,
            "mean": mean,
            "std": std,
            "channels": channels,
            "description": (
                f"each {side}x{side} 8-bit gray image, zero-padded by {pad} pixels on every side "
                f"(top, left, bottom, right) to {resolution}x{resolution}; each value v becomes "
                f"(v - {mean}) / {std} computed in float64 and rounded once to float32; the "
                f"plane is copied to all {channels} channels (NCHW)"),
        },
        "classes": CLASSES,
        "torch": {"testAccuracy": round(accuracy, 6), "testImages": test_images},
        "cost": cost,
        "training": training,
    }


def write_json(path, value):
    with open(path, "w") as file:
        json.dump(value, file, indent=2, ensure_ascii=False)
        file.write("\n")


def checked(entry_path):
    """The entry at entry_path, after checking its ONNX file and predictions against it."""
    directory = os.path.dirname(os.path.abspath(entry_path))
    with open(entry_path) as file:
        entry = json.load(file)
    with open(os.path.join(directory, entry["file"]), "rb") as file:
        data = file.read()
    if len(data) != entry["bytes"] or hashlib.sha256(data).hexdigest() != entry["sha256"]:
        sys.exit(f"{entry_path}: {entry['file']} is not the file the entry describes")
    with open(os.path.join(directory, entry["predictions"])) as file:
        predictions = file.read().rstrip("\n")
    count = entry["torch"]["testImages"]
    if len(predictions) != count or not predictions.isdigit():
        sys.exit(f"{entry_path}: {entry['predictions']} must hold {count} digits")
    return directory, entry


def main(argv):
    parser = argparse.ArgumentParser(description="Merge model entries into card.json.")
    parser.add_argument("--out", required=True, help="the card's directory")
    parser.add_argument("entries", nargs="+", help="NAME.json files written by train.py")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    models = []
    for path in args.entries:
        directory, entry = checked(path)
        if any(model["name"] == entry["name"] for model in models):
            sys.exit(f"{path}: a second entry named {entry['name']}")
        for key in ("file", "predictions"):
            source = os.path.join(directory, entry[key])
            target = os.path.join(args.out, entry[key])
            if os.path.abspath(source) != os.path.abspath(target):
                shutil.copyfile(source, target)
        models.append(entry)
    write_json(os.path.join(args.out, "card.json"), {"dataset": DATASET, "models": models})
    print(f"wrote {os.path.join(args.out, 'card.json')}: {len(models)} model(s)")


if __name__ == "__main__":
    main(sys.argv[1:])
