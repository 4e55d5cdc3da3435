"""The matcher over real mutual TLS on port 0: matching, identity, durability."""

from __future__ import annotations

import grpc
import pytest

from fedalert.v1 import matcher_pb2 as pb
from tests.helpers import add_group, drain, publish, record


def _types(alerts):
    return [pb.AlertType.Name(a.type) for a in alerts]


def test_cross_area_match_alerts_both_areas(matcher):
    a, b = matcher.stub("a"), matcher.stub("b")
    publish(a, record("handleA0001", name_dob="p1", pnc="x1"))
    publish(b, record("handleB0001", name_dob="p1", pnc="x1"))
    got_a, got_b = drain(a), drain(b)
    assert len(got_a) == len(got_b) == 1
    alert_a, alert_b = got_a[0], got_b[0]
    assert alert_a.match_id == alert_b.match_id
    assert alert_a.type == alert_b.type == pb.ALERT_TYPE_NEW
    assert (alert_a.other_area, alert_b.other_area) == ("b", "a")
    assert (alert_a.handle, alert_b.handle) == ("handleA0001", "handleB0001")
    assert alert_a.tier == "high"
    assert sorted(alert_a.key_kinds) == ["name_dob", "pnc"]
    # The other side's handle is never revealed.
    assert "handleB0001" not in str(alert_a) and "handleA0001" not in str(alert_b)


def test_no_match_within_one_area_and_no_leak_of_non_matches(matcher):
    a, b, c = matcher.stub("a"), matcher.stub("b"), matcher.stub("c")
    publish(a, record("handleA0001", name_dob="p1"), record("handleA0002", name_dob="p1"))
    publish(b, record("handleB0001", name_dob="someone-else"))
    assert drain(a) == [] and drain(b) == []
    publish(c, record("handleC0001", name_dob="p1"))
    got_c = drain(c)
    # c matches both a records; a hears of each; b hears nothing.
    assert len(got_c) == 2 and {x.other_area for x in got_c} == {"a"}
    assert len(drain(a)) == 2
    assert drain(b) == []


def test_match_is_upgraded_not_duplicated(matcher):
    a, b = matcher.stub("a"), matcher.stub("b")
    publish(a, record("handleA0001", nick_name_dob="p1", name_dob="exact-a"))
    publish(b, record("handleB0001", nick_name_dob="p1", name_dob="exact-b"))
    first = drain(a)
    assert _types(first) == ["ALERT_TYPE_NEW"] and first[0].tier != "high"
    publish(b, record("handleB0001", nick_name_dob="p1", name_dob="exact-a"))
    second = drain(a, after=first[-1].cursor)
    assert _types(second) == ["ALERT_TYPE_UPGRADED"]
    assert second[0].match_id == first[0].match_id and second[0].tier == "high"


def test_withdraw_tells_both_areas(matcher):
    a, b = matcher.stub("a"), matcher.stub("b")
    publish(a, record("handleA0001", pnc="x9"))
    publish(b, record("handleB0001", pnc="x9"))
    new_a, new_b = drain(a), drain(b)
    resp = b.Withdraw(pb.WithdrawRequest(handle="handleB0001", reason="closed"), timeout=5)
    assert resp.matches_withdrawn == 1
    wa, wb = drain(a, after=new_a[-1].cursor), drain(b, after=new_b[-1].cursor)
    assert _types(wa) == _types(wb) == ["ALERT_TYPE_WITHDRAWN"]
    assert wa[0].match_id == new_a[0].match_id


def test_replayed_batch_changes_nothing(matcher):
    a, b = matcher.stub("a"), matcher.stub("b")
    publish(a, record("handleA0001", pnc="x1"))
    req_b = record("handleB0001", pnc="x1")
    assert publish(b, req_b, batch_id="batch-1").duplicate is False
    assert len(drain(a)) == 1
    # Withdraw, then replay the old batch: it must not resurrect the record.
    b.Withdraw(pb.WithdrawRequest(handle="handleB0001", reason="error"), timeout=5)
    assert publish(b, req_b, batch_id="batch-1").duplicate is True
    alerts = drain(a)
    assert _types(alerts) == ["ALERT_TYPE_NEW", "ALERT_TYPE_WITHDRAWN"]


def test_area_cannot_touch_another_areas_records_or_alerts(matcher):
    a, b = matcher.stub("a"), matcher.stub("b")
    publish(a, record("handleA0001", pnc="x1"))
    publish(b, record("handleB0001", pnc="x1"))
    alert_b = drain(b)[0]
    # a publishes and withdraws under b's handle: that only ever names a's own records.
    publish(a, record("handleB0001", pnc="other"))
    a.Withdraw(pb.WithdrawRequest(handle="handleB0001", reason="error"), timeout=5)
    # a cannot acknowledge b's alert; b still gets it.
    assert a.AckAlert(pb.AckAlertRequest(alert_id=alert_b.alert_id), timeout=5).acknowledged is False
    assert [x.alert_id for x in drain(b)] == [alert_b.alert_id]
    # a's stream never carries b's alerts.
    assert all(x.handle.startswith("handleA") for x in drain(a))
    assert b.AckAlert(pb.AckAlertRequest(alert_id=alert_b.alert_id), timeout=5).acknowledged is True
    assert drain(b) == []


