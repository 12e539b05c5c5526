"""StarGAN (Choi et al. 2018, arXiv 1711.09020): one generator for every attribute edit.

    ``networks``  ``Generator`` (target label tiled onto the image) and PatchGAN ``Discriminator``
                  with an attribute head
    ``config``    ``StarGANConfig`` (``model: stargan``; data, net, loss, optim, trainer,
                  evaluation) and ``migrate_v1``
    ``task``      ``StarGANTask``: batches and D/G losses for ``vc.gan.Trainer``
    ``train``     ``train(cfg, exp)``: one training run into a bundle
    ``bundle``    ``exp/<name>/`` writing and ``load_bundle``
    ``translate`` ``Translator``: attribute edits and Figure-4 grids
    ``evaluate``  judged attribute accuracy, L1/PSNR to the ground truth, beside the identity
    ``cli``       its options and bodies of ``vc-img-translate`` and ``vc-img-evaluate``

The data, label spaces, judges and grids it shares with StarGAN v2 are in :mod:`vc.image`.
"""
