"""explorer.ui.controller.rearm: a fragment changes its own rhythm in the browser with the message
Streamlit's frontend reads (``auto_rerun`` with the new interval, ``stop_auto_rerun`` to end
it), only when the running fragment is known; otherwise the caller falls back to a full rerun."""

from types import SimpleNamespace

import pytest
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from explorer.ui import controller


@pytest.fixture
def sent(monkeypatch):
    messages: list[ForwardMsg] = []
    state = SimpleNamespace(ids=["frag-1"])

    def ctx(suppress_warning=False):
        return SimpleNamespace(fragment_ids_this_run=state.ids, enqueue=messages.append)

    monkeypatch.setattr("streamlit.runtime.scriptrunner.get_script_run_ctx", ctx)
    return messages, state


def test_a_new_interval_is_sent_for_the_running_fragment(sent):
    messages, _ = sent
    assert controller.rearm(1.6) is True
    (msg,) = messages
    assert msg.WhichOneof("type") == "auto_rerun"
    assert msg.auto_rerun.fragment_id == "frag-1"
    assert msg.auto_rerun.interval == pytest.approx(1.6)


def test_none_stops_the_fragments_auto_reruns(sent):
    messages, _ = sent
    assert controller.rearm(None) is True
    (msg,) = messages
    assert msg.WhichOneof("type") == "stop_auto_rerun"
    assert list(msg.stop_auto_rerun.fragment_ids) == ["frag-1"]


@pytest.mark.parametrize("ids", [None, [], ["a", "b"]])
def test_outside_a_lone_fragment_run_nothing_is_sent(sent, ids):
    messages, state = sent
    state.ids = ids  # a full run, or several fragments in one run: which one is unknown
    assert controller.rearm(0.8) is False
    assert messages == []
