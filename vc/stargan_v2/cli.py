"""StarGAN v2's part of the ``vc-img-translate`` and ``vc-img-evaluate`` front ends: its options
(:func:`add_cli_options`, an argument group of each command) and what the commands run for a
StarGAN v2 bundle (:func:`translate`, :func:`evaluate`). Only argparse is imported up front, so
that ``--help`` stays fast.
"""
from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    import torch

    from vc.stargan_v2.bundle import StarGANv2Bundle

log = logging.getLogger("vc.stargan_v2")

LATENT_OUTPUTS = 5  # --latent: outputs per input and domain when --num is not given


def add_cli_options(group: argparse._ArgumentGroup, command: str) -> None:
    """StarGAN v2's own options of ``command`` (``translate`` or ``evaluate``)."""
    if command == "translate":
        group.add_argument("--latent", action="store_true",
                           help="latent-guided: --num random styles of each target domain per input")
        group.add_argument("--ref", nargs="+", metavar="REF",
                           help="reference-guided: the style (and domain) of these images, or folders of images")
        group.add_argument("--domain", help="--latent: target domain(s), comma-separated (default: every domain)")
        group.add_argument("--ref-domain", help="--ref: the references' domain(s), one for all or one per reference; "
                           "default: each reference's folder name if it is a domain, else the bundle's judges")
        group.add_argument("--seed", type=int, default=0, help="--latent: seed of the latent codes (default: 0)")
    elif command == "evaluate":
        group.add_argument("--seed", type=int, default=0, help="seed of the latent codes and references (default: 0)")


def limit_cpu_threads(bundle: StarGANv2Bundle, device: str) -> None:
    """Use the training config's ``trainer.cpu_threads`` on the CPU: for small nets extra intra-op
    threads on busy cores cost more than they give."""
    import torch

    threads = bundle.cfg.trainer.cpu_threads
    if device == "cpu" and threads > 0:
        torch.set_num_threads(threads)


def _load(bundle: StarGANv2Bundle, paths: Sequence[Path]) -> torch.Tensor:
    import torch

    from vc.image.imageio import load_tensor

    d = bundle.cfg.data
    return torch.stack([load_tensor(p, d.channels, d.crop_size, d.image_size) for p in paths])


def ref_domains(bundle: StarGANv2Bundle, refs: Sequence[Path], images: torch.Tensor, spec: str | None) -> torch.Tensor:
    """Domain index of each reference: given, from its folder's name, or read by the judges."""
    import torch

    from vc.cli.img_common import OptionError
    from vc.image.classifier import CLASSIFIER_DIR, load_classifier
    from vc.stargan_v2.evaluate import Judge

    tr = bundle.translator()
    if spec:
        names = [s.strip() for s in spec.split(",")]
        if len(names) == 1:
            names *= len(refs)
        if len(names) != len(refs):
            raise OptionError(f"--ref-domain names {len(names)} domains for {len(refs)} references")
        return torch.tensor([tr.domain_index(n) for n in names])
    if all(p.parent.name in bundle.domains for p in refs):
        return torch.tensor([bundle.domains.index(p.parent.name) for p in refs])
    cdir = bundle.path / CLASSIFIER_DIR
    if not (cdir / "classifier.json").is_file():
        raise OptionError("cannot tell the references' domains: pass --ref-domain (or train the bundle's "
                          "judges with vc-img-judges or vc-img-evaluate)")
    judge = Judge(load_classifier(cdir, bundle.space, judges=bundle.cfg.evaluation.judges), bundle.space,
                  bundle.domains)
    dom, _ = judge.read(images)
    log.info("reference domains read by the judges: %s", [bundle.domains[int(k)] for k in dom])
    return dom


def translate(args: argparse.Namespace) -> None:
    """``vc-img-translate`` for a StarGAN v2 bundle: a latent-guided (``--latent``) or
    reference-guided (``--ref``) grid of ``--src`` images."""
    from vc.cli.img_common import OptionError, check_out, resolve_device
    from vc.image.grid import save_grid
    from vc.image.imageio import image_files
    from vc.stargan_v2.bundle import load_bundle

    if args.latent == bool(args.ref):
        raise OptionError("a StarGAN v2 model needs exactly one of --latent or --ref")
    if not args.src:
        raise OptionError("--src (the input images) is required")
    inputs = image_files(args.src)
    refs_paths = image_files(args.ref) if args.ref else []
    out = Path(args.out)
    check_out(out, inputs + refs_paths)
    num = LATENT_OUTPUTS if args.num is None else args.num
    if num < 1:
        raise OptionError("--num must be >= 1")
    device = resolve_device(args.device)
    bundle = load_bundle(args.model, device, args.checkpoint, ema=not args.no_ema)
    limit_cpu_threads(bundle, device)
    tr = bundle.translator()
    x = _load(bundle, inputs)
    if args.latent:
        names = [s.strip() for s in args.domain.split(",")] if args.domain else list(bundle.domains)
        titles, cols = tr.latent_columns(x, [tr.domain_index(n) for n in names], num, args.seed)
    else:
        refs = _load(bundle, refs_paths)
        titles, cols = tr.reference_columns(x, refs, ref_domains(bundle, refs_paths, refs, args.ref_domain))
    save_grid(out, cols, titles)
    log.info("wrote %s (%d inputs x %d columns)", out, len(inputs), len(cols))


def evaluate(args: argparse.Namespace) -> dict:
    """``vc-img-evaluate`` for a StarGAN v2 bundle: domain accuracy of latent- and reference-guided
    outputs, diversity and style transfer (:mod:`vc.stargan_v2.evaluate`); writes ``--out``
    (default ``EXP/eval/scores_v2.json``)."""
    from vc.cli.img_common import resolve_device
    from vc.evaluate.results import environment
    from vc.fileio import atomic_write_text
    from vc.image.classifier import CLASSIFIER_DIR, is_trained, load_classifier, train_classifier
    from vc.image.domain_data import build_domain_set
    from vc.stargan_v2.bundle import load_bundle
    from vc.stargan_v2.diversity import load_lpips
    from vc.stargan_v2.evaluate import Judge, evaluate, format_report

    device = resolve_device(args.device)
    bundle = load_bundle(args.model, device, ema=not args.no_ema)
    limit_cpu_threads(bundle, device)
    cfg = bundle.cfg
    test_set = build_domain_set(cfg, "test", root=args.data)
    cdir = bundle.path / CLASSIFIER_DIR
    if not is_trained(cdir, cfg.evaluation):
        log.info("training the evaluation classifier on real training images (%s)", cdir)
        train_set = build_domain_set(cfg, "train", root=args.data)
        train_classifier(cdir, train_set.dataset, cfg.evaluation, device=device, seed=cfg.seed)
    judge = Judge(load_classifier(cdir, bundle.space, device, judges=cfg.evaluation.judges), bundle.space,
                  bundle.domains)
    dcfg = cfg.diversity
    if args.limit is not None:
        dcfg.limit = args.limit
    lp, why = load_lpips(device=device) if dcfg.lpips else (None, "disabled (diversity.lpips: false)")
    result = evaluate(bundle.translator(), judge, test_set, dcfg, lpips=lp, lpips_reason=why, seed=args.seed)
    result["step"] = bundle.step
    out = Path(args.out) if args.out else bundle.path / "eval" / "scores_v2.json"
    atomic_write_text(out, json.dumps({**result, "environment": environment()}, indent=1) + "\n")
    print(format_report(result))
    log.info("scores written to %s", out)
    return result
