"""What a cadre is told after accepting a transfer: 本会 when it is her own union that receives the member; the
receiving union by name when a federation above it accepts on its behalf."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from tests.members.access_world import WZE1

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_fresh_rate_limits")]


def _accept(client, transfer):
    return client.post(reverse("admin:transfer_detail", args=[transfer.id]), {"action": "accept"})


def _release(registry, transfer):
    from gonghui.members.services import transfer_release

    transfer_release(actor=registry.system, transfer=transfer)


def test_a_federation_above_the_receiving_union_names_it(reg, client_for):
    transfer = reg.transfers["m12_out"]
    _release(reg, transfer)
    city = client_for("city_cadre")

    response = _accept(city, transfer)

    assert response.status_code == 302
    union = reg.tree[WZE1].name
    assert [str(m) for m in get_messages(response.wsgi_request)] == [f"已接收，会员已转入“{union}”"]
    transfer.refresh_from_db()
    assert transfer.status == "completed"
