"""Small counts of people are never shown: the one masking rule.

A count of 1 or 2 (below THRESHOLD) could point at one family or one person, so it is shown as «<3»; 0
stays 0. Where a column of counts has a total, `mask_column` also hides («skjult») as many other cells
as it takes so that no «<3» can be worked out from the total, and `mask_columns_with_one_total` keeps
tables that share a total from giving it away (see their docstrings for the rules).

Used by the referral statistics (referrals.statistics), an evaluation's results (nothing of the answers
under THRESHOLD answers; evaluations.queries) and the weekly digest's referral counts. The competence
matrix's «0 (ingen)» and «1 (sårbar)» are not masking: they count certified staff, not clients, and are
shown on purpose (see competence.queries).
"""

THRESHOLD = 3  # counts below this (but above 0) are shown as "<3"; medians and averages need this many
SMALL_TEXT, HIDDEN_TEXT = "<3", "skjult"
SHOWN, SMALL, HIDDEN = "shown", "small", "hidden"  # the mark of a cell


def is_small(count: int) -> bool:
    return 0 < count < THRESHOLD


def masked_count(count: int) -> str:
    """A count alone (no total beside it): 1 and 2 are «<3»."""
    return SMALL_TEXT if is_small(count) else str(count)


def mark_text(value: int, mark: str) -> str:
    return {SMALL: SMALL_TEXT, HIDDEN: HIDDEN_TEXT}.get(mark, str(value))


def _safe(values: list[int], marks: list[str], total: int, total_mark: str) -> bool:
    """Can no "<3" cell of this column be worked out from the total, for someone who knows that "<3"
    is 1 or 2, that "skjult" is at least 3 and that 0 is shown? (True when the total is hidden.)"""
    small = sum(mark == SMALL for mark in marks)
    hidden = sum(mark == HIDDEN for mark in marks)
    if small == 0 or total_mark == HIDDEN:
        return True
    if total_mark == SMALL:  # all non-zero cells are "<3" and sum to 1 or 2: two of them must both be 1
        return small == 1
    masked_sum = sum(value for value, mark in zip(values, marks, strict=True) if mark != SHOWN)
    if hidden:  # each "<3" can be 1 or 2 unless the sum is the least it could be
        return masked_sum >= small + 1 + THRESHOLD * hidden
    return small + 1 <= masked_sum <= 2 * small - 1  # neither all ones nor all twos


def mask_column(values: list[int], total: int) -> tuple[list[str], str, bool]:
    """Marks for one column of counts and its total: (cell marks, total mark, whether the total had to be
    hidden because no cell was left to hide). The rules:

    1. A count of 1 or 2 is "<3"; 0 stays 0. The total is counted from the unmasked numbers, and a total
       of 1 or 2 is "<3" too.
    2. No "<3" may be worked out by subtracting the shown cells from the total. Someone who knows that
       "<3" means 1 or 2 could do that when exactly one cell is masked, and also when the masked cells
       are all ones or all twos (two "<3" that make 2 are both 1). Then the smallest cell of at least 3
       is hidden as well ("skjult"), and again until the masked cells can no longer be split in only one
       way. We hide a cell rather than the total, so that the totals stay visible.
    3. Only if no cell is left to hide (e.g. three "<3" under a total of 3) is the total hidden.
    """
    marks = [SMALL if is_small(value) else SHOWN for value in values]
    total_mark = SMALL if is_small(total) else SHOWN
    while not _safe(values, marks, total, total_mark):
        candidates = [i for i, mark in enumerate(marks) if mark == SHOWN and values[i] >= THRESHOLD]
        if not candidates:
            return marks, HIDDEN, True
        marks[min(candidates, key=lambda i: (values[i], i))] = HIDDEN
    return marks, total_mark, False


def mask_columns_with_one_total(columns: list[tuple[list[int], int]]) -> list[tuple[list[str], str]]:
    """Marks for columns that break down the same total in different ways (per municipality, per
    tiltak): each is masked by `mask_column`, and when one of them must hide the total, the total is
    hidden in all, and in the others every non-zero cell too, so the total cannot be added up from them."""
    results = [mask_column(values, total) for values, total in columns]
    if not any(total_hidden for _, _, total_hidden in results):
        return [(marks, total_mark) for marks, total_mark, _ in results]
    return [
        (marks if total_hidden else [HIDDEN if value else SHOWN for value in values], HIDDEN)
        for (values, _), (marks, _, total_hidden) in zip(columns, results, strict=True)
    ]
