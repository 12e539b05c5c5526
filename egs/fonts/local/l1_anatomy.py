"""Where a font-set StarGAN's L1 to the true rendering comes from.

Translates every held-out (or, with ``--split train``, training) image with every edit of the
evaluation (those that change a label and have a ground-truth rendering, as ``vc-img-evaluate``
counts them) and prints, over all of them, the mean L1 ([0, 1] pixels) of

* the translation, and the input unchanged (the identity baseline), as ``vc-img-evaluate``;
* the translation moved by the best of the nine shifts of at most one pixel per axis (how much of
  the L1 is placement);
* the true rendering blurred by a 3x3 box (how much the metric charges a soft outline alone);
* the translation thresholded at mid-grey (a crisp but otherwise unchanged outline);

then, per rendering (glyph and variant), the translations' mean L1 beside the identity's.

    python local/l1_anatomy.py exp/stargan_fonts [--data data/fonts] [--split train]
"""
import argparse
from collections import defaultdict

import torch
import torch.nn.functional as F

from vc.image.datasets import build_dataset
from vc.stargan.bundle import load_bundle
from vc.stargan.translate import Translator


def _l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a - b).abs().mean((1, 2, 3))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="model bundle folder (vc-img-train)")
    p.add_argument("--data", default="data/fonts", help="the rendered font set (default: data/fonts)")
    p.add_argument("--split", choices=("test", "train"), default="test",
                   help="held-out glyphs (default) or the training glyphs")
    p.add_argument("--max-combos", type=int, default=11, help="as vc-img-evaluate (default: 11)")
    args = p.parse_args()
    bundle = load_bundle(args.model)
    images = build_dataset(bundle.cfg.data, args.split, root=args.data, augment=False)
    if images.content_ids is None:
        raise SystemExit(f"{args.data}: no list_content.txt, so no ground truth to compare with")
    translator, truth_index = Translator(bundle), images.ground_truth_index()
    x = torch.stack([images.image(i) for i in range(len(images))])
    to01 = lambda t: (t.clamp(-1, 1) + 1) / 2  # noqa: E731
    sums: dict[str, float] = defaultdict(float)
    per_content: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    count = 0
    for _, target in bundle.space.column_targets(images.labels, args.max_combos):
        rows, truth_rows = [], []
        for k in range(len(images)):
            key = (images.content_ids[k], tuple(int(v) for v in target[k].tolist()))
            if (target[k] != images.labels[k]).any() and key in truth_index:
                rows.append(k)
                truth_rows.append(truth_index[key])
        if not rows:
            continue
        out = to01(translator.translate(x[rows], target[rows]))
        truth = to01(torch.stack([images.image(j) for j in truth_rows]))
        unchanged = to01(x[rows])
        model, ident = _l1(out, truth), _l1(unchanged, truth)
        shifted = torch.stack([_l1(torch.roll(out, (dy, dx), (2, 3)), truth)
                               for dy in (-1, 0, 1) for dx in (-1, 0, 1)]).min(0).values
        blurred = F.avg_pool2d(F.pad(truth, (1, 1, 1, 1), mode="replicate"), 3, 1)
        sums["translation"] += model.sum().item()
        sums["input unchanged"] += ident.sum().item()
        sums["translation, best 1-px shift"] += shifted.sum().item()
        sums["true rendering, 3x3 blur"] += _l1(blurred, truth).sum().item()
        sums["translation, thresholded"] += _l1((out > 0.5).float(), truth).sum().item()
        count += len(rows)
        for k, m, i in zip(rows, model.tolist(), ident.tolist()):
            c = per_content[images.content_ids[k]]
            c[0], c[1], c[2] = c[0] + m, c[1] + i, c[2] + 1
    print(f"mean L1 over {count} translations ([0, 1] pixels):")
    for name, total in sums.items():
        print(f"  {name:30s} {total / count:.4f}")
    ratios = sorted((m / i, name, m / n, i / n) for name, (m, i, n) in per_content.items())
    print(f"per {args.split} rendering (translation / unchanged), {len(ratios)} renderings, "
          f"{sum(r < 1 for r, *_ in ratios)} closer after translation:")
    for r, name, m, i in ratios:
        print(f"  {name:10s} {m:.4f} / {i:.4f} = {r:.2f}")


if __name__ == "__main__":
    main()
