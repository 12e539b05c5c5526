"""What the ``vc-img-*`` front ends share: each image model's options in an argument group of its
own (so that every ``--help`` shows every model's modes), the check that a command line uses only
the options of the model it runs, and the device and input-file conventions.

A model contributes options through its registry entry's ``add_cli_options`` hook,
``hook(group, command)`` with ``command`` one of ``translate`` or ``evaluate``; the command's
body is its entry's ``translate`` or ``evaluate`` (``body(args)``).
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

from vc.cli.common import add_verbose_option
from vc.errors import VCError
from vc.registry import IMAGE, ModelEntry, bundle_entry, entries, models_help


class OptionError(VCError, ValueError):
    """A command line that does not fit the model it runs (or the files it names)."""


def bundle_parser(prog: str, description: str, text: str) -> argparse.ArgumentParser:
    """The parser of a command that reads a bundle: ``--model/--exp DIR`` first, ``text`` and the
    list of image models in the epilog."""
    p = argparse.ArgumentParser(prog=prog, description=description, epilog=epilog(text),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", "--exp", dest="model", required=True, metavar="DIR",
                   help="model bundle folder written by vc-img-train (its config.yaml names the model)")
    return p


def finish_bundle_parser(p: argparse.ArgumentParser, command: str, no_ema: str) -> argparse.ArgumentParser:
    """Add what every bundle command ends with: ``--device``, ``--no-ema`` (help ``no_ema``),
    ``-v`` and each model's argument group of ``command``."""
    p.add_argument("--device", default="auto", help="auto | cpu | cuda[:N] (default: auto, a GPU when there is one)")
    p.add_argument("--no-ema", action="store_true", help=no_ema)
    add_verbose_option(p)
    p.set_defaults(model_actions=add_model_options(p, command))
    return p


def add_model_options(parser: argparse.ArgumentParser, command: str) -> dict[str, list[argparse.Action]]:
    """One argument group per image model with that model's options of ``command``; returns each
    model's actions (for :func:`check_model_options`)."""
    out: dict[str, list[argparse.Action]] = {}
    for entry in entries(IMAGE):
        if not entry.add_cli_options:
            continue
        group = parser.add_argument_group(f"{entry.name} options", f"only for a {entry.name} model")
        entry.resolve("add_cli_options")(group, command)
        if not group._group_actions:  # nothing of its own for this command: no empty heading
            parser._action_groups.remove(group)
            continue
        out[entry.name] = list(group._group_actions)
    return out


def check_model_options(args: argparse.Namespace, actions: dict[str, list[argparse.Action]], model: str) -> None:
    """Refuse options of another model than ``model`` (the one the bundle or config holds)."""
    for name, acts in actions.items():
        if name == model:
            continue
        used = [a.option_strings[0] for a in acts if getattr(args, a.dest, a.default) != a.default]
        if used:
            raise OptionError(f"{', '.join(used)}: option(s) of {name}, but this is a {model} model "
                              f"(its options are under '{model} options' in --help)")


def bundle_model(args: argparse.Namespace) -> ModelEntry:
    """The registry entry of the model the bundle ``args.model`` holds, after checking that the
    command line uses no other model's options (``args.model_actions``)."""
    from vc.image.bundle import CONFIG, BundleError  # torch: not needed for --help

    if not (Path(args.model) / CONFIG).is_file():
        raise BundleError(f"{args.model}: not an image model bundle (no {CONFIG})")
    entry, _ = bundle_entry(args.model, IMAGE)
    check_model_options(args, args.model_actions, entry.name)
    return entry


def epilog(text: str) -> str:
    """``text`` followed by the list of image models."""
    return text.rstrip("\n") + "\n\n" + models_help(IMAGE) + "\n"


def resolve_device(spec: str, name: str = "--device") -> str:
    """``vc.gan.runtime.check_device`` (imported on use: ``--help`` needs no torch)."""
    from vc.gan.runtime import check_device

    return check_device(spec, name)


def check_out(out: Path, inputs: Sequence[Path]) -> None:
    """Refuse an output path that is one of the inputs (it would be overwritten)."""
    resolved = out.resolve()
    for p in inputs:
        if resolved == Path(p).resolve():
            raise OptionError(f"--out {out} is the input image {p}; refusing to overwrite an input")
