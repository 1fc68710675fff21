#!/usr/bin/env bash
# Rebuilds the bundled model and its drafters from scratch (hours of CPU; every step resumes from
# its newest checkpoint if interrupted, so re-running this script continues where it stopped).
# The committed model was made with these commands; see models/kjv-llama-12m/README.md for the
# run's history (the base run was shortened from 2000 to 1200 steps at step 300).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/kjv-corpus.sh
model=models/kjv-llama-12m
./bin/specdec train-base --corpus data/kjv/train.txt --heldout data/kjv/heldout.txt --out "$model" \
  --seq-len 1024 --context 1024 --batch 4 --micro-batch 1 --steps 1200 --lr 1e-3 --warmup 100 \
  --eval-every 100 --checkpoint-every 50
./bin/specdec train-drafter --type ctc --model "$model" --steps 1500 --self-distill 400
# The Medusa heads train on the same base features (copied, so they are not collected twice).
mkdir -p "$model/drafter-medusa"
[ -d "$model/drafter-medusa/features" ] || cp -r "$model/drafter-ctc/features" "$model/drafter-medusa/"
./bin/specdec train-drafter --type medusa --model "$model" --steps 1500 --self-distill 400
