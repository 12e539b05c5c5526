"""stargan-vc: non-parallel many-to-many voice conversion (StarGAN-VC) and StarGAN image translation."""

__version__ = "0.1.0"
