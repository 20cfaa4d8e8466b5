#!/usr/bin/env bash
# Trains the seven Fashion-MNIST networks one after another on the CPUs, then writes the card:
# MobileNet v1 at α = 0.25 and 0.125, the α = 0.125 network with dense 3×3 blocks (the MobileNet
# paper's Table 4), and ShuffleNet v1 0.5× at g = 3 and g = 8, each with and without the channel
# shuffle (the ShuffleNet paper's Table 3). tools/train/README.md has the plan: the measured
# seconds per epoch and the expected wall time (under an hour on 2 threads at 12 epochs).
#
#   tools/train/train_all.sh                      # 12 epochs, seed 1, 2 threads
#   LIMIT=256 EPOCHS=1 OUT=/tmp/trial CARD=/tmp/trial/card tools/train/train_all.sh   # a smoke
#
# Environment: EPOCHS (12), SEED (1), THREADS (2), LIMIT (train on the first LIMIT images; unset:
# all), OUT (tools/train/out/fashion-mnist-seed$SEED, where the files and one log per network
# go), CARD (models/pretrained/fashion-mnist; empty: no card). A network whose entry is already in
# OUT is kept, so a run that stopped can be resumed.
set -euo pipefail
cd "$(dirname "$0")/../.."

EPOCHS=${EPOCHS:-12}
SEED=${SEED:-1}
THREADS=${THREADS:-2}
LIMIT=${LIMIT:-}
OUT=${OUT:-tools/train/out/fashion-mnist-seed$SEED}
CARD=${CARD-models/pretrained/fashion-mnist}

# Each line: the name train.py gives the network, then its flags.
NETWORKS=(
  "mobilenet_v1_0.25_32                --arch mobilenet --alpha 0.25"
  "mobilenet_v1_0.125_32               --arch mobilenet --alpha 0.125"
  "mobilenet_v1_fullconv_0.125_32      --arch mobilenet-fullconv --alpha 0.125"
  "shufflenet_v1_0.5x_g3_32            --arch shufflenet --groups 3 --scale 0.5"
  "shufflenet_v1_0.5x_g3_noshuffle_32  --arch shufflenet --groups 3 --scale 0.5 --no-shuffle"
  "shufflenet_v1_0.5x_g8_32            --arch shufflenet --groups 8 --scale 0.5"
  "shufflenet_v1_0.5x_g8_noshuffle_32  --arch shufflenet --groups 8 --scale 0.5 --no-shuffle"
)

mkdir -p "$OUT"
started=$(date +%s)
entries=()
for network in "${NETWORKS[@]}"; do
  read -r name flags <<<"$network"
  entries+=("$OUT/$name.json")
  if [ -f "$OUT/$name.json" ]; then
    echo "$name: already trained in $OUT, kept"
    continue
  fi
  # $flags is split into words on purpose.
  # shellcheck disable=SC2086
  /usr/bin/python3 tools/train/train.py $flags --epochs "$EPOCHS" --seed "$SEED" \
    --threads "$THREADS" ${LIMIT:+--limit "$LIMIT"} --out "$OUT" 2>&1 | tee "$OUT/$name.log"
  if [ ! -f "$OUT/$name.json" ]; then
    echo "train_all.sh: train.py did not write $OUT/$name.json" >&2
    exit 1
  fi
done
echo "trained ${#entries[@]} networks in $(($(date +%s) - started)) s"

if [ -n "$CARD" ]; then
  /usr/bin/python3 tools/train/card.py --out "$CARD" "${entries[@]}"
fi
