"""StarGAN-VC (Kameoka et al. 2018, arXiv 1806.02169): networks, config, training task, bundle.

- :mod:`vc.stargan_vc.networks`: G, D and C built from gated 2-D convolutions, speaker codes;
- :mod:`vc.stargan_vc.config`: ``StarGANVCConfig`` (``model: stargan_vc``) and ``migrate_v1``;
- :mod:`vc.stargan_vc.task`: the ``vc.gan`` task (D, C and G phases, validation samples);
- :mod:`vc.stargan_vc.train`: ``train``, the runner ``vc-train`` calls through ``vc.registry``;
- :mod:`vc.stargan_vc.bundle`: ``load_bundle`` (what ``vc-convert`` and ``vc-assess`` load),
  ``load_generator``, ``convert_mcep``.

What every voice model shares (segment data, bundle files, held-out assessment) is in
:mod:`vc.voice`.
"""
