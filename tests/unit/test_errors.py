"""The core's refusals and the HTTP statuses the edge gives them."""

from common import errors
from common.web import status_of


def test_the_edge_answers_every_kind_of_refusal_with_its_status():
    """The core raises kinds, common.web gives them statuses: a new kind must get one too."""
    kinds = [kind for kind in vars(errors).values() if isinstance(kind, type) and issubclass(kind, errors.Refusal)]
    statuses = {kind.__name__: status_of(kind("code", "message")) for kind in kinds if kind is not errors.Refusal}
    assert statuses == {"MalformedInput": 400, "InvalidInput": 422, "Conflict": 409}
