"""vc-convert: convert one file, or a whole data dir, to other speakers with a trained model."""
from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from vc.cli.common import add_jobs_option, add_verbose_option, cap_jobs, run_command
from vc.errors import VCError
from vc.registry import VOICE, models_help

if TYPE_CHECKING:
    from vc.convert.converter import ConverterOptions

log = logging.getLogger("vc-convert")

EPILOG = """\
one file:
  vc-convert --src me.wav --target p225                 # -> ./me_to_p225.wav
  vc-convert --src a.flac --target p225 --source p226 --model exp/vctk --out out/a.wav

  The source speaker's statistics come from the model when --source names one of its speakers;
  otherwise (your own voice, any other speaker) they are estimated from the input itself.

a data dir (every utterance to every listed target except its own speaker):
  vc-convert --model exp/vctk --data data/test --targets all --outdir exp/vctk/convert/test --nj 4
  outputs: OUTDIR/wav/<tgt>/<utt>_to_<tgt>.wav, OUTDIR/manifest.tsv (utt, src_spk, tgt_spk, path
  relative to OUTDIR), OUTDIR/failed.tsv (utt, tgt_spk, reason; only when something failed).
  A rerun skips finished files, so an interrupted run resumes where it stopped. OUTDIR/convert.json
  records the model, checkpoint and options: a rerun with others (a retrained model, say) is
  refused unless --overwrite, which deletes this run's old outputs first and converts them again.

cluster (e.g. a Slurm array job): each task converts one shard of the utterances and writes
manifest.<i>.tsv / failed.<i>.tsv; one merge step then writes manifest.tsv for the whole set:
  sbatch --array=1-16 --wrap 'vc-convert --model exp/vctk --data data/test --targets all \\
      --outdir OUT --num-shards 16 --shard $SLURM_ARRAY_TASK_ID'
  vc-convert --model exp/vctk --data data/test --targets all --outdir OUT --merge
(an un-sharded run instead of --merge also merges, and retries the failed conversions.)

model: --model DIR, else $VC_MODEL, else the most recently trained bundle under ./exp/.
statistical baseline: --baseline stats replaces the network by the identity (per-speaker MCEP
mean/variance normalisation + log-Gaussian F0), the classic rival to score against.

exit status: 0 on success; 1 on bad input, a missing model, an --outdir another job is writing
into, or any failed conversion; 130 after Ctrl-C (it says how many files are done; a rerun resumes).

"""


