#!/usr/bin/env python3
"""Synthesize the demo corpus: a small parallel multi-speaker English data set made with flite.

Why a synthetic corpus: the demo must run end to end on a fresh machine without a download,
and its speakers must differ in ways voice conversion has to fix (pitch, timbre, accent). The
Debian ``flite`` voices slt, rms, awb and kal16 were built from real CMU ARCTIC speakers (US
female, US male, Scottish male, US male), so they give four distinct voices reading the same
sentences. The sentences (``sentences.txt`` next to this script) were written for this project.

Layout written (what ``vc-prepare-data --layout speaker-dirs`` reads)::

    <out>/<voice>/<voice>_<id>.wav    mono PCM-16 at --sample-rate
    <out>/<voice>/<voice>_<id>.txt    the sentence

The result is deterministic (flite is; resampling with soxr is too) and resumable: a pair that
exists with the expected text is skipped, every file is written atomically.

Example::

    python egs/demo/local/make_corpus.py --out egs/demo/corpus --nj 2
"""
from __future__ import annotations

import argparse
import logging
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
from tqdm import tqdm

from vc.fileio import atomic_path, atomic_write_text
from vc.logutil import setup_logging

log = logging.getLogger("make_corpus")

DEFAULT_VOICES = ("slt", "rms", "awb", "kal16")
DEFAULT_SENTENCES = Path(__file__).resolve().parent / "sentences.txt"


class CorpusError(RuntimeError):
    """A problem the user must fix (missing flite, unknown voice, bad sentence list)."""


@dataclass(frozen=True)
class Job:
    """One utterance to synthesize; frozen so it pickles cleanly to worker processes."""

    voice: str
    sent_id: str
    text: str
    wav_path: Path
    txt_path: Path


