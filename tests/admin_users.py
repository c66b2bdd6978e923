"""Admin users of the tests. Tests get the finance user from the `finance_user` fixture."""

from payments.staff import create_finance_user


def finance_user(username: str = "fiona", organizations: list[str] | None = None):
    """A staff member of the "Finance staff" group: a member of `organizations`, or, when None, one
    who also sees every organization (transactional tests empty every table, so the group and its
    permissions are made again)."""
    return create_finance_user(username=username, password="pw", organizations=organizations or [],
                               all_organizations=organizations is None)
