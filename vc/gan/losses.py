"""Loss functions shared by every StarGAN-family model.

All adversarial losses take the *raw* discriminator output (a logit or a critic score) of any
shape: ``(B,)`` for a global discriminator or ``(B, ..., H, W)`` for a PatchGAN. Every loss is a
mean over all elements, i.e. over the batch and over the patches, so that a PatchGAN is trained
as if each patch were an independent sample:

* ``nonsaturating`` (alias ``bce``): sigmoid cross-entropy written with ``logsigmoid`` so that
  large logits never give ``log(0)``. For a PatchGAN whose decision is the *product* of per-patch
  probabilities (Kameoka et al. 2018), ``log prod p = sum log p``; the mean of per-patch
  log-probabilities is that log-likelihood divided by the (constant) number of patches.
* ``lsgan``: least squares towards 1 (real) and 0 (fake) on the raw per-patch outputs.
* ``wgan``: critic scores averaged over patches; pair with ``penalties.gradient_penalty``.
* ``hinge``: ``relu(1 - real) + relu(1 + fake)`` per patch.

One interface hides the choice: ``get_adversarial_loss(kind)`` returns an ``AdversarialLoss``
with ``d_loss(real, fake)``, ``d_real_loss``, ``d_fake_loss`` and ``g_loss(fake)``.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor


class AdversarialLoss:
    """The discriminator and generator sides of one adversarial objective."""

    name: str = ""

    def d_real_loss(self, real: Tensor) -> Tensor:
        """Discriminator loss on outputs for real data (lower = more confidently real)."""
        raise NotImplementedError

    def d_fake_loss(self, fake: Tensor) -> Tensor:
        """Discriminator loss on outputs for generated data."""
        raise NotImplementedError

    def d_loss(self, real: Tensor, fake: Tensor) -> Tensor:
        """Full discriminator loss; separate halves exist for tasks that add R1 on the real pass."""
        return self.d_real_loss(real) + self.d_fake_loss(fake)

    def g_loss(self, fake: Tensor) -> Tensor:
        """Generator loss on the discriminator's outputs for generated data."""
        raise NotImplementedError


class NonSaturatingLoss(AdversarialLoss):
    """Goodfellow's GAN loss with the non-saturating generator objective ``-log D(G(z))``."""

    name = "nonsaturating"

    def d_real_loss(self, real: Tensor) -> Tensor:
        return -F.logsigmoid(real).mean()

    def d_fake_loss(self, fake: Tensor) -> Tensor:
        return -F.logsigmoid(-fake).mean()

    def g_loss(self, fake: Tensor) -> Tensor:
        return -F.logsigmoid(fake).mean()


class LSGANLoss(AdversarialLoss):
    """Least-squares GAN (Mao et al.): targets 1 for real, 0 for fake, on raw outputs."""

    name = "lsgan"

    def d_real_loss(self, real: Tensor) -> Tensor:
        return (real - 1.0).pow(2).mean()

    def d_fake_loss(self, fake: Tensor) -> Tensor:
        return fake.pow(2).mean()

    def g_loss(self, fake: Tensor) -> Tensor:
        return (fake - 1.0).pow(2).mean()


class WGANLoss(AdversarialLoss):
    """Wasserstein critic loss; needs a Lipschitz constraint (gradient penalty) to be meaningful."""

    name = "wgan"

    def d_real_loss(self, real: Tensor) -> Tensor:
        return -real.mean()

    def d_fake_loss(self, fake: Tensor) -> Tensor:
        return fake.mean()

    def g_loss(self, fake: Tensor) -> Tensor:
        return -fake.mean()


class HingeLoss(AdversarialLoss):
    """Hinge loss (Lim & Ye; used by SAGAN/BigGAN)."""

    name = "hinge"

    def d_real_loss(self, real: Tensor) -> Tensor:
        return F.relu(1.0 - real).mean()

    def d_fake_loss(self, fake: Tensor) -> Tensor:
        return F.relu(1.0 + fake).mean()

    def g_loss(self, fake: Tensor) -> Tensor:
        return -fake.mean()


_ADVERSARIAL: dict[str, Callable[[], AdversarialLoss]] = {
    "nonsaturating": NonSaturatingLoss,
    "bce": NonSaturatingLoss,
    "lsgan": LSGANLoss,
    "wgan": WGANLoss,
    "wgan-gp": WGANLoss,
    "hinge": HingeLoss,
}

ADVERSARIAL_KINDS: tuple[str, ...] = tuple(_ADVERSARIAL)


def get_adversarial_loss(kind: str) -> AdversarialLoss:
    """Return the adversarial loss called ``kind`` (one of ``ADVERSARIAL_KINDS``)."""
    try:
        return _ADVERSARIAL[kind.lower()]()
    except KeyError:
        raise ValueError(f"unknown adversarial loss {kind!r}; choose one of {', '.join(ADVERSARIAL_KINDS)}") from None


def classification_loss(logits: Tensor, target: Tensor) -> Tensor:
    """Domain-classification loss; the target's dtype picks single- or multi-label.

    * integer ``target`` of shape ``(B,)``: softmax cross-entropy over ``logits`` ``(B, K, ...)``.
      Extra trailing dims (per-segment or per-patch logits) are scored against the same class,
      and the mean over them equals the log of the *product* of per-segment probabilities
      divided by the number of segments.
    * floating ``target`` of shape ``(B, K)``: independent sigmoid cross-entropy per label
      (StarGAN's multi-attribute setting), summed over labels and averaged over the batch and
      any trailing dims.
    """
    if target.dtype in (torch.int64, torch.int32, torch.int16, torch.uint8):
        target = target.long()
        if logits.dim() > 2:
            target = target.view(-1, *([1] * (logits.dim() - 2))).expand(logits.shape[0], *logits.shape[2:])
        return F.cross_entropy(logits.float(), target)
    if target.dim() != 2 or target.shape[:2] != logits.shape[:2]:
        raise ValueError(f"multi-label target must be (B, K) matching logits {tuple(logits.shape)}, got {tuple(target.shape)}")
    if logits.dim() > 2:
        target = target.view(*target.shape, *([1] * (logits.dim() - 2))).expand_as(logits)
    per_label = F.binary_cross_entropy_with_logits(logits.float(), target.float(), reduction="none")
    return per_label.sum(dim=1).mean()


def classification_accuracy(logits: Tensor, target: Tensor) -> Tensor:
    """Fraction of samples whose aggregated prediction matches ``target`` (for logging).

    Per-segment logits are aggregated by summing log-probabilities (product of probabilities).
    Multi-label targets count a sample correct only if every label is right.
    """
    with torch.no_grad():
        if target.dtype.is_floating_point:
            pred = logits.float().flatten(2).mean(-1) if logits.dim() > 2 else logits.float()
            return ((pred > 0) == (target > 0.5)).all(dim=1).float().mean()
        logp = F.log_softmax(logits.float(), dim=1)
        if logp.dim() > 2:
            logp = logp.flatten(2).sum(-1)
        return (logp.argmax(dim=1) == target.long()).float().mean()


def l1_loss(x: Tensor, y: Tensor) -> Tensor:
    """Mean absolute error; the cycle and identity losses of StarGAN are both this."""
    return (x - y).abs().mean()


def cycle_loss(x: Tensor, x_reconstructed: Tensor) -> Tensor:
    """L1 cycle-consistency ``|x - G(G(x, c'), c)|``."""
    return l1_loss(x, x_reconstructed)


def identity_loss(x: Tensor, x_identity: Tensor) -> Tensor:
    """L1 identity-mapping loss ``|x - G(x, c)|``."""
    return l1_loss(x, x_identity)
