"""The shared GAN core: losses, conditioning, layers, EMA, checkpoints and a task-driven trainer.

Nothing here knows about audio or images; the voice models (``vc.stargan_vc``, on ``vc.voice``) and the image models (``vc.stargan``, ``vc.stargan_v2``, on ``vc.image``)
branches build on it.

Pieces
------
``losses``
    ``get_adversarial_loss(kind) -> AdversarialLoss`` with ``d_loss(real, fake)``,
    ``d_real_loss(real)``, ``d_fake_loss(fake)``, ``g_loss(fake)`` for kind in
    ``nonsaturating``/``bce``, ``lsgan``, ``wgan``/``wgan-gp``, ``hinge``; all take raw D outputs of any
    shape (global or PatchGAN) and average over every element.
    ``classification_loss(logits, target)``: CE for integer targets (extra logit dims = per-segment
    predictions of the same class), multi-label BCE for float ``(B, K)`` targets.
    ``classification_accuracy``, ``l1_loss``, ``cycle_loss``, ``identity_loss``.
``penalties``
    ``gradient_penalty(critic, real, fake)`` (WGAN-GP; ``critic`` is a closure such as
    ``lambda x: D(x, c)[0]``), ``r1_penalty(real_out, real_in)``.
``augment``
    ``random_shift(x, max_px, generator)``: differentiable random shifts (DiffAugment for a
    discriminator's inputs; the judging classifiers' training images), ``shift_pixels``,
    ``step_shift(x, fraction, seed, step, salt)`` (offsets a pure function of the step: exact resume).
    ``gaussian_blur(x, sigma)``, ``random_blur(x, max_sigma, generator)``: Gaussian blur (per-image
    random sigmas for the judges' training images).
``batching``
    ``joint_forward(D, real_args, fake_args)``: one pass over real and fake samples concatenated
    (cheaper than two small passes; exact for networks without batch statistics).
``handoff``
    ``FakeHandoff(dist)``: ``for_d(make, step, g_runs_this_step)`` makes a D phase's fakes and keeps
    them with G's graph; ``for_g(make, step)`` hands them to the G phase of the same step, or makes
    them there (one G forward fewer per step; off under DDP).
``conditioning``
    ``one_hot``, ``tile_code(code, like)``, ``concat_code(x, code)`` (1-D or 2-D maps), ``concat_map(x, cond)``,
    ``ConditionalInstanceNorm(num_features, code_dim)``, ``AdaIN(style_dim, num_features)``.
``layers``
    ``GatedConv1d``, ``GatedConv2d``, ``GatedConvTranspose2d`` (conv -> norm -> GLU; norm in
    ``batch``/``instance``/``none``); ``init_upsampling_(module, "nearest")`` starts strided
    transposed convolutions as nearest-neighbour upsampling + a convolution (no checkerboard).
``ema``
    ``EMA(model, decay)``: ``.update(model)``, ``.shadow`` (frozen copy), ``state_dict``.
``schedules``
    ``LinearSchedule(start, end, begin_step, end_step)(step)`` and ``linear_decay_factor``: pure
    functions of the step, so restoring the step restores them (e.g. StarGAN v2's lambda_ds).
``checkpoint``
    ``save_checkpoint`` (atomic), ``load_checkpoint`` (``weights_only=True``; a truncated or corrupt
    file raises ``CheckpointError`` naming the file), ``CheckpointManager(dir, keep)`` for
    ``step_<NNNNNNNN>.pt`` + ``latest``.
``runtime``
    device/AMP resolution, ``torchrun`` detection, RNG state capture.
``task`` / ``trainer``
    ``GanTask`` (the protocol below), ``OptimizerSpec``, ``Phase``, ``PhaseLosses``, ``TrainContext``,
    ``TrainerConfig``, ``Trainer``, ``NonFiniteLossError``.

The Task protocol
-----------------
A task subclasses ``GanTask`` and implements::

    setup(ctx: TrainContext) -> None               # load data; seed its sampler with ctx.seed + ctx.dist.rank
    build_networks() -> dict[str, nn.Module]       # e.g. {"G": ..., "D": ..., "C": ...}
    optimizers() -> dict[str, OptimizerSpec]       # e.g. {"D": OptimizerSpec(("D",), 1e-4),
                                                   #       "G": OptimizerSpec(("G", "F", "E"), 1e-4,
                                                   #                          module_lr={"F": 1e-6})}
    phases() -> list[Phase]                        # e.g. [Phase("D", "D"), Phase("G", "G", every=5)]
    next_batch(step) -> Any                        # on ctx.device; shared by the phases of the step
    compute_losses(phase, nets, batch, step) -> PhaseLosses(terms, weights, metrics)

and optionally ``ema_decays() -> {"G": 0.999, ...}`` (shadows appear as ``nets["G_ema"]``),
``differentiates_gradients() -> bool`` (a gradient penalty or R1 in its losses),
``sample(nets, step, out_dir) -> metrics | None`` and ``state_dict``/``load_state_dict`` (sampler RNG).

The trainer, per step ``s`` (1-based): sets every optimizer's lr to ``base_lr *
linear_decay_factor(s, cfg.lr_decay_start, cfg.max_steps)``; draws ``batch = task.next_batch(s)``;
for each phase with ``s % phase.every == 0``: ``zero_grad``; ``compute_losses`` under autocast
(bf16 on CUDA by default, fp16 with a GradScaler on request, off on CPU); raises
``NonFiniteLossError`` naming the step, phase and term if any term is NaN/inf (before the update, so
the newest checkpoint on disk stays the last good one); backpropagates
``sum(weights[k] * terms[k])`` into the phase optimizer's parameters only; clips if the spec says
so; steps; updates the EMAs of that optimizer's networks. Then it logs means of every term to
``<out>/logs/train.csv`` (and TensorBoard when installed) and the tqdm bar every ``log_every``
steps, calls ``sample`` every ``sample_every`` steps and at the end, and checkpoints every
``checkpoint_every`` steps and at the end. Under ``torchrun`` (``WORLD_SIZE > 1``) the phase's own
networks are DDP-wrapped and only rank 0 writes files.

``Phase(name, optimizer, every=1, ema=True)``: ``ema=False`` skips the EMA update after that phase
(for a network stepped twice per step). ``TrainerConfig`` also sets ``amp``, ``adam_impl``
(default/foreach/fused/single), ``channels_last``, ``compile`` (refused for a task whose
``differentiates_gradients()``: no double backward through it), ``cpu_threads`` (0 = all cores; use 1
on a machine whose cores are busy with other work: OpenMP threads that wait for a busy core make
each step many times slower) and ``find_unused_parameters`` (DDP). Under DDP the logged losses are
rank 0's.

Minimal use::

    from vc.gan import Trainer, TrainerConfig
    result = Trainer(MyTask(...), TrainerConfig(max_steps=1000), "exp/run1", device="auto", seed=0).fit(resume=True)

``Trainer(..., progress=False)`` hides the tqdm bar; ``trainer.setup()`` + ``trainer.train_step(step)``
run single steps without logging or checkpoints (benchmarks). ``result.step``, ``result.checkpoint`` (path of the newest checkpoint) and ``result.metrics``
(last logged means) tell the caller where the run ended. Checkpoint layout (a dict):
``step``, ``nets`` {name: state_dict}, ``ema`` {name: state_dict}, ``optimizers``, ``scaler``,
``rng`` [per rank], ``task`` [per rank], ``world_size``, ``format``.
"""
from vc.gan.augment import (gaussian_blur, gaussian_kernel1d, random_blur, random_shift, shear, shift_pixels,
                            step_shift)
