"""Print whether a font-set evaluation (vc-img-evaluate JSON) meets the recipe's targets.

Targets: attribute accuracy of the translations >= 0.90 for every attribute, and L1 to the
ground-truth rendering clearly below the identity baseline's (at most 0.8 x). Exit status 0
either way: the table is information, not a gate; --strict makes a miss exit 1.
"""
import argparse
import json
import sys

MIN_ACCURACY = 0.90
MAX_L1_RATIO = 0.8


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("eval_json")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = p.parse_args()
    with open(args.eval_json, encoding="utf-8") as f:
        result = json.load(f)
    model, ident = result["methods"]["stargan"], result["methods"]["identity"]
    ok = True
    print(f"targets (step {result['step']}):")
    for name, acc in model["accuracy"].items():
        hit = acc >= MIN_ACCURACY
        ok &= hit
        print(f"  accuracy {name:10s} {acc:.3f} (>= {MIN_ACCURACY})  {'met' if hit else 'MISSED'}")
    if "l1" in model:
        ratio = model["l1"] / ident["l1"]
        hit = ratio <= MAX_L1_RATIO
        ok &= hit
        print(f"  L1 {model['l1']:.4f} vs identity {ident['l1']:.4f}: ratio {ratio:.2f} "
              f"(<= {MAX_L1_RATIO})  {'met' if hit else 'MISSED'}")
    print("all targets met" if ok else "some targets missed")
    return 0 if ok or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
