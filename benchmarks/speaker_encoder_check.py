"""Our speaker encoder (as shipped: the ONNX graph on onnxruntime) against
Resemblyzer's own network in PyTorch.

Two steps, the second in a scratch environment that has torch (never a
dependency of the product):

    python -m benchmarks.speaker_encoder_check save --out build/bench/encoder.npz
    python -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch==2.13.0 numpy
    /tmp/torchenv/bin/python benchmarks/speaker_encoder_check.py torch \\
        --npz build/bench/encoder.npz \\
        --weights .venv/lib/python3.11/site-packages/resemblyzer/pretrained.pt

``save`` takes ``--clips`` real utterances of each dev corpus (16 kHz,
volume-normalised as Resemblyzer does), cuts 1.6 s partials, and stores
their mel frames with our embeddings. ``torch`` builds Resemblyzer's
``VoiceEncoder`` network (``nn.LSTM(40, 256, 3)``, ``nn.Linear(256, 256)``,
ReLU, L2 norm), loads the wheel's ``pretrained.pt`` with ``torch.load``,
embeds the same frames and prints the largest absolute difference and the
lowest cosine similarity.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np


def save(args) -> None:
    from benchmarks import corpora
    from sentiment_model import speaker_encoder as se

    data = args.data or corpora.DATA_ROOT
    from sentiment_model.audio import resample

    rng = np.random.default_rng(0)
    mels = []
    for corpus in corpora.CORPORA:
        rows = corpora.load_rows(corpus, data_root=data)
        for k in rng.choice(len(rows), args.clips, replace=False):
            y, rate = corpora.read_mono(rows[int(k)]["path"])
            y = se.normalise_volume(resample(y, rate, se.RATE))
            frames = se.mel_frames(y)
            if len(frames) < se.PARTIAL_FRAMES:
                frames = np.pad(frames, ((0, se.PARTIAL_FRAMES - len(frames)), (0, 0)))
            mels.append(frames[:se.PARTIAL_FRAMES])
    mels = np.stack(mels)
    ours = se.SpeakerEncoder().embed_frames(mels)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    np.savez(args.out, mels=mels, ours=ours)
    print(f"saved {len(mels)} partials to {args.out}", file=sys.stderr)


def torch_side(args) -> None:
    import torch
    from torch import nn

    lstm, linear = nn.LSTM(40, 256, 3, batch_first=True), nn.Linear(256, 256)
    state = torch.load(args.weights, map_location="cpu", weights_only=False)["model_state"]
    lstm.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("lstm.")})
    linear.load_state_dict({k[7:]: v for k, v in state.items() if k.startswith("linear.")})
    saved = np.load(args.npz)
    with torch.no_grad():
        _, (hidden, _) = lstm(torch.from_numpy(saved["mels"]))
        raw = torch.relu(linear(hidden[-1]))
        theirs = (raw / torch.norm(raw, dim=1, keepdim=True)).numpy()
    ours = saved["ours"]
    print(f"torch {torch.__version__}: {len(ours)} partials, largest |difference| "
          f"{np.abs(ours - theirs).max():.2e}, lowest cosine {np.sum(ours * theirs, 1).min():.7f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="step", required=True)
    s = sub.add_parser("save")
    s.add_argument("--data", default=None, help="the corpora (default: ../shared/data)")
    s.add_argument("--clips", type=int, default=20)
    s.add_argument("--out", default="build/bench/encoder.npz")
    t = sub.add_parser("torch")
    t.add_argument("--npz", default="build/bench/encoder.npz")
    t.add_argument("--weights", required=True)
    args = parser.parse_args(argv)
    if args.step == "save":
        save(args)
    else:
        torch_side(args)


if __name__ == "__main__":
    main()