from vc.gan.batching import joint_forward
from vc.gan.checkpoint import CheckpointError, CheckpointManager, load_checkpoint, save_checkpoint
from vc.gan.conditioning import AdaIN, ConditionalInstanceNorm, concat_code, concat_map, one_hot, tile_code
from vc.gan.ema import EMA
from vc.gan.handoff import FakeHandoff
from vc.gan.layers import (UPSAMPLE_INITS, GatedConv1d, GatedConv2d, GatedConvTranspose2d, init_upsampling_,
                           nearest_upsample_init_)
from vc.gan.losses import (ADVERSARIAL_KINDS, AdversarialLoss, classification_accuracy, classification_loss,
                           cycle_loss, get_adversarial_loss, identity_loss, l1_loss)
from vc.gan.penalties import gradient_penalty, r1_penalty
from vc.gan.schedules import LinearSchedule, linear_decay_factor
from vc.gan.task import GanTask, OptimizerSpec, Phase, PhaseLosses, TrainContext
from vc.gan.trainer import NonFiniteLossError, Trainer, TrainerConfig, TrainResult

__all__ = [
    "ADVERSARIAL_KINDS", "AdaIN", "AdversarialLoss", "CheckpointError", "CheckpointManager",
    "ConditionalInstanceNorm", "EMA", "FakeHandoff", "GanTask", "GatedConv1d", "GatedConv2d",
    "GatedConvTranspose2d", "LinearSchedule", "NonFiniteLossError", "OptimizerSpec", "Phase", "PhaseLosses",
    "TrainContext",
    "TrainResult", "Trainer", "TrainerConfig", "UPSAMPLE_INITS", "classification_accuracy", "classification_loss",
    "concat_code", "concat_map", "cycle_loss", "gaussian_blur", "gaussian_kernel1d", "get_adversarial_loss",
    "gradient_penalty", "identity_loss", "init_upsampling_", "joint_forward", "l1_loss", "linear_decay_factor",
    "load_checkpoint", "nearest_upsample_init_", "one_hot", "r1_penalty", "random_blur", "random_shift",
    "save_checkpoint", "shear", "shift_pixels", "step_shift", "tile_code",
]
