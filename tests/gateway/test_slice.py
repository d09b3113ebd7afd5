"""Ingest end to end over a real Mosquitto: store, then ack; one rating per rating window."""

from __future__ import annotations

from support.gateway import GatewayHarness

from gateway.store.tables import events, ratings


def test_rating_is_stored_once_and_acked_again(broker, tmp_path, hall):
    with GatewayHarness(broker, tmp_path, hall) as gw:
        gw.add_device("t-01", "terminal")
        with gw.device("t-01") as dev:
            dev.hello()
            rw = dev.open_rating(ticket="A001")
            body = dev.event("rating", rw=rw, level="satisfied")
            from protocol import codec, topics

            topic = topics.event(hall, "t-01", "rating")
            for _ in range(2):
                dev.publish_raw(topic, codec.encode_event("rating", body))
            dev.wait_ack(body["id"])
            dev.sync()
        assert len(gw.rows(ratings)) == 1
        assert len(gw.rows(events, events.c.event_id == body["id"])) == 1
