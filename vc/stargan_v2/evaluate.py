"""Objective scores for a trained StarGAN v2, judged by a classifier trained on real images.

For every held-out input and every *other* domain (the paper's protocol):

* latent-guided: ``num_outputs`` random styles of the target domain. Domain accuracy is how
  often the classifier puts an output in the target domain; diversity is the mean pairwise
  distance between the outputs of one input (L1 on [0, 1] pixels, LPIPS when available).
* reference-guided: ``num_refs`` held-out references of the target domain. Domain accuracy as
  above and, when the data has attributes besides the domains (the font set's bold and
  oblique, never shown to the model), *style transfer*: how often the classifier reads each
  such attribute of the output as the reference's value. Next to it, the agreement of the
  source's own value with the reference's: what a translator that ignored the reference would
  score.

The classifier's own accuracy on the real held-out images (domain and each such attribute) is
reported beside them: the ceiling of each score, and the proof that a miss is the translator's
(a judge that reads the real attribute well while the transfer sits at the rate of ignoring the
reference shows that the translator, not the judge, misses it).
Where the data has paired renderings (the font set: every glyph in every style), the outputs are
also compared with the true renderings of the *input's* glyph in the target domain (L1 on [0, 1]
pixels): reference-guided outputs with the rendering in the reference's style, latent-guided ones
with the nearest of the target domain's renderings. Domain and style accuracy cannot see a
translator that drops its input and draws some other glyph of the right family; this does. The
input left unchanged is scored beside it.

The classifier is an ensemble of judges read through their mean logits; the domain accuracies
each judge alone would report are given too (``judges``), as their spread is the score's
uncertainty due to the judge.

StarGAN (v1) is deterministic for a fixed target label, so its diversity is exactly 0.
"""
from __future__ import annotations

import logging
from typing import Any

import torch
from torch import Tensor
from tqdm import tqdm

from vc.image.classifier import member_logits
from vc.image.datasets import DataError
from vc.image.domain_data import DomainSet, step_generator
from vc.image.labels import LabelSpace
from vc.stargan_v2.config import DiversityEvalConfig
from vc.stargan_v2.diversity import LpipsDistance, mean_pairwise, mean_pairwise_l1
from vc.stargan_v2.translate import StyleTranslator

log = logging.getLogger(__name__)


