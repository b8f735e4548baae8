"""The frame format between grader and worker, and the capped capture of learner output."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gradcheck_cli.sandbox.inside import wire
from gradcheck_cli.sandbox.channel import Capture


def roundtrip(header, arrays, max_payload=1 << 30):
    frame = wire.encode(header, arrays)
    head_len, payload_len = wire.split_prefix(frame[:wire.PREFIX.size], max_payload)
    assert len(frame) == wire.PREFIX.size + head_len + payload_len
    head = frame[wire.PREFIX.size:wire.PREFIX.size + head_len]
    return wire.decode(head, frame[wire.PREFIX.size + head_len:])


@pytest.mark.parametrize("array", [
    np.array([0.1, -2.5, np.nan, np.inf]),
    np.arange(6, dtype=np.float32).reshape(2, 3),
    np.arange(12, dtype=np.int16).reshape(3, 4).T,          # not contiguous
    np.array([1 + 2j, -3j]),
    np.array([True, False]),
    np.array(7.5),                                          # 0-d
    np.zeros((0, 3)),
    np.array([1.0, 2.0], dtype=">f8"),                      # big-endian stays big-endian
])
def test_arrays_cross_with_their_dtype_shape_and_values(array):
    header, (back,) = roundtrip({"op": "call", "names": ["x"]}, [array])
    assert header == {"op": "call", "names": ["x"]}
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable and back.flags.c_contiguous


def test_several_arrays_keep_their_order():
    a, b = np.ones((2, 2)), np.arange(3)
    _, (x, y) = roundtrip({}, [a, b])
    np.testing.assert_array_equal(x, a)
    np.testing.assert_array_equal(y, b)


@pytest.mark.parametrize("array", [np.array(["a", "b"]), np.array([None, 1], dtype=object)])
def test_only_numbers_can_be_sent(array):
    with pytest.raises(wire.WireError):
        wire.encode({}, [array])


def frame_parts(header: dict, payload: bytes) -> tuple[bytes, bytes]:
    return json.dumps(header).encode(), payload


@pytest.mark.parametrize("header, payload", [
    ({"arrays": [{"dtype": "|O", "shape": [1]}]}, b"\0" * 8),    # object: never unpickled
    ({"arrays": [{"dtype": "<U3", "shape": [1]}]}, b"\0" * 12),
    ({"arrays": [{"dtype": "<f8", "shape": [2]}]}, b"\0" * 8),   # payload too short
    ({"arrays": [{"dtype": "<f8", "shape": [1]}]}, b"\0" * 16),  # payload too long
    ({"arrays": [{"dtype": "<f8", "shape": [-1]}]}, b""),
    ({"no_arrays": []}, b""),
])
def test_malformed_frames_are_refused(header, payload):
    with pytest.raises(wire.WireError):
        wire.decode(*frame_parts(header, payload))


def test_an_oversized_frame_is_refused_before_it_is_read():
    frame = wire.encode({}, [np.zeros(1000)])
    with pytest.raises(wire.WireError, match="oversized"):
        wire.split_prefix(frame[:wire.PREFIX.size], max_payload=100)
    with pytest.raises(wire.WireError):
        wire.decode(b"not json", b"")


def test_capture_keeps_the_first_bytes_and_counts_the_rest():
    capture = Capture(limit=10)
    capture.feed(b"0123456")
    capture.feed(b"789abcdef")
    assert capture.take() == "0123456789\n… 6 bytes truncated"
    assert capture.take() == ""                    # each take starts over
    capture.feed("é".encode() * 3)
    assert capture.take() == "ééé"


def test_frame_reader_assembles_frames_from_reads_of_any_size():
    arrays = [np.arange(5, dtype=np.float32), np.array(3.0), np.ones((2, 3), dtype=np.int8),
              np.zeros(0), np.array([1j])]
    stream = wire.encode({"kind": "result"}, arrays) + wire.encode({"kind": "next"})
    reader = wire.FrameReader(max_payload=1 << 20)
    rng = np.random.default_rng(0)
    frames, pos = [], 0
    while pos < len(stream):
        buffer = reader.buffer()
        n = min(len(buffer), int(rng.integers(1, 9)), len(stream) - pos)
        buffer[:n] = stream[pos:pos + n]
        pos += n
        frame = reader.advance(n)
        if frame is not None:
            frames.append(wire.decode(*frame, copy=False))
    assert [header for header, _ in frames] == [{"kind": "result"}, {"kind": "next"}]
    for got, sent in zip(frames[0][1], arrays):
        assert got.dtype == sent.dtype and got.shape == sent.shape
        np.testing.assert_array_equal(got, sent)
        assert got.flags.writeable and got.flags.aligned
