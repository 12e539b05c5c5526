"""Attribute label spaces: which label vectors are valid and how a user's edit changes one.

StarGAN conditions on a binary vector of attributes. Some attributes are mutually exclusive
(hair colours in CelebA, font families in the font set): setting one member of such a group
must clear the others, and reading predictions back must never report two members at once.
A single-label data set (one folder per domain, as RaFD or AFHQ) is the special case where
*all* attributes form one group and exactly one must be set. Keeping this logic in one object
means training (target sampling), translation (``--edit``), grids and evaluation agree on what a
valid label is, and no attribute name is ever hard-coded.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import torch
from vc.errors import VCError


class LabelError(VCError, ValueError):
    """An attribute name or assignment does not fit the label space."""


@dataclass(frozen=True)
class LabelSpace:
    """Ordered attribute names plus the groups of mutually exclusive ones.

    ``single_label`` means the data has exactly one active attribute per image (domains); the
    classification loss is then cross-entropy instead of per-attribute BCE.
    """

    names: tuple[str, ...]
    exclusive_groups: tuple[tuple[str, ...], ...] = ()
    single_label: bool = False
    group_names: tuple[str, ...] = ()  # titles of the groups in grids ('Hair'); derived when empty
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.names:
            raise LabelError("a label space needs at least one attribute")
        if len(set(self.names)) != len(self.names):
            raise LabelError(f"duplicate attribute names in {list(self.names)}")
        index = {n: i for i, n in enumerate(self.names)}
        object.__setattr__(self, "_index", index)
        seen: set[str] = set()
        for group in self.exclusive_groups:
            if len(group) < 2:
                raise LabelError(f"an exclusive group needs at least two attributes, got {list(group)}")
            for name in group:
                if name not in index:
                    raise LabelError(f"exclusive group member {name!r} is not a selected attribute; "
                                     f"selected: {', '.join(self.names)}")
                if name in seen:
                    raise LabelError(f"attribute {name!r} is in more than one exclusive group")
                seen.add(name)
        if self.single_label and self.exclusive_groups not in ((), (tuple(self.names),)):
            raise LabelError("a single-label space has exactly one group: all of its attributes")
        if not self.group_names:
            object.__setattr__(self, "group_names", tuple(_group_title(g) for g in self.exclusive_groups))
        elif len(self.group_names) != len(self.exclusive_groups):
            raise LabelError(f"{len(self.group_names)} group names for {len(self.exclusive_groups)} exclusive groups")

    @classmethod
    def create(cls, names: Sequence[str], exclusive_groups: Sequence[Sequence[str]] = (),
               single_label: bool = False, group_names: Sequence[str] = ()) -> "LabelSpace":
        groups = tuple(tuple(g) for g in exclusive_groups)
        if single_label and not groups and len(names) > 1:
            groups = (tuple(names),)
        return cls(tuple(names), groups, single_label, tuple(group_names))

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> "LabelSpace":
        """Inverse of :meth:`to_dict` (the ``attributes.json`` of a model bundle)."""
        try:
            return cls.create(list(data["names"]), [list(g) for g in data.get("exclusive_groups", [])],
                              bool(data.get("single_label", False)), list(data.get("group_names", [])))
        except (KeyError, TypeError) as exc:
            raise LabelError(f"malformed label space description: {exc}") from exc

    def to_dict(self) -> dict[str, object]:
        return {"names": list(self.names), "exclusive_groups": [list(g) for g in self.exclusive_groups],
                "group_names": list(self.group_names), "single_label": self.single_label}

    @property
    def dim(self) -> int:
        return len(self.names)

    def index(self, name: str) -> int:
        try:
            return self._index[name]
        except KeyError:
            raise LabelError(f"unknown attribute {name!r}; known: {', '.join(self.names)}") from None

    def group_of(self, name: str) -> tuple[str, ...] | None:
        for group in self.exclusive_groups:
            if name in group:
                return group
        return None

    # ---------------------------------------------------------------- validity and decoding
    def validate(self, labels: torch.Tensor, where: str = "labels") -> None:
        """Raise if a (N, dim) 0/1 label matrix breaks an exclusivity rule."""
        if labels.ndim != 2 or labels.shape[1] != self.dim:
            raise LabelError(f"{where}: expected shape (N, {self.dim}), got {tuple(labels.shape)}")
        for group in self.exclusive_groups:
            cols = [self.index(n) for n in group]
            active = labels[:, cols].sum(dim=1)
            bad = (active > 1) | ((active != 1) if self.single_label else torch.zeros_like(active, dtype=torch.bool))
            if bool(bad.any()):
                row = int(torch.nonzero(bad)[0])
                need = "exactly one" if self.single_label else "at most one"
                raise LabelError(f"{where}: row {row} has {int(active[row])} of {list(group)} set; {need} allowed")

    def decode(self, logits: torch.Tensor) -> torch.Tensor:
        """Turn classifier logits (N, dim) into valid 0/1 label vectors.

        Independent attributes use p > 0.5; inside a group only the most likely member may be
        set (and, for single-label spaces, it always is).
        """
        labels = (logits > 0).float()
        for group in self.exclusive_groups:
            cols = torch.tensor([self.index(n) for n in group])
            sub = logits[:, cols]
            best = sub.argmax(dim=1)
            one = torch.zeros_like(sub).scatter_(1, best[:, None], 1.0)
            if not self.single_label:
                one = one * (sub.gather(1, best[:, None]) > 0).float()
            labels[:, cols] = one
        return labels

    # ---------------------------------------------------------------- user edits
    def parse_assignment(self, text: str) -> dict[str, float]:
        """Parse ``"Blond_Hair=1,Male=0"`` into ``{name: 0.0/1.0}`` with clear errors."""
        out: dict[str, float] = {}
        for item in filter(None, (s.strip() for s in text.split(","))):
            name, sep, value = item.partition("=")
            name, value = name.strip(), value.strip()
            if not sep or value not in ("0", "1"):
                raise LabelError(f"bad attribute setting {item!r}: expected NAME=0 or NAME=1")
            self.index(name)
            if name in out:
                raise LabelError(f"attribute {name!r} is set twice in {text!r}")
            out[name] = float(value)
        return out

    def apply(self, base: torch.Tensor, assignment: Mapping[str, float]) -> torch.Tensor:
        """Return ``base`` (dim,) with ``assignment`` applied; setting a group member clears the rest."""
        groups_set: dict[tuple[str, ...], str] = {}
        for name, value in assignment.items():
            group = self.group_of(name)
            if group is not None and value == 1.0:
                if group in groups_set:
                    raise LabelError(f"{groups_set[group]!r} and {name!r} are mutually exclusive")
                groups_set[group] = name
        out = base.clone().float()
        for name, value in assignment.items():
            group = self.group_of(name)
            if group is not None and value == 1.0:
                for other in group:
                    out[self.index(other)] = 0.0
            out[self.index(name)] = value
        if self.single_label and float(out.sum()) != 1.0:
            raise LabelError(f"exactly one domain must be set, got "
                             f"{[n for n, v in zip(self.names, out.tolist()) if v]}")
        return out

    def describe(self, label: torch.Tensor) -> str:
        """Short human form of a label vector: the names of the active attributes."""
        active = [n for n, v in zip(self.names, label.tolist()) if v > 0.5]
        return "+".join(active) if active else "(none)"

    # ---------------------------------------------------------------- edits used by grids/eval
    def factors(self) -> list[tuple[str, tuple[str, ...]]]:
        """Independent things one can change: each exclusive group, then each free attribute.

        Returns ``(title, members)``; a group's title is its entry in ``group_names``.
        """
        out: list[tuple[str, tuple[str, ...]]] = []
        grouped = {n for g in self.exclusive_groups for n in g}
        for title, group in zip(self.group_names, self.exclusive_groups):
            out.append((title, group))
        for name in self.names:
            if name not in grouped:
                out.append((name, (name,)))
        return out

    def factor_edit(self, members: tuple[str, ...], source: torch.Tensor) -> dict[str, float]:
        """The edit that changes one factor of ``source``.

        A free attribute is flipped; a group moves to the member after the source's active one
        (cyclically; the first member when none is active), so the edit always changes the image.
        """
        if len(members) == 1:
            name = members[0]
            return {name: 1.0 - float(source[self.index(name)] > 0.5)}
        active = [i for i, n in enumerate(members) if source[self.index(n)] > 0.5]
        nxt = (active[0] + 1) % len(members) if active else 0
        return {members[nxt]: 1.0}

    def edit_columns(self, max_combos: int = 11) -> list[tuple[str, list[tuple[str, ...]] | str]]:
        """The columns of a StarGAN Figure-4 grid, as (title, recipe).

        First every single attribute (a group member is set, a free attribute flipped), then the
        combinations of two or more factors (H+G, H+A, G+A, H+G+A for CelebA's defaults), at most
        ``max_combos`` of them so that wide label spaces keep a readable grid.
        """
        cols: list[tuple[str, list[tuple[str, ...]] | str]] = [(n, n) for n in self.names]
        facs = self.factors()
        combos: list[tuple[str, list[tuple[str, ...]] | str]] = []
        for size in range(2, len(facs) + 1):
            for combo in itertools.combinations(facs, size):
                combos.append(("+".join(f[0] for f in combo), [f[1] for f in combo]))
        return cols + combos[:max_combos]

    def column_target(self, recipe: list[tuple[str, ...]] | str, source: torch.Tensor) -> torch.Tensor:
        """Target label for one grid column given the source label (dim,)."""
        if isinstance(recipe, str):
            group = self.group_of(recipe)
            value = 1.0 if group is not None else 1.0 - float(source[self.index(recipe)] > 0.5)
            return self.apply(source, {recipe: value})
        edit: dict[str, float] = {}
        for members in recipe:
            edit.update(self.factor_edit(members, source))
        return self.apply(source, edit)

    def column_targets(self, source: torch.Tensor, max_combos: int = 11) -> list[tuple[str, torch.Tensor]]:
        """All grid-column targets for each row of ``source`` (N, dim): [(title, (N, dim))]."""
        out = []
        for title, recipe in self.edit_columns(max_combos):
            out.append((title, torch.stack([self.column_target(recipe, s) for s in source])))
        return out


def _group_title(group: Sequence[str]) -> str:
    """Default group title: the word its members share ('Hair' for Black_Hair/Blond_Hair/...),
    else the members joined by '/'."""
    parts = [name.split("_") for name in group]
    common = set(parts[0]).intersection(*parts[1:])
    if common:
        return "_".join(w for w in parts[0] if w in common)
    return "/".join(group)


def cls_target(space: LabelSpace, labels: torch.Tensor) -> torch.Tensor:
    """The target form ``vc.gan.classification_loss`` expects: class indices for single-label
    data (cross-entropy), the float 0/1 matrix for multi-label data (per-attribute BCE)."""
    return labels.argmax(dim=1) if space.single_label else labels
