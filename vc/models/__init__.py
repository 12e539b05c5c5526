"""Voice-conversion networks (StarGAN-VC and later variants)."""
from vc.models.stargan_vc import (Classifier, Discriminator, Generator, LayerSpec, StarGANVCConfig,
                                  build_stargan_vc)

__all__ = ["Classifier", "Discriminator", "Generator", "LayerSpec", "StarGANVCConfig", "build_stargan_vc"]
