"""The image branch: StarGAN (and StarGAN v2) translation on top of the shared GAN core ``vc.gan``.

Data (any layout becomes an ``ImageLabelDataset`` of (image, 0/1 label vector) pairs):
    ``imageio``   file -> tensor and back (crop, resize, [-1, 1]); the one preprocessing path
    ``celeba``    CelebA layout files (attribute list, partition, content ids) and prepared copies
    ``fonts``     the rendered font-style set (3 families x bold x oblique), in the CelebA layout
    ``datasets``  ``build_dataset(cfg, split)``, ``label_space(cfg)``, ``BatchStream`` (step -> batch)
    ``labels``    ``LabelSpace``: attribute names, exclusive groups, user edits, grid columns
StarGAN (Choi et al. 2018):
    ``config``    ``ImageTrainConfig`` (data, model, loss, optim, trainer, evaluation)
    ``stargan``   ``Generator(c_dim, ...)`` and PatchGAN ``Discriminator`` with attribute head
    ``task``      ``StarGANTask``: batches and D/G losses for ``vc.gan.Trainer``
    ``bundle``    ``exp/<name>/`` writing and ``load_bundle``;  ``translate``: ``Translator``
    ``grid``      Figure-4 grids;  ``classifier`` + ``evaluate``: judged attribute accuracy, L1/PSNR
"""
