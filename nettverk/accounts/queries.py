"""Reads about accounts: who holds a role where (the timed jobs' recipients)."""

from collections import defaultdict

from sqlmodel import Session, select

from nettverk.accounts.models import RoleAssignment, User


def coordinators_by_base(session: Session, base_ids: set[int] | None = None) -> dict[int, list[User]]:
    """{base id: its active coordinators} (role "coordinator" scoped to the base; the admin is not one)."""
    query = (
        select(RoleAssignment.base_id, User)
        .join(User, User.id == RoleAssignment.user_id)
        .where(RoleAssignment.role == "coordinator", RoleAssignment.base_id.is_not(None), User.is_active)
        .order_by(RoleAssignment.base_id, User.id)
    )
    if base_ids is not None:
        if not base_ids:
            return {}
        query = query.where(RoleAssignment.base_id.in_(base_ids))
    found: dict[int, list[User]] = defaultdict(list)
    for base_id, user in session.exec(query):
        if all(known.id != user.id for known in found[base_id]):
            found[base_id].append(user)
    return found


def coordinators_of(coordinators: dict[int, list[User]], base_ids: set[int]) -> list[User]:
    """The coordinators (from coordinators_by_base) of any of these bases, each once."""
    people = {}
    for base_id in sorted(base_ids):
        for user in coordinators.get(base_id, []):
            people.setdefault(user.id, user)
    return list(people.values())
