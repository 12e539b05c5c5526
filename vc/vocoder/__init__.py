"""WORLD vocoder: waveforms from F0, mel-cepstrum and band aperiodicity."""
from vc.vocoder.world import synthesize

__all__ = ["synthesize"]
