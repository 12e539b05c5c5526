"""What the voice-conversion models share, whatever their networks.

- :mod:`vc.voice.data`: a feature dump held in memory as normalised MCEP segments, the seeded
  segment sampler and the ``data:`` config section (``SegmentDataConfig``);
- :mod:`vc.voice.bundle`: the model bundle's files (``config.yaml``, ``speakers.json``,
  ``stats.npz``, ``checkpoints/``), ``VoiceBundle`` and ``load_voice_bundle`` (any voice model,
  through ``vc.registry``);
- :mod:`vc.voice.assess`: held-out accuracies of the model's own speaker classifier and the
  validation samples (``vc-assess``);

Each model lives in its own package (:mod:`vc.stargan_vc`, ...).
"""
