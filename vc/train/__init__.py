"""StarGAN-VC training: config, in-memory data and sampler, the GAN task, the model bundle, assessment.

Entry points: ``vc.train.run.train`` (what ``vc-train`` calls), ``vc.train.bundle.load_generator``
(what conversion uses), ``python -m vc.train.assess`` (held-out classifier accuracies).
"""
