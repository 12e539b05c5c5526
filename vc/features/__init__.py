"""WORLD features: analysis, mel-cepstral coding, per-utterance storage and speaker statistics."""
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
