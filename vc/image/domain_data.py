"""Domains of an image set and StarGAN v2's class-balanced batches.

StarGAN v2 conditions on one *domain* per image (cat / dog / wild, female / male, or a font's
family) and must discover everything else (bold, oblique, breed) on its own. A domain set is
an :class:`~vc.image.datasets.ImageLabelDataset` plus each image's domain index: for a
folder-per-domain tree the folders, for a CelebA-layout set one exclusive group of attributes
(the other attributes stay in the labels, unseen by the model, for evaluation).

Batches are a pure function of (seed, rank, step): resuming at step s draws exactly what an
uninterrupted run would, with no sampler state to save. Sources are class-balanced (a domain
uniformly, then an image of it), and so are targets; both references of a step come from the
target domain, as the reference-guided steps need.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import torch
from torch import Tensor

from vc.image.datasets import DataError, ImageLabelDataset, build_dataset

if TYPE_CHECKING:
    from vc.stargan_v2.config import StarGANv2Config


@dataclass
class DomainSet:
    """Images with one domain index each; ``members[k]`` are the item indices of domain k."""

    dataset: ImageLabelDataset
    names: tuple[str, ...]
    domain: Tensor  # (N,) long
    members: list[Tensor]

    def __len__(self) -> int:
        return len(self.dataset)

    def index(self, name: str) -> int:
        if name not in self.names:
            raise DataError(f"unknown domain {name!r}; domains: {', '.join(self.names)}")
        return self.names.index(name)

    def images(self, indices: Sequence[int] | Tensor, flips: Sequence[bool] | Tensor | None = None) -> Tensor:
        idx = [int(i) for i in indices]
        flips = [False] * len(idx) if flips is None else [bool(f) for f in flips]
        return torch.stack([self.dataset.image(i).flip(-1) if f else self.dataset.image(i)
                            for i, f in zip(idx, flips)])


def domain_set(dataset: ImageLabelDataset, domains: Sequence[str] = ()) -> DomainSet:
    """Attach domain indices: ``domains`` names attributes of ``dataset`` (exactly one set per
    image); empty means the data set is single-label and its attributes are the domains."""
    space = dataset.space
    names = tuple(domains) if domains else space.names
    if not domains and not space.single_label:
        raise DataError("this data set has several attributes per image; name the domain attributes (domains: [...])")
    if len(names) < 2:
        raise DataError(f"StarGAN v2 needs at least two domains, got {list(names)}")
    missing = [n for n in names if n not in space.names]
    if missing:
        raise DataError(f"domain(s) {missing} are not attributes of the data ({', '.join(space.names)})")
    cols = dataset.labels[:, [space.index(n) for n in names]]
    count = cols.sum(dim=1)
    bad = torch.nonzero(count != 1).flatten()
    if len(bad):
        i = int(bad[0])
        raise DataError(f"{dataset.paths[i]}: {int(count[i])} of the domains {list(names)} set, exactly one needed "
                        f"({len(bad)} such image(s))")
    domain = cols.argmax(dim=1)
    members = [torch.nonzero(domain == k).flatten() for k in range(len(names))]
    empty = [n for n, m in zip(names, members) if not len(m)]
    if empty:
        raise DataError(f"no images of domain(s) {empty} in {dataset.paths[0].parent}")
    return DomainSet(dataset, names, domain, members)


def build_domain_set(cfg: StarGANv2Config, split: str, root: str | None = None) -> DomainSet:
    """The ``train`` or ``test`` split of ``cfg.data``, with the domains ``cfg.domains``."""
    return domain_set(build_dataset(cfg.data, split, root=root), cfg.domains)


def step_generator(seed: int, step: int, rank: int = 0) -> torch.Generator:
    """A CPU generator determined by (seed, step, rank) alone."""
    return torch.Generator().manual_seed((seed * 1_000_003 + step) * 1_009 + rank)


@dataclass
class DomainDraw:
    """Item indices (and flips) for one training step."""

    src: Tensor  # (B,) items
    src_flip: Tensor
    y_trg: Tensor  # (B,) target domains
    ref: Tensor  # (B,) items of domain y_trg
    ref2: Tensor  # (B,) second items of domain y_trg (different from ref where the domain allows)
    ref_flip: Tensor
    ref2_flip: Tensor


def _pick(members: list[Tensor], domains: Tensor, g: torch.Generator) -> Tensor:
    return torch.stack([members[int(k)][torch.randint(len(members[int(k)]), (1,), generator=g)][0]
                        for k in domains])


def balanced_draw(ds: DomainSet, batch_size: int, g: torch.Generator) -> DomainDraw:
    """Class-balanced sources, uniform target domains and two references from each target."""
    k = len(ds.names)
    y_src = torch.randint(k, (batch_size,), generator=g)
    src = _pick(ds.members, y_src, g)
    y_trg = torch.randint(k, (batch_size,), generator=g)
    ref = _pick(ds.members, y_trg, g)
    ref2 = ref.clone()
    for i, d in enumerate(y_trg.tolist()):
        pool = ds.members[d]
        if len(pool) > 1:
            j = int(torch.randint(len(pool) - 1, (1,), generator=g))
            others = pool[pool != ref[i]]
            ref2[i] = others[j % len(others)]
    flips = torch.rand(3, batch_size, generator=g) < 0.5
    if not ds.dataset.hflip:
        flips.zero_()
    return DomainDraw(src, flips[0], y_trg, ref, ref2, flips[1], flips[2])
