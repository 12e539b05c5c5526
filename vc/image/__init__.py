"""What the image models (:mod:`vc.stargan`, :mod:`vc.stargan_v2`) share, on top of the GAN core ``vc.gan``.

Any layout becomes an ``ImageLabelDataset`` of (image, 0/1 label vector) pairs:
    ``imageio``     file -> tensor and back (crop, resize, [-1, 1]); the one preprocessing path
    ``celeba``      CelebA layout files (attribute list, partition, content ids) and prepared copies
    ``fonts``       the rendered font-style set (3 families x bold x oblique), in the CelebA layout
    ``datasets``    ``build_dataset(cfg, split)``, ``label_space(cfg)``, ``BatchStream`` (step -> batch)
    ``domain_data`` one domain per image and class-balanced draws (StarGAN v2's batches)
    ``labels``      ``LabelSpace``: attribute names, exclusive groups, user edits, grid columns
    ``config``      the shared config sections: ``data`` (with the batch size) and ``evaluation``
    ``bundle``      the files every image bundle has, read through the registry's migration
    ``classifier``  the judges: classifiers trained on real images that score translations
    ``grid``        image grids (StarGAN's Figure 4)
"""
