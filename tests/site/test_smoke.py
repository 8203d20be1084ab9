from gonghui.orgs.selectors import org_children, orgs_visible_to


def test_tree_fixture_and_scope(tree, actors):
    assert orgs_visible_to(actors["town_cadre"]).count() == 4
    assert [o.code for o in org_children(actor=actors["city_cadre"], org_id=tree["SZ"].id)] == ["SZ-GS", "SZ-WZ"]
