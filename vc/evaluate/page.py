"""The listening page: a self-contained HTML folder of source, reference and converted audio.

Objective scores say whether a run improved; only listening says whether it sounds right. The
page shows, per source/target pair, a few utterances as rows: the source, the target speaker
saying the same sentence, and each system's conversion, with spectrograms and scores. It works
opened straight from disk (relative links, inline CSS, no scripts, no network), so it can be
zipped and mailed. Assets are named by a hash of their origin and written atomically, so an
interrupted or repeated build reuses what is already there; ``index.html`` is written last.
"""
from __future__ import annotations

import hashlib
import html
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import numpy as np
from tqdm import tqdm

from vc.audio import AudioError, load_audio, write_audio
from vc.evaluate.pairs import NONE_LABEL
from vc.evaluate.report import COLUMNS
from vc.fileio import atomic_path, atomic_write_text

if TYPE_CHECKING:
    from vc.evaluate.pipeline import EvaluationResult
    from vc.evaluate.scoring import UttScore

log = logging.getLogger(__name__)

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.5em;margin-bottom:.2em} h2{font-size:1.2em;margin:1.6em 0 .4em;border-bottom:1px solid #ccc}
.legend{font-size:.8em;color:#555;max-width:70em} .legend li{margin:.15em 0}
table{border-collapse:collapse;margin:.4em 0} th,td{padding:.25em .5em;vertical-align:top}
table.scores th,table.scores td{border:1px solid #ddd;text-align:right;font-size:.85em}
table.scores td.sys,table.scores th.sys{text-align:left}
table.samples td,table.samples th{border:1px solid #ddd;background:#fff}
table.samples th{font-size:.85em;background:#eee}
td.utt{max-width:14em;font-size:.85em;word-break:break-word} .text{color:#555;display:block;margin-top:.3em}
td.clip{width:250px} .clip audio{width:240px;display:block} .clip img{display:block;width:240px;height:auto;margin-top:.2em}
.score{font-size:.75em;color:#333;margin-top:.2em} .missing{color:#999;font-size:.8em}
.floor{color:#777}
"""


@dataclass(frozen=True)
class Clip:
    """One playable recording on the page, with its spectrogram."""

    caption: str
    audio: str | None  # link relative to the page folder
    image: str | None
    score: str  # short metric summary, already formatted
    note: str | None = None  # why it is missing


def _safe_stem(text: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._")[:40]
    return stem or "clip"


def _asset_name(path: str, sample_rate: int) -> str:
    """File name tied to the origin's identity: a file shown twice is stored once, and a changed
    input never reuses a stale asset. The readable part is only for people browsing the folder."""
    st = os.stat(path)
    ident = "\0".join([os.path.abspath(path), str(st.st_size), str(st.st_mtime_ns), str(sample_rate)])
    parent = Path(path).parent.name
    return f"{_safe_stem(parent + '-' + Path(path).stem)}-{hashlib.sha1(ident.encode('utf-8')).hexdigest()[:12]}"


def _spectrogram_png(path: Path, wave: np.ndarray, sample_rate: int) -> None:
    """A small log-magnitude spectrogram (matplotlib Agg, no pyplot state)."""
    import librosa
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n_fft = 1 << int(np.ceil(np.log2(0.032 * sample_rate)))
    hop = max(1, int(round(0.008 * sample_rate)))
    spec = np.abs(librosa.stft(wave.astype(np.float32), n_fft=n_fft, hop_length=hop))
    db = librosa.amplitude_to_db(spec, ref=np.max, top_db=80.0)
    fig = Figure(figsize=(3.0, 1.2), dpi=80)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.imshow(db, origin="lower", aspect="auto", cmap="magma", vmin=-80, vmax=0,
              extent=(0, len(wave) / sample_rate, 0, sample_rate / 2000))
    ax.set_axis_off()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")


def _make_assets(out_dir: Path, src_path: str, sample_rate: int) -> tuple[str, str]:
    """Transcode ``src_path`` to 16-bit WAV and draw its spectrogram (both skipped if present)."""
    name = _asset_name(src_path, sample_rate)
    wav_rel, png_rel = f"audio/{name}.wav", f"img/{name}.png"
    wav_abs, png_abs = out_dir / wav_rel, out_dir / png_rel
    if not (wav_abs.is_file() and png_abs.is_file()):
        wave = load_audio(src_path, sample_rate)
        if not wav_abs.is_file():
            write_audio(wav_abs, wave, sample_rate)
        if not png_abs.is_file():
            _spectrogram_png(png_abs, wave, sample_rate)
    return wav_rel, png_rel


def _fmt(value: float | None, fmt: str, unit: str = "") -> str | None:
    return None if value is None else f"{value:{fmt}}{unit}"


def _score_text(sc: "UttScore | None") -> str:
    if sc is None:
        return ""
    if sc.error:
        return f"failed: {sc.error}"
    parts = [p for p in (
        _fmt(sc.mcd_db, ".2f", " dB MCD"),
        _fmt(sc.msd_db, ".1f", " dB MSD"),
        _fmt(sc.f0_rmse_cents, ".0f", " cent F0"),
        _fmt(sc.spk_cos, ".3f", " spk cos"),
        None if sc.spk_pred is None else f"ID: {sc.spk_pred}",
    ) if p]
    return ", ".join(parts)


def select_rows(result: "EvaluationResult", max_rows_per_pair: int) -> dict[tuple[str, str], list[str]]:
    """Up to ``max_rows_per_pair`` source utterances per pair: parallel ones first, then by id.

    Utterances converted by every system come first so the columns can be compared directly.
    """
    systems = [s for s in result.systems if s != NONE_LABEL]
    by_pair: dict[tuple[str, str], dict[str, set[str]]] = {}
    parallel: set[tuple[str, str, str]] = set()
    for it in result.items:
        by_pair.setdefault((it.src_spk, it.tgt_spk), {}).setdefault(it.utt, set()).add(it.system)
        if it.parallel:
            parallel.add((it.utt, it.src_spk, it.tgt_spk))
    rows = {}
    for pair in sorted(by_pair):
        utts = by_pair[pair]
        ranked = sorted(utts, key=lambda u: (not set(systems) <= utts[u], (u, *pair) not in parallel, u))
        rows[pair] = ranked[:max_rows_per_pair]
    return rows


def _clip_html(clip: Clip) -> str:
    e = html.escape
    out = [f'<td class="clip"><div>{e(clip.caption)}</div>']
    if clip.audio:
        out.append(f'<audio controls preload="none" src="{e(quote(clip.audio))}"></audio>')
        out.append(f'<img src="{e(quote(clip.image or ""))}" alt="spectrogram: {e(clip.caption)}" loading="lazy">')
    else:
        out.append(f'<div class="missing">{e(clip.note or "not available")}</div>')
    if clip.score:
        out.append(f'<div class="score">{e(clip.score)}</div>')
    out.append("</td>")
    return "".join(out)


def _scores_table(groups: list[dict[str, Any]], first: str) -> str:
    e = html.escape
    head = f'<tr><th class="sys">{e(first)}</th><th>n</th><th>par</th>' + "".join(
        f"<th>{e(title)}</th>" for _, title, _, _ in COLUMNS) + "</tr>"
    body = []
    for g in groups:
        cls = ' class="floor"' if g["system"] == NONE_LABEL else ""
        cells = "".join(f"<td>{'-' if g[k] is None else f'{g[k] * s:.{d}f}'}</td>" for k, _, s, d in COLUMNS)
        body.append(f'<tr{cls}><td class="sys">{e(g["system"])}</td><td>{g["n"] - g["n_failed"]}</td>'
                    f'<td>{g["n_parallel"]}</td>{cells}</tr>')
    return f'<table class="scores">{head}{"".join(body)}</table>'


def build_sample_page(out_dir: str | os.PathLike, result: "EvaluationResult", *, max_rows_per_pair: int = 2,
                      title: str = "Voice conversion samples", progress: bool = True) -> Path:
    """Write ``out_dir/index.html`` with its ``audio/`` and ``img/`` folders; returns the index path."""
    if max_rows_per_pair < 1:
        raise ValueError(f"max_rows_per_pair must be >= 1, got {max_rows_per_pair}")
    out_dir = Path(out_dir)
    sr = result.features.sample_rate
    systems = [s for s in result.systems if s != NONE_LABEL]
    items = {(it.system, it.utt, it.src_spk, it.tgt_spk): it for it in result.items}
    scores = {(s.system, s.utt, s.src_spk, s.tgt_spk): s for s in result.scores}
    rows = select_rows(result, max_rows_per_pair)
    total = sum(len(u) for u in rows.values()) * (2 + len(systems))
    bar = tqdm(total=total, desc="page", unit="clip", disable=not progress or total == 0)
    e = html.escape

    def clip(caption: str, path: str | None, score: str = "", note: str | None = None) -> Clip:
        bar.update()
        if path is None:
            return Clip(caption, None, None, score, note)
        try:
            wav, png = _make_assets(out_dir, path, sr)
        except (AudioError, OSError, ValueError) as exc:
            log.warning("sample page: %s left out: %s", path, exc)
            return Clip(caption, None, None, score, f"could not be read: {exc}")
        return Clip(caption, wav, png, score)

    sections = []
    try:
        for (src, tgt), utts in rows.items():
            header = ("<tr><th>utterance</th><th>source</th><th>target reference</th>"
                      + "".join(f"<th>{e(s)}</th>" for s in systems) + "</tr>")
            trs = []
            for utt in utts:
                any_item = next(items[(s, utt, src, tgt)] for s in [*systems, NONE_LABEL] if (s, utt, src, tgt) in items)
                text = f'<span class="text" dir="auto">{e(any_item.text)}</span>' if any_item.text else ""
                cells = [f'<td class="utt">{e(utt)}{text}</td>']
                floor = scores.get((NONE_LABEL, utt, src, tgt))
                cells.append(_clip_html(clip(f"{src} (source)", result.index.source_path(utt),
                                             ("no conversion: " + _score_text(floor)) if floor else "",
                                             "source audio not in --ref-data/--src-data")))
                if any_item.ref_path:
                    ref = clip(f"{tgt}: {any_item.ref_utt}", any_item.ref_path)
                else:
                    other = result.ref.spk2utt.get(tgt, [])
                    ref = clip(f"{tgt}: {other[0]} (other sentence)" if other else f"{tgt}",
                               result.ref.wav_scp[other[0]] if other else None,
                               note=f"no recording of speaker {tgt} in the reference data")
                cells.append(_clip_html(ref))
                for s in systems:
                    it = items.get((s, utt, src, tgt))
                    cells.append(_clip_html(clip(s, it.path if it else None,
                                                 _score_text(scores.get((s, utt, src, tgt))),
                                                 "not converted by this system")))
                trs.append(f'<tr class="sample" data-utt="{e(utt)}" data-pair="{e(src)}-{e(tgt)}">'
                           + "".join(cells) + "</tr>")
            groups = [g for g in result.per_pair if g["src_spk"] == src and g["tgt_spk"] == tgt]
            sections.append(f'<section class="pair" id="{e(quote(f"pair-{src}-{tgt}"))}">'
                            f"<h2>{e(src)} &rarr; {e(tgt)}</h2>{_scores_table(groups, 'system')}"
                            f'<table class="samples">{header}{"".join(trs)}</table></section>')
    finally:
        bar.close()

    legend = "".join(f"<li><b>{e(k)}</b>: {e(str(v))}</li>" for k, v in result.report["metrics"].items())
    doc = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<h1>{e(title)}</h1>\n"
        f"<p>Systems: {e(', '.join(systems))}; the source column is the no-conversion floor "
        f"(system &lsquo;{NONE_LABEL}&rsquo; in the tables). Audio at {sr} Hz.</p>\n"
        f"<h2>Overall</h2>{_scores_table(result.overall, 'system')}\n"
        f'<ul class="legend">{legend}</ul>\n' + "\n".join(sections) + "\n</body>\n</html>\n")
    index = out_dir / "index.html"
    atomic_write_text(index, doc)
    return index
