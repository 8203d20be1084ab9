"""The unscoped read functions other domains use (gonghui/orgs/selectors.py): exact rows, and nothing for nothing."""

from gonghui.orgs.selectors import below_each, orgs_by_code, orgs_by_path, orgs_by_uscc


def test_below_each_reads_the_level_below_every_given_organisation(tree):
    got = sorted(org.code for org in below_each([tree["SZ-GS"], tree["SZ-WZ"]]))
    assert got == ["SZ-GS-T01", "SZ-GS-T02", "SZ-WZ-T01"]


def test_below_each_of_no_organisation_is_nothing(tree):
    # An empty OR would match every organisation: none given reads none.
    assert list(below_each([])) == []


def test_lookups_by_code_and_path_read_exactly_those(tree):
    assert sorted(o.code for o in orgs_by_code(["SZ-GS", "SZ-WZ-T01", "NOPE"])) == ["SZ-GS", "SZ-WZ-T01"]
    assert [o.code for o in orgs_by_path([tree["SZ-GS-T02"].path])] == ["SZ-GS-T02"]
    assert list(orgs_by_uscc([])) == []
