"""What a user may see: territory scope and the medical-commercial firewall, in one place."""

from .models import MEDICAL_ROLES, Observation, User


def scoped(query, user: User, territory_column):
    """Restrict a select to the user's territories (no restriction for HQ and admin)."""
    territory_ids = user.territory_ids()
    if territory_ids is None:
        return query
    return query.where(territory_column.in_(territory_ids))


def cache_scope(user: User) -> tuple:
    """What the key of a kept figure carries of its viewer: their territories ("all" for HQ)
    and whether they see medical insights. Viewers with the same scope see the same figures,
    and no figure is ever shared beyond it."""
    return tuple(user.territory_ids() or ()) or "all", user.sees_medical


def in_scope(user: User, territory_id: int) -> bool:
    territory_ids = user.territory_ids()
    return territory_ids is None or territory_id in territory_ids


def visible_observations(query, user: User, territory_column=Observation.territory_id,
                         author_role_column=Observation.author_role):
    """Restrict an Observation select to the user's scope; MSL insights only reach medical roles.
    The columns may be another table's copy of a call's (a play run keeps its call's)."""
    query = scoped(query, user, territory_column)
    if not user.sees_medical:
        query = query.where(author_role_column.not_in(MEDICAL_ROLES))
    return query


def user_may_see(user: User, observation: Observation) -> bool:
    if not in_scope(user, observation.territory_id):
        return False
    return user.sees_medical or observation.author_role not in MEDICAL_ROLES
