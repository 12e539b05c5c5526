"""Print whether a StarGAN v2 font-set evaluation (vc-img-evaluate JSON) meets the recipe's targets.

Targets: domain accuracy of latent- and reference-guided outputs >= 0.90; bold and oblique of
the reference carried over in >= 0.80 of reference-guided outputs; latent-guided diversity
clearly above zero, i.e. above StarGAN v1's (0: deterministic for a fixed label). And, as the
condition under which the others mean anything, the outputs must keep their input's glyph: L1 to
its true rendering in the target family below the unchanged input's (a generator that draws some
glyph of the right family from the style alone scores well on every other line). Exit status 0
either way (the table is information); --strict makes a miss exit 1.
"""
import argparse
import json
import sys

MIN_DOMAIN = 0.90
MIN_STYLE = 0.80
MIN_DIVERSITY = 0.01  # mean pairwise L1 on [0, 1] pixels: "clearly above zero"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("eval_json")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = p.parse_args()
    with open(args.eval_json, encoding="utf-8") as f:
        r = json.load(f)
    issue = [(f"domain accuracy, {m}-guided", r["domain_accuracy"][m], ">=", MIN_DOMAIN)
             for m in ("latent", "reference")]
    issue += [(f"reference {name} transferred", v, ">=", MIN_STYLE) for name, v in r.get("style_transfer", {}).items()]
    issue.append(("latent diversity (L1) vs StarGAN v1's 0", r["diversity_l1"]["latent"], ">=", MIN_DIVERSITY))
    content = r.get("content_l1")
    ours = []
    if isinstance(content, dict):
        ours = [(f"glyph kept, {m}: L1 to it < input's", content[m]["output"], "<", content[m]["input"])
                for m in ("latent", "reference")]
    ok = True
    print(f"targets (step {r.get('step')}):")
    for title, checks in (("the issue's targets", issue), ("our stricter check: the outputs keep their input's glyph", ours)):
        if not checks:
            continue
        print(f" {title}")
        for name, value, op, target in checks:
            hit = value is not None and (value >= target if op == ">=" else value < target)
            ok &= hit
            print(f"  {name:42s} {value:.3f} ({op} {target:.3g})  {'met' if hit else 'MISSED'}")
    print("all targets met" if ok else "some targets missed")
    return 0 if ok or not args.strict else 1


if __name__ == "__main__":
    sys.exit(main())