class CliError(VCError):
    """A mistake in the command line's files (input missing, output taken); one line, exit 1."""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vc-convert",
        description="Convert speech to another speaker with a trained voice model bundle (any model vc-train "
        "makes; its config.yaml names it): WORLD analysis, log-Gaussian F0 transform, mel-cepstrum through the "
        "generator, WORLD synthesis.",
        epilog=EPILOG + models_help(VOICE),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    one = p.add_argument_group("one file")
    one.add_argument("--src", help="input audio file (any rate/format libsndfile reads)")
    one.add_argument("--target", help="target speaker (one of the model's speakers)")
    one.add_argument("--source", help="source speaker, if the model knows it (else statistics come from the input)")
    one.add_argument("--out", help="output file, or an existing folder (default: ./<stem>_to_<target>.wav)")
    many = p.add_argument_group("a data dir")
    many.add_argument("--data", help="Kaldi data dir (wav.scp, utt2spk) to convert")
    many.add_argument("--targets", default="all", help="'all' or a comma list of target speakers (default: all)")
    many.add_argument("--outdir", help="output folder for the wavs, manifest.tsv and failed.tsv")
    add_jobs_option(many, "parallel worker processes, one model each (default: 1)")
    many.add_argument("--num-shards", type=int, default=1, help="split the utterances into this many shards")
    many.add_argument("--shard", type=int, help="which shard to convert (1-based, as Slurm/Kaldi JOB ids)")
    many.add_argument("--merge", action="store_true",
                      help="after sharded runs: write manifest.tsv/failed.tsv for the whole set, converting nothing")
    many.add_argument("--no-progress", action="store_true", help="no progress bar")
    common = p.add_argument_group("model and options")
    common.add_argument("--model", help="model bundle dir (default: $VC_MODEL, else the newest under ./exp/)")
    common.add_argument("--baseline", choices=["stats"], help="statistical baseline instead of the network")
    common.add_argument("--f0-method", choices=["dio", "harvest"],
                        help="F0 tracker (default: the one the model was trained with)")
    common.add_argument("--f0-scale", type=float, default=1.0,
                        help="multiply the converted F0 (pitch shift on top of the transform), 0.25..4 "
                        "(default 1.0)")
    common.add_argument("--out-sr", type=int,
                        help="output sample rate in Hz, 1000..384000 (default: the model's rate)")
    common.add_argument("--max-duration", type=float, default=None, metavar="SECONDS",
                        help="refuse inputs longer than this, which bounds the memory one conversion takes "
                        "(default: 300; 0 = no limit); in a batch such files are listed as failed")
    common.add_argument("--device", default="cpu", help="torch device for the generator (default: cpu)")
    common.add_argument("--precision", choices=["auto", "fp32", "bf16"], default="auto",
                        help="generator arithmetic: auto (default) = bf16 on CPUs with native bf16 (AMX or "
                        "AVX512-BF16), where it runs G 1.7-3x faster and changes the output by ~0.03 dB MCD, "
                        "fp32 elsewhere")
    common.add_argument("--pause-db", type=float, default=26.0, metavar="DB",
                        help="frames the source has more than DB below its loudest frame are pauses and are "
                        "kept that quiet (the generator makes pauses too loud); 0 = off (default: 26)")
    common.add_argument("--overwrite", action="store_true",
                        help="replace an existing output file; with --data: delete this run's (this shard's) "
                        "existing outputs and convert them again, e.g. after retraining the model")
    add_verbose_option(common)
    return p


