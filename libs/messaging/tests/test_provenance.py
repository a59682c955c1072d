"""Who sent an event: the broker's word, or a header kept by a login we trust."""

from types import SimpleNamespace

import pytest
from confide_messaging.provenance import SENT_BY_HEADER, ForgedProducer, check_producer, first_sender
from nameko import config

pytestmark = pytest.mark.unit


def message(user_id, **headers):
    return SimpleNamespace(properties={"user_id": user_id} if user_id else {}, headers=headers)


@pytest.fixture(autouse=True)
def per_service_logins():
    with config.patch({"BROKER_PRODUCER_USER": "confide-{producer}", "BROKER_OPERATORS": "confide-admin"}):
        yield


def test_the_broker_says_who_sent_it():
    check_producer("credentialing", message("confide-credentialing"))
    for sender in ("confide-billing", None):
        with pytest.raises(ForgedProducer):
            check_producer("credentialing", message(sender))


def test_a_header_counts_only_from_a_login_we_trust():
    """A forger's own header is not believed -- not even after its dead letter is
    put back by an operator, since the forwarder writes the broker's word in it."""
    forged = message("confide-billing", **{SENT_BY_HEADER: "confide-credentialing"})
    assert first_sender(forged, own_user="confide-records") == "confide-billing"
    parked = message("confide-records", **{SENT_BY_HEADER: first_sender(forged, "confide-records")})
    replayed = message("confide-admin", **parked.headers)
    with pytest.raises(ForgedProducer):
        check_producer("credentialing", replayed, own_user="confide-records")
    genuine_retry = message("confide-records", **{SENT_BY_HEADER: "confide-credentialing"})
    check_producer("credentialing", genuine_retry, own_user="confide-records")