def read_sentences(path: Path) -> list[tuple[str, str]]:
    """Read ``<id> <sentence>`` lines; ids become part of utterance ids, so they are checked here.

    An id may not contain ``_`` (the utterance id is ``<voice>_<id>`` and the sentence id must be
    recoverable from it for a split by sentence) nor ``/``; duplicates are an error.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise CorpusError(f"{path}: cannot read sentence list: {e.strerror}") from e
    sentences: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    problems: list[str] = []
    for lineno, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(maxsplit=1)
        if len(parts) != 2:
            problems.append(f"{path}:{lineno}: expected '<id> <sentence>', got {line!r}")
            continue
        sent_id, text = parts
        if "_" in sent_id or "/" in sent_id:
            problems.append(f"{path}:{lineno}: id {sent_id!r} may not contain '_' or '/'")
        elif sent_id in seen:
            problems.append(f"{path}:{lineno}: duplicate id {sent_id!r} (first on line {seen[sent_id]})")
        else:
            seen[sent_id] = lineno
            sentences.append((sent_id, text))
    if problems:
        raise CorpusError("bad sentence list:\n" + "\n".join(problems))
    if not sentences:
        raise CorpusError(f"{path}: no sentences")
    return sentences


def find_flite(flite: str) -> str:
    """Resolve the flite binary, with the install command in the error since it is a system package."""
    resolved = shutil.which(flite)
    if resolved is None:
        raise CorpusError(f"flite not found ({flite!r}); install it with: sudo apt-get install flite")
    return resolved


def available_voices(flite: str) -> list[str]:
    """Voices compiled into this flite build (``flite -lv``)."""
    out = subprocess.run([flite, "-lv"], capture_output=True, text=True, check=True).stdout
    _, _, names = out.partition(":")
    return names.split()


def plan_jobs(out: Path, voices: list[str], sentences: list[tuple[str, str]]) -> tuple[list[Job], int]:
    """Return the jobs still to do and how many were already done (resume)."""
    todo: list[Job] = []
    done = 0
    for voice in voices:
        for sent_id, text in sentences:
            stem = f"{voice}_{sent_id}"
            job = Job(voice, sent_id, text, out / voice / f"{stem}.wav", out / voice / f"{stem}.txt")
            if is_done(job):
                done += 1
            else:
                todo.append(job)
    return todo, done


def is_done(job: Job) -> bool:
    """A pair is done when both files exist and the text still matches the sentence list
    (an edited sentence gets re-synthesized rather than keeping stale audio)."""
    if not (job.wav_path.is_file() and job.txt_path.is_file()):
        return False
    return job.txt_path.read_text(encoding="utf-8").strip() == job.text


def synthesize(job: Job, flite: str, sample_rate: int) -> None:
    """Run flite for one sentence and store it as mono PCM-16 at ``sample_rate``."""
    with tempfile.TemporaryDirectory(prefix="flite.") as tmp:
        raw = Path(tmp) / "raw.wav"
        proc = subprocess.run(
            [flite, "-voice", job.voice, "-t", job.text, "-o", str(raw)], capture_output=True, text=True
        )
        if proc.returncode != 0 or not raw.is_file():
            raise CorpusError(
                f"{job.wav_path}: flite -voice {job.voice} failed (exit {proc.returncode}): {proc.stderr.strip()}"
            )
        info = sf.info(str(raw))
        if info.frames == 0:
            raise CorpusError(f"{job.wav_path}: flite produced no audio for {job.text!r}")
        if info.samplerate == sample_rate and info.channels == 1 and info.subtype == "PCM_16":
            # Keep flite's integer samples untouched: no float round trip, byte-stable output.
            wave, _ = sf.read(str(raw), dtype="int16")
        else:
            wave, _ = sf.read(str(raw), dtype="float64", always_2d=True)
            wave = wave.mean(axis=1)
            if info.samplerate != sample_rate:
                wave = soxr.resample(wave, info.samplerate, sample_rate, quality="HQ")
            wave = np.clip(wave, -1.0, 1.0 - 1.0 / 32768)
    with atomic_path(job.wav_path) as tmp_wav:
        sf.write(str(tmp_wav), wave, sample_rate, subtype="PCM_16", format="WAV")
    atomic_write_text(job.txt_path, job.text + "\n")


def run_jobs(jobs: list[Job], flite: str, sample_rate: int, nj: int) -> list[str]:
    """Synthesize ``jobs`` over ``nj`` processes; return the error messages (all jobs are tried)."""
    errors: list[str] = []
    if not jobs:
        return errors
    bar = tqdm(total=len(jobs), unit="utt", desc="synthesizing")
    if nj <= 1:
        for job in jobs:
            try:
                synthesize(job, flite, sample_rate)
            except (CorpusError, OSError, RuntimeError) as e:
                errors.append(str(e))
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=nj) as pool:
            futures = {pool.submit(synthesize, job, flite, sample_rate): job for job in jobs}
            for fut in as_completed(futures):
                try:
                    fut.result()
                except (CorpusError, OSError, RuntimeError) as e:
                    errors.append(str(e))
                bar.update()
    bar.close()
    return errors


def write_readme(out: Path, voices: list[str], num_sentences: int, sample_rate: int) -> None:
    """Describe the data set inside it, so a copied corpus folder still says what it is."""
    text = (
        "stargan-vc demo corpus\n"
        "======================\n"
        f"Parallel English speech: {num_sentences} sentences read by the flite voices {', '.join(voices)}\n"
        "(TTS voices built from CMU ARCTIC speakers). Sentences were written for the stargan-vc project.\n"
        f"Audio: mono, PCM-16, {sample_rate} Hz. Layout: <voice>/<voice>_<id>.wav + .txt.\n"
        "Made by egs/demo/local/make_corpus.py; rerun it to rebuild or complete this folder.\n"
    )
    atomic_write_text(out / "README.txt", text)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] + " Writes <out>/<voice>/<voice>_<id>.wav and .txt.",
        epilog="example: python egs/demo/local/make_corpus.py --out egs/demo/corpus --voices slt,rms --nj 2",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--out", required=True, type=Path, help="output folder (created; existing files are kept)")
    parser.add_argument("--voices", default=",".join(DEFAULT_VOICES), help="comma-separated flite voices")
    parser.add_argument("--sentences", type=Path, default=DEFAULT_SENTENCES, help="'<id> <sentence>' list")
    parser.add_argument("--num-sentences", type=int, default=None, help="use only the first N sentences")
    parser.add_argument("--sample-rate", type=int, default=16000, help="output rate in Hz (resampled if needed)")
    parser.add_argument("--nj", type=int, default=2, help="parallel flite processes")
    parser.add_argument("--flite", default="flite", help="flite binary")
    parser.add_argument("--verbose", action="store_true", help="debug logging")
    args = parser.parse_args(argv)
    if args.num_sentences is not None and args.num_sentences < 1:
        parser.error("--num-sentences must be >= 1")
    if args.nj < 1:
        parser.error("--nj must be >= 1")
    if args.sample_rate <= 0:
        parser.error("--sample-rate must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    setup_logging(args.verbose)
    try:
        flite = find_flite(args.flite)
        voices = [v for v in args.voices.split(",") if v]
        known = available_voices(flite)
        unknown = [v for v in voices if v not in known]
        if unknown:
            raise CorpusError(f"unknown flite voice(s) {', '.join(unknown)}; this flite has: {' '.join(known)}")
        sentences = read_sentences(args.sentences)[: args.num_sentences]
        jobs, done = plan_jobs(args.out, voices, sentences)
    except CorpusError as e:
        log.error("%s", e)
        return 1
    log.info(
        "%d voices x %d sentences: %d already done, %d to synthesize with %d jobs",
        len(voices), len(sentences), done, len(jobs), args.nj,
    )
    start = time.perf_counter()
    errors = run_jobs(jobs, flite, args.sample_rate, args.nj)
    for msg in errors:
        log.error("%s", msg)
    if errors:
        log.error("%d of %d utterances failed; rerun to retry them", len(errors), len(jobs))
        return 1
    write_readme(args.out, voices, len(sentences), args.sample_rate)
    log.info("corpus complete in %s (%.1f s)", args.out, time.perf_counter() - start)
    return 0


if __name__ == "__main__":
    sys.exit(main())
