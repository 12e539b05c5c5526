"""Label spaces: exclusive groups, user edits, decoding and the Figure-4 columns."""
import pytest
import torch

from vc.image.labels import LabelError, LabelSpace

CELEBA = LabelSpace.create(["Black_Hair", "Blond_Hair", "Brown_Hair", "Male", "Young"],
                           [["Black_Hair", "Blond_Hair", "Brown_Hair"]])


def vec(*values):
    return torch.tensor(values, dtype=torch.float32)


def test_setting_a_group_member_clears_the_others_and_keeps_the_rest():
    src = vec(1, 0, 0, 1, 1)  # black hair, male, young
    out = CELEBA.apply(src, CELEBA.parse_assignment("Blond_Hair=1, Male=0"))
    assert out.tolist() == [0, 1, 0, 0, 1]
    assert src.tolist() == [1, 0, 0, 1, 1]  # the source is not modified


def test_clearing_a_member_leaves_the_group_empty():
    assert CELEBA.apply(vec(1, 0, 0, 1, 1), {"Black_Hair": 0.0}).tolist() == [0, 0, 0, 1, 1]


@pytest.mark.parametrize("text, message", [
    ("Blond=1", "unknown attribute 'Blond'"),
    ("Male=2", "expected NAME=0 or NAME=1"),
    ("Male", "expected NAME=0 or NAME=1"),
    ("Male=1,Male=0", "set twice"),
])
def test_bad_assignments_are_clear_errors(text, message):
    with pytest.raises(LabelError, match=message):
        CELEBA.parse_assignment(text)


def test_two_members_of_one_group_cannot_both_be_set():
    with pytest.raises(LabelError, match="mutually exclusive"):
        CELEBA.apply(vec(0, 0, 0, 0, 0), CELEBA.parse_assignment("Black_Hair=1,Blond_Hair=1"))


def test_group_members_must_be_selected_attributes():
    with pytest.raises(LabelError, match="Gray_Hair"):
        LabelSpace.create(["Black_Hair", "Male"], [["Black_Hair", "Gray_Hair"]])


def test_decode_keeps_at_most_one_member_per_group():
    logits = torch.tensor([[2.0, 3.0, -1.0, 0.5, -0.5],   # two hair colours positive: the larger wins
                           [-2.0, -3.0, -1.0, -0.5, 4.0]])  # none positive: none set
    assert CELEBA.decode(logits).tolist() == [[0, 1, 0, 1, 0], [0, 0, 0, 0, 1]]


def test_single_label_space_always_has_exactly_one_domain():
    space = LabelSpace.create(["angry", "happy", "sad"], single_label=True)
    assert space.exclusive_groups == (("angry", "happy", "sad"),)
    assert space.decode(torch.tensor([[-5.0, -3.0, -4.0]])).tolist() == [[0, 1, 0]]
    assert space.apply(vec(1, 0, 0), {"sad": 1.0}).tolist() == [0, 0, 1]
    with pytest.raises(LabelError, match="exactly one domain"):
        space.apply(vec(1, 0, 0), {"angry": 0.0})


def test_figure4_columns_follow_the_paper_layout():
    titles = [t for t, _ in CELEBA.edit_columns()]
    assert titles == ["Black_Hair", "Blond_Hair", "Brown_Hair", "Male", "Young",
                      "Hair+Male", "Hair+Young", "Male+Young", "Hair+Male+Young"]
    src = vec(1, 0, 0, 1, 1).unsqueeze(0)
    targets = dict(CELEBA.column_targets(src))
    assert targets["Male"].tolist() == [[1, 0, 0, 0, 1]]  # binary attribute flipped
    assert targets["Brown_Hair"].tolist() == [[0, 0, 1, 1, 1]]  # member set, others cleared
    # the hair factor moves to the next colour after the source's, so the edit always changes it
    assert targets["Hair+Male+Young"].tolist() == [[0, 1, 0, 0, 0]]
    for _, t in CELEBA.column_targets(src):
        CELEBA.validate(t)


def test_group_names_round_trip_and_default_to_the_shared_word():
    assert CELEBA.group_names == ("Hair",)
    fonts = LabelSpace.create(["Sans", "Serif", "Mono", "Bold"], [["Sans", "Serif", "Mono"]], group_names=["Family"])
    assert LabelSpace.from_dict(fonts.to_dict()) == fonts
    assert [t for t, _ in fonts.edit_columns()][-1] == "Family+Bold"
