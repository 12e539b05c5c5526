"""Print whether an evaluation (the JSON a recipe's scoring stage writes) meets the recipe's targets.

    python3 ../../recipes/check_targets.py local/targets.yaml exp/NAME/eval.json [--strict]

The targets live in a small YAML file per recipe (egs/<name>/local/targets.yaml)::

    groups:
      - title: the issue's targets
        checks:
          - name: "accuracy {key}"              # {key}: what * matched
            value: methods.stargan.accuracy.*   # dotted key into the JSON; * = every key of a mapping
            op: ">="                            # >=, >, <=, <
            target: 0.90                        # a number, or
          - name: "glyph kept, {key}"
            value: content_l1.*.output
            than: content_l1.{key}.input        # another key of the JSON
          - name: "L1 vs identity's, ratio"
            value: methods.stargan.l1
            ratio_to: methods.identity.l1       # divide the value by this one first
            op: "<="
            target: 0.8
            optional: true                      # skipped when the JSON lacks the value

A check whose value is missing is MISSED unless it is optional. Exit status 0 either way: the
table is information, not a gate; --strict makes a miss exit 1 (2: unreadable files).
"""
from __future__ import annotations

import argparse
import json
import operator
import sys
from typing import Any, Iterator

import yaml

OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt}


class TargetsError(Exception):
    pass


def lookup(data: Any, key: str) -> Any:
    """The value at a dotted key (None when any part is missing)."""
    for part in key.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def expand(data: Any, key: str) -> Iterator[tuple[str, str]]:
    """(matched key, concrete dotted key) for every match of ``key``; ``*`` matches each key of a mapping."""
    head, star, tail = key.partition("*")
    if not star:
        yield "", key
        return
    mapping = lookup(data, head.rstrip(".")) if head else data
    if isinstance(mapping, dict):
        for k in mapping:
            yield str(k), f"{head}{k}{tail}"


def number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def evaluate_checks(result: dict, spec: dict) -> list[tuple[str, list[tuple[str, float | None, str, float | None, bool]]]]:
    """[(group title, [(name, value, op, bound, met)])] for the checks of ``spec`` on ``result``."""
    groups = []
    for group in spec.get("groups") or []:
        rows = []
        for check in group.get("checks") or []:
            op = check.get("op", ">=")
            if op not in OPS:
                raise TargetsError(f"check {check.get('name')!r}: op must be one of {', '.join(OPS)}, got {op!r}")
            matches = list(expand(result, check["value"]))
            if not matches and not check.get("optional"):
                rows.append((check["name"].replace("{key}", "*"), None, op, number(check.get("target")), False))
            for key, path in matches:
                value = number(lookup(result, path))
                if "than" in check:
                    bound = number(lookup(result, check["than"].replace("{key}", key)))
                else:
                    bound = number(check.get("target"))
                if value is not None and "ratio_to" in check:
                    base = number(lookup(result, check["ratio_to"].replace("{key}", key)))
                    value = value / base if base else None
                if value is None and check.get("optional"):
                    continue
                met = value is not None and bound is not None and OPS[op](value, bound)
                rows.append((check["name"].replace("{key}", key), value, op, bound, met))
        groups.append((group.get("title", ""), rows))
    return groups


def shown(value: float | None) -> str:
    if value is None:
        return "missing"
    return f"{value:.3f}" if abs(value) >= 0.1 else f"{value:.4f}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("targets", help="the recipe's targets file (YAML)")
    p.add_argument("eval_json", help="the evaluation's JSON")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = p.parse_args(argv)
    try:
        with open(args.targets, encoding="utf-8") as f:
            spec = yaml.safe_load(f) or {}
        with open(args.eval_json, encoding="utf-8") as f:
            result = json.load(f)
        groups = evaluate_checks(result, spec)
    except (OSError, ValueError, yaml.YAMLError, KeyError, TargetsError) as exc:
        print(f"check_targets: {exc}", file=sys.stderr)
        return 2
    width = max([len(name) for _, rows in groups for name, *_ in rows] or [0])
    ok = True
    print(f"targets (step {result.get('step')}):")
    for title, rows in groups:
        if not rows:
            continue
        if title:
            print(f" {title}")
        for name, value, op, bound, met in rows:
            ok &= met
            print(f"  {name:<{width}}  {shown(value)} ({op} {shown(bound) if bound is not None else '?'})  "
                  f"{'met' if met else 'MISSED'}")
    print("all targets met" if ok else "some targets missed")
    return 0 if ok or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