def _check_args(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if (args.src is None) == (args.data is None):
        p.error("give either --src FILE --target SPK (one file) or --data DIR --outdir DIR (a data dir)")
    if args.src is not None:
        if not args.target:
            p.error("--src needs --target SPK")
        stray = [f for f, v in (("--outdir", args.outdir), ("--shard", args.shard), ("--merge", args.merge))
                 if v not in (None, False)]
        if stray:
            p.error(f"{', '.join(stray)} only apply to a data dir (--data)")
    else:
        if not args.outdir:
            p.error("--data needs --outdir DIR")
        if args.target or args.out or args.source:
            p.error("with --data use --targets (comma list or 'all'); --target/--out/--source are for one file")
        if args.num_shards < 1 or (args.num_shards > 1) != (args.shard is not None):
            p.error("--num-shards N > 1 and --shard i go together")
        if args.shard is not None and not 1 <= args.shard <= args.num_shards:
            p.error(f"--shard must lie in 1..{args.num_shards}")
        if args.merge and args.shard is not None:
            p.error("--merge runs once after all shards, without --shard")
    # the documented ranges (ConverterOptions) are checked here, before anything is loaded
    from vc.audio import sample_rate_problem
    from vc.convert.converter import F0_SCALE_RANGE

    low, high = F0_SCALE_RANGE
    if not low <= args.f0_scale <= high:
        p.error(f"--f0-scale must lie in {low:g}..{high:g}, got {args.f0_scale:g}")
    if args.out_sr is not None and (problem := sample_rate_problem(args.out_sr)):
        p.error(f"--out-sr: {problem}")
    if not args.pause_db >= 0:
        p.error("--pause-db must be >= 0 (0 turns the pause rule off)")
    if args.max_duration is not None and not args.max_duration >= 0:
        p.error("--max-duration must be >= 0 seconds (0 = no limit)")


def converter_options(args: argparse.Namespace) -> ConverterOptions:
    """The conversion options the command line asked for."""
    from vc.convert.converter import MAX_DURATION, ConverterOptions

    return ConverterOptions(baseline=args.baseline, f0_method=args.f0_method, f0_scale=args.f0_scale,
                            out_sr=args.out_sr, device=args.device, precision=args.precision,
                            pause_db=args.pause_db,
                            max_duration=MAX_DURATION if args.max_duration is None else args.max_duration)


def output_file(src: Path, target: str, out: str | None) -> Path:
    """Where a single conversion goes: --out (a file, or a folder to put the default name in)."""
    name = f"{src.stem}_to_{target}.wav"
    if out is None:
        return Path.cwd() / name
    path = Path(out)
    return path / name if path.is_dir() else path


def _same_file(a: Path, b: Path) -> bool:
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def check_targets(model: Path, wanted: list[str]) -> None:
    """Refuse target speakers the model does not know, from its speakers.json (cheap), before the
    model is loaded."""
    from vc.convert.converter import UnknownSpeakerError
    from vc.voice.bundle import read_speakers

    speakers = read_speakers(model)
    unknown = [t for t in wanted if t not in speakers]
    if unknown:
        raise UnknownSpeakerError(f"unknown speaker {', '.join(map(repr, unknown))}; the model "
                                  f"{model.resolve().name} knows: {', '.join(speakers)}")


def convert_one(args: argparse.Namespace, options: ConverterOptions) -> None:
    from vc.audio import audio_info, write_audio
    from vc.convert.converter import Converter
    from vc.convert.discovery import resolve_model

    src = Path(args.src)
    if src.is_dir():
        raise CliError(f"{src}: is a directory; --src takes one audio file (--data DIR converts a Kaldi data dir)")
    if not src.is_file():
        raise CliError(f"{src}: input file not found")
    out = output_file(src, args.target, args.out)
    if _same_file(out, src):
        raise CliError(f"{out}: the output would overwrite the input {src}; choose another --out")
    if out.exists() and not args.overwrite:
        raise CliError(f"{out}: already exists; use --overwrite to replace it or choose another --out")
    if out.suffix.lower() not in (".wav", ".flac", ".ogg", ".aiff", ".aif"):
        raise CliError(f"{out}: unknown audio extension {out.suffix!r}; use .wav, .flac, .ogg or .aiff")
    audio_info(src, max_duration=options.max_duration)  # readable, rate in range, not too long
    model, how = resolve_model(args.model)
    log.info("model: %s (%s)", model, how)
    check_targets(model, [args.target])  # an unknown target lists the speakers before the model loads
    converter = Converter.from_bundle(model, options=options)
    wave = converter.load_audio(src)
    result, sr = converter.convert(wave, converter.sample_rate, args.target, args.source, name=str(src))
    write_audio(out, result, sr)
    log.info("wrote %s (%.2f s at %d Hz)", out, len(result) / sr, sr)
    print(out)


def convert_many(args: argparse.Namespace, options: ConverterOptions) -> int:
    from vc.convert.batch import merge_shards, parse_targets, run_batch
    from vc.convert.discovery import resolve_model
    from vc.data import DataDir
    from vc.voice.bundle import read_speakers

    # the inputs are checked before the model (seconds) loads
    data = DataDir.load(args.data)
    if not data.utts:
        raise CliError(f"{args.data}: the data dir holds no utterances (its wav.scp is empty); nothing to convert")
    model, how = resolve_model(args.model)
    log.info("model: %s (%s)", model, how)
    parse_targets(args.targets, read_speakers(model))
    if args.merge:
        result = merge_shards(model, args.data, args.outdir, targets=args.targets)
    else:
        result = run_batch(model, args.data, args.outdir, targets=args.targets, options=options,
                           nj=cap_jobs(args.nj), num_shards=args.num_shards, shard=args.shard, overwrite=args.overwrite,
                           progress=not args.no_progress)
    if result.failures:
        shown = result.failures[:10]
        log.error("%d conversion(s) failed (all listed in %s):\n%s", len(result.failures), result.failed_list,
                  "\n".join(f"  {u} -> {t}: {r}" for u, t, r in shown)
                  + ("\n  ..." if len(result.failures) > 10 else ""))
        return 1
    return 0


def _run(args: argparse.Namespace) -> None:
    _check_args(build_parser(), args)
    options = converter_options(args)
    if args.src is not None:
        convert_one(args, options)
    elif convert_many(args, options):
        sys.exit(1)


def main(argv: list[str] | None = None) -> None:
    return run_command(build_parser(), _run, argv)


if __name__ == "__main__":
    main()
