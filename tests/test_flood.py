from trio_chat.protocol.flood import TokenBucket


def test_a_burst_passes_then_lines_wait_their_turn():
    bucket = TokenBucket(burst=3, rate=2.0, kick=100, now=0.0)
    assert [bucket.delay(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.delay(0.0) == 0.5
    assert bucket.delay(0.5) == 0.5  # the next token comes half a second later


def test_tokens_come_back_with_time_up_to_the_burst():
    bucket = TokenBucket(burst=2, rate=1.0, kick=100, now=0.0)
    bucket.delay(0.0)
    bucket.delay(0.0)
    assert bucket.delay(100.0) == 0.0
    assert bucket.delay(100.0) == 0.0
    assert bucket.delay(100.0) > 0.0


def test_sustained_excess_is_abuse_but_a_short_one_is_forgiven():
    bucket = TokenBucket(burst=1, rate=10.0, kick=5, now=0.0)
    now = 0.0
    for _ in range(6):
        now += bucket.delay(now)
    assert not bucket.abused  # five slowed lines: at the limit
    now += 60  # a minute of quiet forgives them
    for _ in range(6):
        now += bucket.delay(now)
    assert not bucket.abused
    for _ in range(30):
        now += bucket.delay(now)
    assert bucket.abused


def test_rate_zero_turns_it_off():
    bucket = TokenBucket(burst=1, rate=0, kick=1, now=0.0)
    assert all(bucket.delay(0.0) == 0.0 for _ in range(1000))
    assert not bucket.abused
