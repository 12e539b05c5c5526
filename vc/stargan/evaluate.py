"""Objective scores for a trained image translator, next to the do-nothing baseline.

For every held-out image and every edit of a Figure-4 grid (each single attribute, then the
combined edits) that changes its labels, the translation is judged by a classifier trained separately on real images
(:mod:`vc.image.classifier`): *attribute accuracy* is how often the classifier's reading of an
attribute equals the target's, over all translations (``accuracy``) and over the translations
that changed that attribute (``accuracy_changed``, the stricter number). Where the data has
paired renderings (the font set), the translation is also compared with the ground-truth image
of the same content in the target attributes: mean absolute error and PSNR on the [0, 1] pixel
scale. The ``identity`` method returns the input unchanged: a translator must beat it on every
score but the unchanged attributes' accuracy.

The classifier is an ensemble of judges (:class:`vc.image.classifier.JudgeEnsemble`); the
scores are the ensemble's, and ``judges`` gives each member's own accuracies on the real images
and on the translations, whose spread says how much a score owes to the choice of judge.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from tqdm import tqdm

from vc.image import classifier as clf
from vc.image.datasets import DataError, ImageLabelDataset, build_dataset
from vc.stargan.bundle import load_bundle
from vc.stargan.translate import Translator

log = logging.getLogger(__name__)

METHODS = ("stargan", "identity")


@dataclass
class _Tally:
    """Running counts of one method."""

    dim: int
    correct: Tensor = field(init=False)
    total: int = 0
    changed_correct: Tensor = field(init=False)
    changed_total: Tensor = field(init=False)
    l1_sum: float = 0.0
    psnr_sum: float = 0.0
    pairs: int = 0

    def __post_init__(self) -> None:
        self.correct = torch.zeros(self.dim)
        self.changed_correct = torch.zeros(self.dim)
        self.changed_total = torch.zeros(self.dim)

    def add_labels(self, pred: Tensor, target: Tensor, source: Tensor) -> None:
        hit = (pred == target).float()
        changed = (target != source).float()
        self.correct += hit.sum(0)
        self.total += pred.shape[0]
        self.changed_correct += (hit * changed).sum(0)
        self.changed_total += changed.sum(0)

    def add_pixels(self, out: Tensor, truth: Tensor) -> None:
        diff = (out - truth).flatten(1) / 2.0  # [-1, 1] -> [0, 1] scale
        mse = diff.pow(2).mean(1).clamp_min(1e-10)
        self.l1_sum += float(diff.abs().mean(1).sum())
        self.psnr_sum += float((10.0 * torch.log10(1.0 / mse)).sum())
        self.pairs += out.shape[0]

    def summary(self, names: tuple[str, ...]) -> dict[str, Any]:
        acc = {n: float(c) / max(1, self.total) for n, c in zip(names, self.correct)}
        changed = {n: (float(c) / float(t) if t else None)
                   for n, c, t in zip(names, self.changed_correct, self.changed_total)}
        out: dict[str, Any] = {"accuracy": acc, "accuracy_changed": changed,
                               "mean_accuracy": sum(acc.values()) / len(acc)}
        if self.pairs:
            out["l1"] = self.l1_sum / self.pairs
            out["psnr"] = self.psnr_sum / self.pairs
        return out


@torch.no_grad()
def classify(classifier: torch.nn.Module, x: Tensor, translator: Translator) -> tuple[Tensor, list[Tensor]]:
    """Labels read by the ensemble (mean logits) and by each of its members."""
    dev = next(classifier.parameters()).device
    logits = torch.cat([clf.member_logits(classifier, c.to(dev)).float().cpu() for c in x.split(translator.batch_size)],
                       dim=1)
    decode = translator.space.decode
    return decode(logits.mean(dim=0)), [decode(m) for m in logits]


def evaluate(translator: Translator, classifier: torch.nn.Module, test_set: ImageLabelDataset, *,
             max_combos: int = 11, limit: int = 0, chunk: int = 64) -> dict[str, Any]:
    """Scores of StarGAN and of the identity baseline on ``test_set`` (first ``limit`` images)."""
    space = translator.space
    if test_set.space.names != space.names:
        raise DataError(f"the data's attributes {list(test_set.space.names)} differ from the model's "
                         f"{list(space.names)}")
    n = min(limit, len(test_set)) if limit else len(test_set)
    truth_index = test_set.ground_truth_index() if test_set.content_ids is not None else None
    tallies = {m: _Tally(space.dim) for m in METHODS}
    per_edit: dict[str, dict[str, _Tally]] = {}
    real = _Tally(space.dim)
    judges: dict[str, list[_Tally]] = {"real": [], "stargan": []}
    columns: list[str] = []
    missing_truth = no_ops = 0
    for start in tqdm(range(0, n, chunk), desc="evaluate", unit="chunk"):
        idx = list(range(start, min(n, start + chunk)))
        x = torch.stack([test_set.image(i) for i in idx])
        source = test_set.labels[idx]
        pred_real, members_real = classify(classifier, x, translator)
        real.add_labels(pred_real, source, source)
        _add_members(judges["real"], members_real, source, source)
        targets = space.column_targets(source, max_combos)
        columns = [t for t, _ in targets]
        for title, target in targets:
            # an edit that leaves a row's labels as they are (the source's own hair colour) is
            # not a translation: it is left out, or the identity baseline would score it perfectly
            keep = torch.nonzero((target != source).any(dim=1)).flatten()
            no_ops += len(idx) - len(keep)
            if not len(keep):
                continue
            xs, src, tgt = x[keep], source[keep], target[keep]
            out = translator.translate(xs, tgt)
            pred_out, members_out = classify(classifier, out, translator)
            _add_members(judges["stargan"], members_out, tgt, src)
            truth = rows = None
            if truth_index is not None:
                keys = [(test_set.content_ids[idx[k]], tuple(int(v) for v in t.tolist()))
                        for k, t in zip(keep.tolist(), tgt)]
                found = [(k, truth_index[key]) for k, key in enumerate(keys) if key in truth_index]
                missing_truth += len(keys) - len(found)
                if found:
                    rows = torch.tensor([k for k, _ in found])
                    truth = torch.stack([test_set.image(j) for _, j in found])
            buckets = per_edit.setdefault(title, {m: _Tally(space.dim) for m in METHODS})
            for bucket in (tallies, buckets):
                bucket["stargan"].add_labels(pred_out, tgt, src)
                bucket["identity"].add_labels(pred_real[keep], tgt, src)
                if truth is not None:
                    bucket["stargan"].add_pixels(out[rows], truth)
                    bucket["identity"].add_pixels(xs[rows], truth)
    if missing_truth:
        log.info("%d translations have no ground-truth image in the data", missing_truth)
    return {
        "num_images": n,
        "edits": columns,
        "num_translations": tallies["stargan"].total,
        "num_no_op_edits": no_ops,
        "ground_truth_pairs": tallies["stargan"].pairs,
        "classifier_real_accuracy": real.summary(space.names)["accuracy"],
        "judges": {k: [t.summary(space.names)["accuracy"] for t in v] for k, v in judges.items()},
        "methods": {m: t.summary(space.names) for m, t in tallies.items()},
        "per_edit": {title: {m: _brief(t.summary(space.names)) for m, t in b.items()} for title, b in per_edit.items()},
    }


def _add_members(tallies: list[_Tally], preds: list[Tensor], target: Tensor, source: Tensor) -> None:
    while len(tallies) < len(preds):
        tallies.append(_Tally(target.shape[1]))
    for tally, pred in zip(tallies, preds):
        tally.add_labels(pred, target, source)


def _brief(summary: dict[str, Any]) -> dict[str, Any]:
    """Per-edit scores: the mean attribute accuracy and, with ground truth, L1 and PSNR."""
    return {k: v for k, v in summary.items() if k in ("mean_accuracy", "l1", "psnr")}


def evaluate_bundle(model: str | os.PathLike, data: str | os.PathLike | None = None, *, device: str = "auto",
                    limit: int = 0, ema: bool = True) -> dict[str, Any]:
    """Score the bundle ``model`` on the test split of ``data`` (laid out like its training data;
    default: the bundle's ``data.root``).

    The judging classifier is trained on the real training images of ``data`` the first time
    and kept in ``model/eval_classifier/``. G is the EMA copy where the run kept one, unless
    ``ema=False``.
    """
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    bundle = load_bundle(model, device, ema=ema)
    cfg = bundle.cfg
    data = data or cfg.data.root
    cls_dir = Path(model) / clf.CLASSIFIER_DIR
    if not clf.is_trained(cls_dir, cfg.evaluation):
        log.info("training the evaluation classifier on the real training images of %s", data)
        train_set = build_dataset(cfg.data, "train", root=data)
        clf.train_classifier(cls_dir, train_set, cfg.evaluation, device=device, seed=cfg.seed)
    classifier = clf.load_classifier(cls_dir, bundle.space, device, judges=cfg.evaluation.judges)
    test_set = build_dataset(cfg.data, "test", root=data, augment=False)
    result = evaluate(Translator(bundle), classifier, test_set, max_combos=cfg.evaluation.max_combos, limit=limit)
    return {"model": str(model), "step": bundle.step, "generator": "ema" if bundle.g_is_ema else "trained",
            "data": str(data), **result}


def format_table(result: dict[str, Any]) -> str:
    """Plain-text table: one row per method (and the classifier on real images), one column per
    attribute (accuracy, with the changed-only accuracy in brackets), then L1 and PSNR."""
    methods = result["methods"]
    names = list(result["classifier_real_accuracy"])
    has_px = any("l1" in m for m in methods.values())
    head = ["method"] + names + ["mean"] + (["L1", "PSNR"] if has_px else [])
    rows = [head]
    real = result["classifier_real_accuracy"]
    rows.append(["real (classifier)"] + [f"{real[n]:.3f}" for n in names]
                + [f"{sum(real.values()) / len(real):.3f}"] + (["", ""] if has_px else []))
    for m, r in methods.items():
        cells = [f"{r['accuracy'][n]:.3f} ({_fmt(r['accuracy_changed'][n])})" for n in names]
        row = [m] + cells + [f"{r['mean_accuracy']:.3f}"]
        if has_px:
            row += [f"{r['l1']:.4f}", f"{r['psnr']:.2f}"] if "l1" in r else ["", ""]
        rows.append(row)
    judges = result.get("judges", {})
    if len(judges.get("stargan", [])) > 1:
        for m in ("real", "stargan"):
            accs = judges[m]
            cells = [f"{min(a[n] for a in accs):.3f}-{max(a[n] for a in accs):.3f}" for n in names]
            means = [sum(a.values()) / len(a) for a in accs]
            rows.append([f"{m}, single judges"] + cells + [f"{min(means):.3f}-{max(means):.3f}"]
                        + (["", ""] if has_px else []))
    note = (f"{result['num_images']} images x {len(result['edits'])} edits = {result['num_translations']} translations "
            f"(not counting {result.get('num_no_op_edits', 0)} edits that change nothing); "
            f"attribute accuracy read by {len(judges.get('real', [])) or 1} classifier(s) trained on real images, "
            "mean logits (in brackets: on changed attributes only; 'single judges': lowest-highest of each alone)")
    if has_px:
        note += f"; L1/PSNR against {result['ground_truth_pairs']} ground-truth renderings ([0, 1] pixel scale)"
    if result.get("generator") == "ema":
        note += "; G: the moving average of its weights (optim.ema_beta)"
    out = _align(rows) + [note]
    per_edit = result.get("per_edit", {})
    if per_edit:
        edit_rows = [["edit", "stargan acc", "identity acc"] + (["stargan L1", "identity L1"] if has_px else [])]
        for title, r in per_edit.items():
            row = [title, f"{r['stargan']['mean_accuracy']:.3f}", f"{r['identity']['mean_accuracy']:.3f}"]
            if has_px:
                row += [f"{r['stargan'].get('l1', float('nan')):.4f}", f"{r['identity'].get('l1', float('nan')):.4f}"]
            edit_rows.append(row)
        out += ["", "per edit (mean attribute accuracy; L1 to the ground truth):"] + _align(edit_rows)
    return "\n".join(out)


def _align(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
