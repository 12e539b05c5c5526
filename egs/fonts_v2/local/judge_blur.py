"""How a bundle's judges read the families of real held-out glyphs once they are blurred.

A generator's outputs are softer than the renderings; a judge should read them by their family,
not by their sharpness. This prints, for Gaussian blurs of growing sigma (pixels, edges
replicated, as ``vc.gan.random_blur`` draws them), the judges' domain accuracy on the real
held-out glyphs and how each family is read. Example (from egs/fonts_v2):

    python local/judge_blur.py --model exp/stargan_v2_fonts --data data/fonts16
"""
from __future__ import annotations

import argparse

import torch

from vc.gan import gaussian_blur
from vc.image.classifier import load_classifier
from vc.image.domain_data import build_domain_set
from vc.stargan_v2.bundle import load_bundle
from vc.stargan_v2.evaluate import Judge

SIGMAS = (0.0, 0.4, 0.6, 0.8, 1.0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="StarGAN v2 bundle with its judges (eval_classifier/)")
    p.add_argument("--data", help="evaluation data root (default: the bundle's data.root)")
    args = p.parse_args()
    torch.set_num_threads(1)
    bundle = load_bundle(args.model)
    test = build_domain_set(bundle.cfg, "test", root=args.data)
    classifier = load_classifier(f"{args.model}/eval_classifier", bundle.space, judges=bundle.cfg.evaluation.judges)
    judge = Judge(classifier, bundle.space, bundle.domains)
    x = test.images(range(len(test)))
    names = bundle.domains
    print(f"held-out real glyphs: {len(test)}; each family read as ({' / '.join(names)})")
    for sigma in SIGMAS:
        with torch.no_grad():
            read, _ = judge.read(gaussian_blur(x, sigma))
        parts = []
        for k, name in enumerate(names):
            mine = test.domain == k
            share = torch.bincount(read[mine], minlength=len(names)).float() / mine.sum()
            parts.append(f"{name} " + " / ".join(f"{v:.2f}" for v in share.tolist()))
        acc = (read == test.domain).float().mean().item()
        print(f"blur sigma {sigma:.1f} px: accuracy {acc:.3f}   " + "   ".join(parts))


if __name__ == "__main__":
    main()
