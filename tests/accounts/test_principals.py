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


def test_visible_documents_reads_the_rule_from_the_documents_side(alice):
    from accounts.principals import may_see, visible_documents

    hr = Group.objects.get(name="hr")
    visible = visible_documents(principals_for_user(alice))
    assert visible.all_staff and visible.group_ids == {hr.pk} and visible.owner_ids == {alice.pk}
    assert visible_documents([]) == visible_documents(principals_for_user(AnonymousUser()))
    assert not visible_documents([]).all_staff

    for all_staff, groups, owner in [(True, [], None), (False, [hr.pk], None), (False, [], alice.pk)]:
        document = principals_for_document(all_staff=all_staff, group_ids=groups, owner_id=owner)
        assert may_see(principals_for_user(alice), document)
    other = principals_for_document(all_staff=False, group_ids=[hr.pk + 1], owner_id=alice.pk + 1)
    assert not may_see(principals_for_user(alice), other)
