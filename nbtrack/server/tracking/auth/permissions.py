"""The permission rules of ``nbtrack server --auth``, as MLflow's basic-auth app has them.

A user holds one of four permissions on each experiment and each registered
model (MLflow's names, weakest first):

=================  ======  ======  ================
permission         read    write   delete / grant
=================  ======  ======  ================
``NO_PERMISSIONS``
``READ``           yes
``EDIT``           yes     yes
``MANAGE``         yes     yes     yes
=================  ======  ======  ================

What a user holds on a resource is their explicit grant if they have one, else
the server's *default permission* (``READ`` unless configured otherwise, as in
MLflow's ``basic_auth.ini``). Admins hold everything, everywhere. The creator
of an experiment or registered model is granted ``MANAGE`` on it. A run (and
its metrics, artifacts and logged models) takes the permission of its
experiment; a model version that of its registered model.

A route needs a *level*: ``READ`` to read, ``EDIT`` to write, ``MANAGE`` to
delete, restore, rename or grant (the table is
:mod:`nbtrack.server.tracking.permissions_table`).
"""

from __future__ import annotations

from nbtrack.errors import InvalidInput

__all__ = [
    "DEFAULT_PERMISSION",
    "LEVELS",
    "allows",
    "check_permission",
    "effective",
]

#: Permission names, weakest first; an index is the strength.
LEVELS = ("NO_PERMISSIONS", "READ", "EDIT", "MANAGE")
_RANK = {name: rank for rank, name in enumerate(LEVELS)}
#: What a user holds on a resource they have no grant on (MLflow's default).
DEFAULT_PERMISSION = "READ"


def check_permission(name: str) -> str:
    """Return ``name`` upper-cased if it is a permission, else raise InvalidInput."""
    upper = name.upper()
    if upper not in _RANK:
        raise InvalidInput(f"Unknown permission {name!r}; choose one of {', '.join(LEVELS)}")
    return upper


def effective(grant: str | None, default: str) -> str:
    """The permission a user holds: their grant on the resource, else the default."""
    return grant if grant is not None else default


def allows(permission: str, level: str) -> bool:
    """True if holding ``permission`` is enough for a route that needs ``level``.

    An unknown permission (a row written by hand) allows nothing.
    """
    return _RANK.get(permission, 0) >= _RANK[level]
