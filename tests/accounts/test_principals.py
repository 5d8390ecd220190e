from django.contrib.auth.models import AnonymousUser

from accounts.principals import PUBLIC, principals_for_document, principals_for_user


def test_member_of_staff_sees_public_own_and_groups(alice):
    assert principals_for_user(alice) == {PUBLIC, f"user:{alice.pk}", "group:hr"}


def test_anonymous_and_inactive_users_have_no_principals(charlie):
    assert principals_for_user(AnonymousUser()) == frozenset()
    charlie.is_active = False
    assert principals_for_user(charlie) == frozenset()


def test_restricted_document_is_not_public():
    principals = principals_for_document(all_staff=False, group_names=["hr"], owner_id=7)
    assert principals == {"group:hr", "user:7"}
    assert PUBLIC not in principals


def test_all_staff_document_is_public():
    assert PUBLIC in principals_for_document(all_staff=True, group_names=[], owner_id=None)


def test_charlie_shares_nothing_with_an_hr_only_document(charlie):
    document = principals_for_document(all_staff=False, group_names=["hr"], owner_id=None)
    assert not document & principals_for_user(charlie)
