"""StarGAN v2 (Choi et al. 2020, arXiv 1912.01865): diverse translations into several domains,
styles drawn by a mapping network or read off a reference image.

    ``networks``  ``Generator`` (AdaIN styles), ``MappingNetwork``, ``StyleEncoder`` and the
                  multi-head ``Discriminator``
    ``slant``     the slant style (not in the paper): readers calibrated on shears alone
    ``config``    ``StarGANv2Config`` (``model: stargan_v2``) and ``migrate_v1``
    ``task``      ``StarGANv2Task``: the four phases for ``vc.gan.Trainer``
    ``train``     ``train(cfg, exp)``: one training run into a bundle
    ``bundle``    ``exp/<name>/`` writing and ``load_bundle``
    ``translate`` ``StyleTranslator``: latent- and reference-guided grids
    ``evaluate``  domain accuracy, style transfer and content L1 read by the judges
    ``diversity`` mean pairwise L1 / LPIPS between the outputs of one input
    ``cli``       its options and bodies of ``vc-img-translate`` and ``vc-img-evaluate``

The data (domain sets, balanced batches), judges and grids it shares with StarGAN are in
:mod:`vc.image`.
"""
