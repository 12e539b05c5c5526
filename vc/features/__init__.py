"""WORLD features: analysis, mel-cepstral coding, per-utterance storage and speaker statistics."""
import warnings

# pyworld 0.3.5 and pysptk 1.0.1 import the deprecated pkg_resources (hence setuptools<81 in
# setup.py); its warning, printed once per process and worker, says nothing a user can act on.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
    import pysptk  # noqa: F401
    import pyworld  # noqa: F401
from vc.features.config import FeatureConfig, default_alpha, default_fft_size
from vc.features.mcep import mcep_to_sp, sp_to_mcep
from vc.features.stats import SpeakerStats, StatsAccumulator, StatsError
from vc.features.storage import FeatureFileError, feature_path, load_features, read_feats_scp, read_settings, save_features
from vc.features.world import Features, analyze

__all__ = [
    "FeatureConfig",
    "Features",
    "FeatureFileError",
    "SpeakerStats",
    "StatsAccumulator",
    "StatsError",
    "analyze",
    "default_alpha",
    "default_fft_size",
    "feature_path",
    "load_features",
    "mcep_to_sp",
    "read_feats_scp",
    "read_settings",
    "save_features",
    "sp_to_mcep",
]