class Judge:
    """The evaluation classifier read as domains and as free (style) attributes."""

    def __init__(self, classifier: torch.nn.Module, space: LabelSpace, domains: tuple[str, ...], batch_size: int = 64):
        self.classifier, self.space, self.batch_size = classifier, space, batch_size
        self.domain_cols = [space.index(d) for d in domains]
        grouped = set(domains)
        self.style_names = [n for n in space.names if n not in grouped]
        self.device = next(classifier.parameters()).device

    @torch.no_grad()
    def member_logits(self, x: Tensor) -> Tensor:
        """(K, N, C): the logits of each of the ensemble's K judges."""
        return torch.cat([member_logits(self.classifier, c.to(self.device)).float().cpu()
                          for c in x.split(self.batch_size)], dim=1)

    def read(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(domain index (N,), style attribute values (N, S) as 0/1) of images ``x``."""
        domain, styles, _ = self.read_with_members(x)
        return domain, styles

    def read_with_members(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """:meth:`read` plus the domain index each judge alone reads (K, N)."""
        each = self.member_logits(x)
        logits = each.mean(dim=0)
        domain = logits[:, self.domain_cols].argmax(dim=1)
        styles = self.space.decode(logits)[:, [self.space.index(n) for n in self.style_names]]
        return domain, styles, each[:, :, self.domain_cols].argmax(dim=2)

    def true_styles(self, ds: DomainSet, idx: Tensor) -> Tensor:
        return ds.dataset.labels[idx][:, [self.space.index(n) for n in self.style_names]]


class ContentTruth:
    """The true renderings of each held-out glyph, by (content id, domain) and by exact labels."""

    def __init__(self, ds: DomainSet):
        data = ds.dataset
        self.ds, self.content = ds, data.content_ids
        self.exact = data.ground_truth_index()
        self.by_domain: dict[tuple[str, int], list[int]] = {}
        for i, (c, d) in enumerate(zip(data.content_ids, ds.domain.tolist())):
            self.by_domain.setdefault((c, d), []).append(i)

    def nearest_l1(self, outs: Tensor, item: int, domain: int) -> Tensor | None:
        """(M,) L1 of each of ``outs`` (M, C, H, W) to the nearest rendering of ``item``'s content
        in ``domain`` (any style); None when there is none."""
        found = self.by_domain.get((self.content[item], domain))
        if not found:
            return None
        return _l1(outs[:, None], self.ds.images(found)[None]).amin(dim=1)

    def styled(self, item: int, like: int) -> int | None:
        """The rendering of ``item``'s content with the labels of item ``like`` (None: not rendered)."""
        labels = tuple(int(v) for v in self.ds.dataset.labels[like].tolist())
        return self.exact.get((self.content[item], labels))


def _l1(a: Tensor, b: Tensor) -> Tensor:
    """Mean absolute difference over (C, H, W) on the [0, 1] pixel scale (inputs in [-1, 1])."""
    return (a - b).abs().flatten(-3).mean(-1) / 2.0


class _Mean:
    def __init__(self) -> None:
        self.total, self.count = 0.0, 0

    def add(self, values: Tensor) -> None:
        self.total += float(values.float().sum())
        self.count += values.numel()

    def value(self) -> float | None:
        return self.total / self.count if self.count else None


def evaluate(tr: StyleTranslator, judge: Judge, test_set: DomainSet, cfg: DiversityEvalConfig, *,
                lpips: LpipsDistance | None = None, lpips_reason: str = "", seed: int = 0,
                chunk: int = 32) -> dict[str, Any]:
    """Scores on the first ``cfg.limit`` held-out images (all when 0); see the module doc."""
    if tuple(test_set.names) != tr.domains:
        raise DataError(f"the data's domains {list(test_set.names)} differ from the model's {list(tr.domains)}")
    n = min(cfg.limit, len(test_set)) if cfg.limit else len(test_set)
    g = step_generator(seed, 1)
    acc = {m: _Mean() for m in ("latent", "reference")}
    names = tr.domains
    by_pair = {(a, b): {m: _Mean() for m in acc} for a in names for b in names if a != b}
    div_l1 = {m: _Mean() for m in ("latent", "reference")}
    div_lp = {m: _Mean() for m in ("latent", "reference")}
    style_hit = {s: _Mean() for s in judge.style_names}
    style_base = {s: _Mean() for s in judge.style_names}
    real_dom = _Mean()
    per_judge: dict[str, list[_Mean]] = {m: [] for m in ("real", "latent", "reference")}
    real_style_hit = {s: _Mean() for s in judge.style_names}  # the judge's own ceiling on each style
    truth = ContentTruth(test_set) if test_set.dataset.content_ids is not None else None
    content_l1 = {(m, who): _Mean() for m in ("latent", "reference") for who in ("output", "input")}
    k_dom = len(tr.domains)
    for start in tqdm(range(0, n, chunk), desc="evaluate", unit="chunk"):
        idx = torch.arange(start, min(n, start + chunk))
        x, y = test_set.images(idx), test_set.domain[idx]
        src_styles = judge.true_styles(test_set, idx)
        real_domain, real_styles, each = judge.read_with_members(x)
        real_dom.add(real_domain == y)
        _add_each(per_judge["real"], each == y)
        for j, name in enumerate(judge.style_names):
            real_style_hit[name].add(real_styles[:, j] == src_styles[:, j])
        for k in range(k_dom):
            rows = torch.nonzero(y != k).flatten()
            if not len(rows):
                continue
            xs = x[rows]
            z = torch.randn(cfg.num_outputs, tr.latent_dim, generator=g)
            lat = torch.stack([tr.generate(xs, s) for s in tr.latent_styles(z, k)], dim=1)
            members = test_set.members[k]
            pick = members[torch.randint(len(members), (len(rows), cfg.num_refs), generator=g)]
            refs = test_set.images(pick.flatten())
            ref_styles = tr.reference_styles(refs, k).view(len(rows), cfg.num_refs, -1)
            ref = torch.stack([tr.generate(xs, ref_styles[:, j]) for j in range(cfg.num_refs)], dim=1)
            for mode, outs in (("latent", lat), ("reference", ref)):
                dom, styles, each = judge.read_with_members(outs.flatten(0, 1))
                acc[mode].add(dom == k)
                hits = (dom == k).view(len(rows), -1)
                for j in range(k_dom):
                    if j != k:
                        by_pair[names[j], names[k]][mode].add(hits[y[rows] == j])
                _add_each(per_judge[mode], each == k)
                if outs.shape[1] > 1:
                    div_l1[mode].add(torch.stack([mean_pairwise_l1(o[None]) for o in outs]))
                    if lpips is not None:
                        div_lp[mode].add(torch.stack([mean_pairwise(o[None], lpips) for o in outs]))
                if mode == "reference" and judge.style_names:
                    want = judge.true_styles(test_set, pick.flatten())
                    src = src_styles[rows].repeat_interleave(cfg.num_refs, dim=0)
                    for j, name in enumerate(judge.style_names):
                        style_hit[name].add(styles[:, j] == want[:, j])
                        style_base[name].add(src[:, j] == want[:, j])
            if truth is not None:
                _score_content(truth, content_l1, idx[rows].tolist(), xs, lat, ref, pick, k)
    out: dict[str, Any] = {
        "num_inputs": n, "num_outputs": cfg.num_outputs, "num_refs": cfg.num_refs,
        "classifier_real_domain_accuracy": real_dom.value(),
        "domain_accuracy": {m: a.value() for m, a in acc.items()},
        "domain_accuracy_by_pair": {f"{a}->{b}": {m: v.value() for m, v in ms.items()} for (a, b), ms in by_pair.items()},
        "diversity_l1": {m: d.value() for m, d in div_l1.items()},
        "diversity_lpips": ({m: d.value() for m, d in div_lp.items()} if lpips is not None
                            else f"unavailable: {lpips_reason or 'not requested'}"),
        "stargan_v1_diversity": 0.0,
        "judges": {m: [a.value() for a in v] for m, v in per_judge.items()},
        "content_l1": ({m: {who: content_l1[m, who].value() for who in ("output", "input")} for m in ("latent", "reference")}
                       if truth is not None else "unavailable: the data has no paired renderings (list_content.txt)"),
    }
    if judge.style_names:
        out["classifier_real_style_accuracy"] = {s: real_style_hit[s].value() for s in judge.style_names}
        out["style_transfer"] = {s: style_hit[s].value() for s in judge.style_names}
        out["style_transfer_if_ignored"] = {s: style_base[s].value() for s in judge.style_names}
    return out


def _score_content(truth: ContentTruth, sums: dict[tuple[str, str], _Mean], items: list[int], xs: Tensor,
                   lat: Tensor, ref: Tensor, pick: Tensor, domain: int) -> None:
    """Add the L1 of outputs (and of the unchanged inputs) to the true renderings of their glyphs."""
    for r, item in enumerate(items):
        dist = truth.nearest_l1(torch.cat([lat[r], xs[r:r + 1]]), item, domain)  # outputs, then the input
        if dist is not None:
            sums["latent", "output"].add(dist[:-1])
            sums["latent", "input"].add(dist[-1:])
        for j, like in enumerate(pick[r].tolist()):
            t = truth.styled(item, like)
            if t is not None:
                gt = truth.ds.images([t])[0]
                sums["reference", "output"].add(_l1(ref[r, j], gt).view(1))
                sums["reference", "input"].add(_l1(xs[r], gt).view(1))


def _add_each(means: list[_Mean], hits: Tensor) -> None:
    """Add row k of ``hits`` (K, N) to judge k's running mean."""
    while len(means) < len(hits):
        means.append(_Mean())
    for mean, row in zip(means, hits):
        mean.add(row)


def format_report(result: dict[str, Any]) -> str:
    """Plain-text summary of :func:`evaluate`'s result."""
    def pct(v: float | None) -> str:
        return "n/a" if v is None else f"{100 * v:.1f}%"

    lines = [f"{result['num_inputs']} held-out inputs x other domains; {result['num_outputs']} latent codes and "
             f"{result['num_refs']} references per input and domain",
             f"classifier on real test images: domain accuracy {pct(result['classifier_real_domain_accuracy'])}"
             + "".join(f", {name} {pct(v)}" for name, v in result.get("classifier_real_style_accuracy", {}).items()),
             f"domain accuracy   latent {pct(result['domain_accuracy']['latent'])}   "
             f"reference {pct(result['domain_accuracy']['reference'])}"]
    judges = result.get("judges", {})
    if len(judges.get("latent", [])) > 1:
        def span(values: list[float]) -> str:
            return f"{pct(min(values))}-{pct(max(values))}"

        lines[-1] += f"   ({len(judges['latent'])} judges' mean logits)"
        lines.append(f"each judge alone: real {span(judges['real'])}   latent {span(judges['latent'])}   "
                     f"reference {span(judges['reference'])}")
    pairs = result.get("domain_accuracy_by_pair", {})
    if pairs:
        lines.append("by source -> target (latent / reference): " + "   ".join(
            f"{pair} {pct(v['latent'])} / {pct(v['reference'])}" for pair, v in pairs.items()))
    cl = result.get("content_l1")
    if isinstance(cl, dict):
        lines.append(f"L1 to the true rendering of the input's glyph   latent {cl['latent']['output']:.4f} (nearest "
                     f"style; input unchanged {cl['latent']['input']:.4f})   reference {cl['reference']['output']:.4f} "
                     f"(reference's style; input unchanged {cl['reference']['input']:.4f})")
    d = result["diversity_l1"]
    lines.append(f"diversity (mean pairwise L1, [0,1] pixels)   latent {d['latent']:.4f}   reference "
                 f"{d['reference']:.4f}   StarGAN v1: 0 (deterministic for a fixed label)")
    lp = result["diversity_lpips"]
    lines.append(f"diversity LPIPS   latent {lp['latent']:.4f}   reference {lp['reference']:.4f}" if isinstance(lp, dict)
                 else f"diversity LPIPS   {lp}")
    if "style_transfer" in result:
        for name, v in result["style_transfer"].items():
            lines.append(f"reference style transfer: {name} matches the reference in {pct(v)} of outputs "
                         f"(source's own {name} would match in {pct(result['style_transfer_if_ignored'][name])})")
    return "\n".join(lines)
