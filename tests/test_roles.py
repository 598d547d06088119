"""Roles of 附件3: a table over every (role, permission) pair, and the principles behind it."""

from __future__ import annotations

import itertools

import pytest

from kiosk.domain.roles import (
    ADMIN_ROLES,
    GRANTS,
    Permission,
    PermissionDenied,
    Role,
    RoleConflict,
    allowed,
    check_role_assignment,
    permissions_of,
    require,
)

P = Permission
OP, V, S, B = Role.OPERATOR, Role.VENDOR, Role.SYSTEM_ADMIN, Role.BUSINESS_ADMIN

# The intended matrix, written out independently of GRANTS: a change to either must be deliberate.
EXPECTED: dict[Permission, set[Role]] = {
    P.REPLACE_PAPER: {OP},
    P.VIEW_PRINT_QUEUE: {OP},
    P.REPRINT_FOR_PRESENT_RESIDENT: {OP},
    P.VIEW_OUTBOX: {OP},
    P.RETRY_OUTBOX: {OP},
    P.REPORT_FAULT: {OP},
    P.VIEW_TICKETS: {OP},
    P.VIEW_DEVICE_HEALTH: {OP, V},
    P.VIEW_NETWORK_HEALTH: {OP, V},
    P.VIEW_LOGS: {OP, V},
    P.RUN_DIAGNOSTICS: {V},
    P.EXPORT_DIAGNOSTICS: {V},
    P.VIEW_CONFIG: {S},
    P.RUN_ACCEPTANCE_CHECK: {OP, V, S},
    P.ADJUST_SOUND: {OP, V},
    P.EDIT_CONFIG: {S},
    P.MANAGE_ACCOUNTS: {S},
    P.SET_MAINTENANCE_PIN: {S},
    P.RESTART_KIOSK: {S},
    P.EXIT_TO_DESKTOP: {S},
    P.VIEW_AUDIT_LOG: {S, B},
    P.GRANT_ROLES: {B},
    P.HANDLE_APPLICATIONS: {OP},
    P.ANSWER_TICKETS: {OP},
    P.WATCH_HELP_REQUESTS: {OP},
    P.VIEW_FLEET: {OP, V, S},
    P.REVIEW_ACCOUNTS: {B},
}


def test_expected_table_covers_every_permission():
    assert set(EXPECTED) == set(Permission)


@pytest.mark.parametrize(
    ("role", "permission"),
    list(itertools.product(Role, Permission)),
    ids=lambda v: v.name if isinstance(v, Permission) else v.value,
)
def test_every_role_permission_pair(role, permission):
    expected = role in EXPECTED[permission]
    assert allowed(role, permission) is expected
    if expected:
        require(role, permission)  # no exception
    else:
        with pytest.raises(PermissionDenied) as info:
            require(role, permission)
        assert info.value.role is role and info.value.permission is permission
        assert permission.label in info.value.message and role.label in info.value.message


@pytest.mark.parametrize("role", sorted(ADMIN_ROLES))
def test_admin_roles_hold_no_business_operation(role):
    assert not any(p.business for p in permissions_of(role))


def test_vendor_holds_no_permission_touching_personal_data():
    assert not any(p.personal_data for p in permissions_of(Role.VENDOR))
    assert permissions_of(Role.VENDOR)  # but it can diagnose
    assert allowed(Role.VENDOR, P.RUN_DIAGNOSTICS)


def test_only_the_operator_holds_business_operations():
    business = {p for p in Permission if p.business}
    assert business  # the flags mean something
    for role in Role:
        held = permissions_of(role) & business
        assert (role is Role.OPERATOR) == bool(held)


def test_exit_to_desktop_is_system_admin_only():
    assert {r for r in Role if allowed(r, P.EXIT_TO_DESKTOP)} == {Role.SYSTEM_ADMIN}


def test_nobody_holds_both_admin_roles():
    with pytest.raises(RoleConflict, match="系统管理员和业务管理员"):
        check_role_assignment([Role.SYSTEM_ADMIN, Role.BUSINESS_ADMIN])


@pytest.mark.parametrize("admin", sorted(ADMIN_ROLES))
def test_admin_account_cannot_also_be_operator(admin):
    with pytest.raises(RoleConflict):
        check_role_assignment([admin, Role.OPERATOR])


@pytest.mark.parametrize(
    "roles",
    [[Role.OPERATOR], [Role.VENDOR], [Role.SYSTEM_ADMIN], [Role.BUSINESS_ADMIN], []],
)
def test_single_roles_are_valid_assignments(roles):
    assert check_role_assignment(roles) == frozenset(roles)


def test_every_role_has_grants_and_a_chinese_label():
    for role in Role:
        assert role in GRANTS and GRANTS[role]
        assert role.label and not role.label.isascii()


def test_role_values_match_the_backend_strings():
    assert {r.value for r in Role} == {"operator", "vendor", "system_admin", "business_admin"}
    assert Role("system_admin") is Role.SYSTEM_ADMIN
