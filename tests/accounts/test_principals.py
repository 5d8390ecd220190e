from django.contrib.auth.models import AnonymousUser, Group

from accounts.principals import PUBLIC, principals_for_document, principals_for_user


def test_member_of_staff_sees_public_own_and_groups(alice):
    hr = Group.objects.get(name="hr")
    assert principals_for_user(alice) == {PUBLIC, f"user:{alice.pk}", f"group-id:{hr.pk}"}


def test_anonymous_and_inactive_users_have_no_principals(charlie):
    assert principals_for_user(AnonymousUser()) == frozenset()
    charlie.is_active = False
    assert principals_for_user(charlie) == frozenset()


def test_restricted_document_is_not_public():
    principals = principals_for_document(all_staff=False, group_ids=[3], owner_id=7)
    assert principals == {"group-id:3", "user:7"}
    assert PUBLIC not in principals


def test_all_staff_document_is_public():
    assert PUBLIC in principals_for_document(all_staff=True, group_ids=[], owner_id=None)


def test_charlie_shares_nothing_with_an_hr_only_document(charlie):
    hr = Group.objects.get_or_create(name="hr")[0]
    document = principals_for_document(all_staff=False, group_ids=[hr.pk], owner_id=None)
    assert not document & principals_for_user(charlie)


def test_a_group_is_named_by_its_key_so_a_name_given_again_is_another_group(alice):
    """A principal built from a name would follow the name to whoever holds it next."""
    hr = Group.objects.get(name="hr")
    document = principals_for_document(all_staff=False, group_ids=[hr.pk], owner_id=None)
    hr.name = "people"
    hr.save()
    assert document & principals_for_user(alice)  # renamed: its members keep it
    old_pk = hr.pk
    hr.delete()
    newcomer = Group.objects.create(name="hr")
    assert newcomer.pk != old_pk
    alice.groups.add(newcomer)
    assert not document & principals_for_user(alice)  # a new "hr" is another group
