from hypothesis import given
from hypothesis import strategies as st

from trio_chat.protocol.framing import LineBuffer, LineTooLong


def lines_of(buffer: LineBuffer) -> list[bytes | LineTooLong]:
    out: list[bytes | LineTooLong] = []
    while (line := buffer.next_line()) is not None:
        out.append(line)
    return out


def test_lines_end_at_newline_and_drop_carriage_return():
    buffer = LineBuffer(100)
    buffer.feed(b"one\ntwo\r\nthr")
    assert lines_of(buffer) == [b"one", b"two"]
    buffer.feed(b"ee\n")
    assert lines_of(buffer) == [b"three"]


def test_a_line_at_the_limit_passes_and_one_byte_more_does_not():
    buffer = LineBuffer(5)
    buffer.feed(b"12345\n12345\r\n123456\nok\n")
    assert lines_of(buffer) == [b"12345", b"12345", LineTooLong(5), b"ok"]


def test_an_endless_line_is_reported_once_and_discarded_up_to_its_newline():
    buffer = LineBuffer(8)
    buffer.feed(b"x" * 20)
    assert lines_of(buffer) == [LineTooLong(8)]
    buffer.feed(b"y" * 1000)
    assert lines_of(buffer) == []
    buffer.feed(b"z\nnext\n")
    assert lines_of(buffer) == [b"next"]


def test_an_unterminated_last_line_counts_at_end_of_stream():
    buffer = LineBuffer(100)
    buffer.feed(b"said\nhalf")
    assert lines_of(buffer) == [b"said"]
    assert not buffer.at_eof
    buffer.feed(b"")
    assert lines_of(buffer) == [b"half"]
    assert buffer.at_eof


@given(st.lists(st.binary(max_size=40)), st.integers(min_value=1, max_value=30))
def test_any_chunking_gives_the_lines_of_the_whole(chunks, limit):
    whole = LineBuffer(limit)
    whole.feed(b"".join(chunks))
    whole.feed(b"")  # end of stream
    expected = lines_of(whole)

    pieces = LineBuffer(limit)
    got: list[bytes | LineTooLong] = []
    for chunk in [c for c in chunks if c] + [b""]:
        pieces.feed(chunk)
        got += lines_of(pieces)
    assert pieces.at_eof
    # An over-long line may be reported before its end has arrived; either
    # way it is reported exactly once and every good line comes through.
    assert got == expected
    for line in got:
        assert isinstance(line, LineTooLong) or len(line) <= limit
