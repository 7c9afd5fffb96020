"""References between features: the projects a proposal is linked to, and the proposal it was
merged into. A write never leaves a feature pointing at nothing: links name existing projects, a
merge names a published, open proposal, and what others point at cannot be deleted or withdrawn.
"""

from __future__ import annotations

from geoservice.domain.model import PROJECTEN, VOORSTELLEN, Collection
from geoservice.domain.validation import Conflict, ValidationError
from geoservice.store.values import decode_value

MERGE_TARGET_REFUSED = ("samengevoegd", "afgewezen")


def check_links(tx, collection: Collection, props: list[dict]) -> None:
    """Refuse proposals linked to projects that do not exist."""
    if collection is not VOORSTELLEN:
        return
    named = sorted({pid for p in props for pid in p.get("projecten") or ()})
    if not named:
        return
    marks = ", ".join("?" * len(named))
    found = {row[0] for row in tx.execute(f"SELECT fid FROM projecten WHERE fid IN ({marks})", named).fetchall()}
    missing = [pid for pid in named if pid not in found]
    if missing:
        raise ValidationError(f"projecten: no project {', '.join(map(str, missing))}")


def check_merge_target(store, tx, feature_id, target) -> None:
    """A proposal may be merged into another published proposal that is still open."""
    if target == feature_id or not store.lock_row(tx, VOORSTELLEN.name, "fid", target):
        raise ValidationError(f"samengevoegd_met: no other proposal {target}")
    status, published = tx.execute("SELECT status, gepubliceerd FROM voorstellen WHERE fid = ?", (target,)).fetchone()
    if published is None:
        raise ValidationError(f"samengevoegd_met: proposal {target} is not published")
    if status in MERGE_TARGET_REFUSED:
        raise ValidationError(f"samengevoegd_met: proposal {target} is {status} itself")


def check_unreferenced(tx, collection: Collection, feature_id) -> None:
    """Refuse to delete a project that proposals are linked to, or a proposal others were merged into
    (its support holds theirs)."""
    if collection is PROJECTEN:
        rows = tx.execute("SELECT fid, projecten FROM voorstellen WHERE projecten IS NOT NULL").fetchall()
        field = VOORSTELLEN.field_map["projecten"]
        linking = sorted(fid for fid, links in rows if feature_id in decode_value(field, links))
        if linking:
            raise Conflict(f"project {feature_id} is linked from proposal(s) {_listed(linking)}: unlink them first")
    elif collection is VOORSTELLEN:
        merged = sorted(
            row[0]
            for row in tx.execute("SELECT fid FROM voorstellen WHERE samengevoegd_met = ?", (feature_id,)).fetchall()
        )
        if merged:
            raise Conflict(
                f"proposal(s) {_listed(merged)} were merged into proposal {feature_id}, which holds "
                "their support: it cannot go (reject it instead)"
            )


def _listed(ids: list[int], shown: int = 10) -> str:
    text = ", ".join(map(str, ids[:shown]))
    return text + (f" and {len(ids) - shown} more" if len(ids) > shown else "")
