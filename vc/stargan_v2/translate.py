"""Translate with StarGAN v2: latent-guided (random styles of a domain) and reference-guided
(the style of a given image), and the paper's two grid layouts.

* Latent grid (paper Fig. 1/5 style): one row per input; the input, then for each target domain
  ``num`` columns, each column one fixed latent code (the same code for every row, so a column
  shows one style applied to every input).
* Reference grid (paper Fig. 4 style): a header row of references (blank corner), then one row
  per input: the input and its translation into each reference's style and domain.

Outputs are clamped to the pixel range [-1, 1] (G's output is squashed into it only with
``net.g_tanh``). Everything runs in batches under ``no_grad``; results come back on the CPU.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn as nn
from torch import Tensor

from vc.image.datasets import DataError
from vc.image.domain_data import DomainSet, step_generator


class StyleTranslator:
    """G, F and E (normally the EMA copies) of one StarGAN v2 model."""

    def __init__(self, G: nn.Module, F: nn.Module, E: nn.Module, domains: Sequence[str], latent_dim: int,
                 device: torch.device | str = "cpu", batch_size: int = 32):
        self.G, self.F, self.E = G, F, E
        self.domains = tuple(domains)
        self.latent_dim = latent_dim
        self.device = torch.device(device)
        self.batch_size = batch_size

    def domain_index(self, name: str) -> int:
        if name not in self.domains:
            raise DataError(f"unknown domain {name!r}; this model's domains: {', '.join(self.domains)}")
        return self.domains.index(name)

    def _ids(self, domain: int | Tensor, n: int) -> Tensor:
        if isinstance(domain, Tensor):
            return domain.long().to(self.device)
        return torch.full((n,), int(domain), dtype=torch.long, device=self.device)

    @torch.no_grad()
    def latent_styles(self, z: Tensor, domain: int | Tensor) -> Tensor:
        """F(z, domain): (N, latent_dim) -> (N, style_dim)."""
        return self.F(z.to(self.device), self._ids(domain, z.shape[0]))

    @torch.no_grad()
    def reference_styles(self, refs: Tensor, domain: int | Tensor) -> Tensor:
        """E(refs, domain): (N, C, H, W) -> (N, style_dim)."""
        return torch.cat([self.E(r.to(self.device), d) for r, d in
                          zip(refs.split(self.batch_size), self._ids(domain, refs.shape[0]).split(self.batch_size))])

    @torch.no_grad()
    def generate(self, x: Tensor, styles: Tensor) -> Tensor:
        """G(x, s) for paired rows of ``x`` (N, C, H, W) and ``styles`` (N, S), or one style (S,) for all."""
        if styles.dim() == 1:
            styles = styles.expand(x.shape[0], -1)
        out = [self.G(xc.to(self.device), sc.to(self.device)).float().clamp(-1, 1).cpu()
               for xc, sc in zip(x.split(self.batch_size), styles.split(self.batch_size))]
        return torch.cat(out)

    def latent_codes(self, num: int, seed: int = 0) -> Tensor:
        """``num`` latent codes from a seeded generator (the same codes for the same seed)."""
        return torch.randn(num, self.latent_dim, generator=step_generator(seed, 0))

    def latent_columns(self, x: Tensor, domains: Sequence[int], num: int, seed: int = 0) -> tuple[list[str], list[Tensor]]:
        """Titles and columns of the latent grid: input, then ``num`` styles per domain."""
        titles, cols = ["Input"], [x.cpu()]
        for k in domains:
            z = self.latent_codes(num, seed * 1000 + k)
            for j, s in enumerate(self.latent_styles(z, k)):
                titles.append(f"{self.domains[k]} {j + 1}")
                cols.append(self.generate(x, s))
        return titles, cols

    def reference_columns(self, x: Tensor, refs: Tensor, ref_domains: Tensor) -> tuple[list[str], list[Tensor]]:
        """Titles and columns of the reference grid: each column's first tile is its reference
        (a blank tile above the inputs), the rest the inputs in that reference's style."""
        styles = self.reference_styles(refs, ref_domains)
        blank = torch.ones_like(x[:1]).cpu()
        titles, cols = ["Input"], [torch.cat([blank, x.cpu()])]
        for j in range(refs.shape[0]):
            titles.append(self.domains[int(ref_domains[j])])
            cols.append(torch.cat([refs[j:j + 1].cpu(), self.generate(x, styles[j])]))
        return titles, cols


def _spread(ds: DomainSet, n: int, offset: int) -> list[int]:
    """``n`` items taken round-robin over the domains, evenly spaced through each domain's items
    (so a set sorted by content shows different contents), ``offset`` items further in."""
    per = -(-n // len(ds.members))
    out: list[int] = []
    for j in range(per):
        for m in ds.members:
            item = int(m[(j * len(m) // per + offset) % len(m)])
            if len(out) < n and item not in out:
                out.append(item)
    return out


def pick_inputs(ds: DomainSet, n: int) -> tuple[Tensor, Tensor]:
    """A fixed, domain-balanced choice of ``n`` images: (images, domains)."""
    idx = _spread(ds, n, 0)
    return ds.images(idx), ds.domain[idx]


def pick_references(ds: DomainSet, n: int) -> tuple[Tensor, Tensor]:
    """A fixed, domain-balanced choice of ``n`` images other than :func:`pick_inputs`'s where possible."""
    idx = _spread(ds, n, max(1, min(len(m) for m in ds.members) // 2))
    return ds.images(idx), ds.domain[idx]