def test_client_without_certificate_is_refused(matcher, fed_keys):
    creds = grpc.ssl_channel_credentials(root_certificates=(fed_keys / "matcher" / "ca.crt").read_bytes())
    with grpc.secure_channel(matcher.target, creds) as ch:
        from fedalert.v1 import matcher_pb2_grpc as pb_grpc

        with pytest.raises(grpc.RpcError) as err:
            pb_grpc.MatcherStub(ch).Publish(pb.PublishRequest(batch_id="x"), timeout=5)
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE


def test_certificate_from_another_ca_is_refused(matcher, other_keys):
    stub = matcher.stub("a", keys=other_keys)
    with pytest.raises(grpc.RpcError) as err:
        publish(stub, record("handleA0001", pnc="x1"))
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE


def test_matcher_certificate_cannot_act_as_an_area(matcher, fed_keys):
    from fedalert.transport import TlsFiles, secure_channel
    from fedalert.v1 import matcher_pb2_grpc as pb_grpc

    with secure_channel(matcher.target, TlsFiles.for_matcher(fed_keys / "matcher"), server_name="matcher") as ch:
        with pytest.raises(grpc.RpcError) as err:
            publish(pb_grpc.MatcherStub(ch), record("handleA0001", pnc="x1"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize("mutate, message", [
    (lambda r: add_group(r, "phone", [b"short"]), "16 bytes"),
    (lambda r: add_group(r, "Bad Kind!", [b"x" * 16]), "key kind"),
    (lambda r: r.counts.append(1), "same length"),
    (lambda r: (r.kinds.append("phone"), r.counts.append(0)), "count of 0"),
    (lambda r: add_group(r, "pnc", [b"y" * 16]), "listed twice"),
    (lambda r: add_group(r, "phone", [b"y" * 16, b"y" * 16]), "appears twice"),
    (lambda r: (r.kinds.append("phone"), r.counts.append(2), setattr(r, "values", r.values + b"y" * 16)),
     "add up to"),
    (lambda r: setattr(r, "handle", "x"), "handle"),
    (lambda r: setattr(r, "key_id", ""), "key_id"),
])
def test_malformed_records_are_rejected_whole(matcher, mutate, message):
    a = matcher.stub("a")
    good, bad = record("handleA0001", pnc="x1"), record("handleA0002", pnc="x2")
    mutate(bad)
    with pytest.raises(grpc.RpcError) as err:
        publish(a, good, bad)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in err.value.details()
    # Nothing from the batch was applied: b publishing x1 raises no alert.
    b = matcher.stub("b")
    publish(b, record("handleB0001", pnc="x1"))
    assert drain(b) == []


def test_oversized_message_is_refused(matcher):
    a = matcher.stub("a")
    rec = add_group(pb.RecordTokens(handle="handleA0001", key_id="k1"), "pnc", [b"x" * (9 * 1024 * 1024)])
    with pytest.raises(grpc.RpcError) as err:
        publish(a, rec)
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_restart_between_publish_and_watch_loses_no_alert(matcher):
    a, b = matcher.stub("a"), matcher.stub("b")
    publish(a, record("handleA0001", pnc="x1"))
    publish(b, record("handleB0001", pnc="x1"))
    matcher.restart()
    a, b = matcher.stub("a"), matcher.stub("b")
    got_a, got_b = drain(a), drain(b)
    assert len(got_a) == len(got_b) == 1 and got_a[0].match_id == got_b[0].match_id
    # Unacknowledged alerts are redelivered with the same id (at least once).
    assert [x.alert_id for x in drain(a)] == [got_a[0].alert_id]


def test_alert_stream_resumes_from_cursor(matcher):
    a, b = matcher.stub("a"), matcher.stub("b")
    publish(a, record("handleA0001", pnc="x1"), record("handleA0002", pnc="x2"))
    publish(b, record("handleB0001", pnc="x1"), record("handleB0002", pnc="x2"))
    alerts = drain(a)
    assert len(alerts) == 2 and alerts[0].cursor < alerts[1].cursor
    assert [x.alert_id for x in drain(a, after=alerts[0].cursor)] == [alerts[1].alert_id]


def test_live_stream_receives_new_alerts(matcher):
    import threading

    a, b = matcher.stub("a"), matcher.stub("b")
    call = a.WatchAlerts(pb.WatchAlertsRequest(after_cursor=0), timeout=10)
    got = []
    t = threading.Thread(target=lambda: got.append(next(iter(call))))
    t.start()
    publish(a, record("handleA0001", pnc="x1"))
    publish(b, record("handleB0001", pnc="x1"))
    t.join(10)
    call.cancel()
    assert len(got) == 1 and got[0].other_area == "b"
