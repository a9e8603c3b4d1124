"""Bad records, produced while the partitions they land on have no owner (its worker was SIGKILLed).

Each record remembers what makes it bad and, where Schemas/README.md documents one, the dead-letter
reason (`dlq-reason`) and the field the error must name (`dlq-error`); test_dead_letters.py holds
the worker to both."""

import time

from . import proto
from .kafka_io import partition_of
from .market import DAY_MS
from .topics import TOPICS


def produce_bad_records(run, orphaned):
    """Bad records: accounts keyed into the orphaned partitions, reference records (read by every
    instance, dead-lettered by the owner of partition 0, which is orphaned too)."""
    account_pb2, market_pb2 = proto.account_pb2, proto.market_pb2
    bad = []
    rng = run.rng
    ts = int(time.time() * 1000)
    counter = [0]

    def orphan_key(prefix):
        while True:
            counter[0] += 1
            key = f"{prefix}-{counter[0]}"
            if partition_of(key, run.partitions) in orphaned:
                return key

    def account(key, **kw):
        return account_pb2.AccountState(account_id=key, version=1, **kw)

    def add(topic, key, value, reason=None, field=None, what="", headers=None, partition=None):
        record = run.producer.send(topic, key, value, headers=headers, partition=partition,
                                   meta={"bad": what, "reason": reason, "field": field})
        bad.append(record)

    garbage = bytes([0x07, 0xFF]) + bytes(rng.getrandbits(8) for _ in range(40))  # wire type 7: never valid
    k = orphan_key("bad-unknown")
    add(TOPICS["accounts"], k, account(k, balances={"USDC": 1000},
                                       positions=[account_pb2.Position(instrument="BTC-NOPE-1-C", quantity=1)]).SerializeToString(),
        "unknown_instrument", None, "account with an unknown instrument")
    k = orphan_key("bad-nan")
    add(TOPICS["accounts"], k, account(k, balances={"USDC": 1000},
                                       positions=[account_pb2.Position(instrument="BTC-PERPETUAL", quantity=float("nan"),
                                                                       average_entry_price=60000)]).SerializeToString(),
        "invalid_input", "quantity", "account with a NaN quantity")
    k = orphan_key("bad-inf")
    add(TOPICS["accounts"], k, account(k, balances={"USDC": float("inf")}).SerializeToString(),
        "invalid_input", "balances", "account with an infinite balance")
    k = orphan_key("bad-huge-qty")
    add(TOPICS["accounts"], k, account(k, balances={"USDC": 1000},
                                       positions=[account_pb2.Position(instrument="BTC-PERPETUAL", quantity=5e9,
                                                                       average_entry_price=60000)]).SerializeToString(),
        "invalid_input", "quantity", "account with |quantity| 5e9 > max_quantity")
    k = orphan_key("bad-huge-balance")
    add(TOPICS["accounts"], k, account(k, balances={"USDC": 1e16}).SerializeToString(),
        "invalid_input", "balances", "account with a 1e16 balance > max_balance")
    k = orphan_key("bad-neg-entry")
    add(TOPICS["accounts"], k, account(k, balances={"BTC": 1},
                                       positions=[account_pb2.Position(instrument="BTC-PERP-INV", quantity=100,
                                                                       average_entry_price=-60000)]).SerializeToString(),
        "invalid_input", "average_entry_price", "inverse perpetual with a negative entry price")
    k = orphan_key("bad-garbage")
    add(TOPICS["accounts"], k, garbage, None, None, "undecodable account bytes")
    k = orphan_key("bad-json")
    add(TOPICS["accounts"], k, b'{"account_id": "' + k.encode() + b'", "version": ', None, None,
        "truncated JSON account", headers=[("content-type", b"application/json")])
    k = orphan_key("bad-mismatch")
    add(TOPICS["accounts"], k, account("someone-else", balances={"USDC": 5}).SerializeToString(), None, None,
        "account whose account_id differs from its key")
    add(TOPICS["accounts"], None, account("keyless", balances={"USDC": 5}).SerializeToString(), None, "key",
        "account record without a key", partition=orphaned[0])
    # A real account's next version with a non-finite value: refused, the held state unchanged.
    real = sorted(a for a in run.accounts if partition_of(a, run.partitions) in orphaned
                  and run.accounts[a].positions)[0]
    broken = account_pb2.AccountState()
    broken.CopyFrom(run.accounts[real])
    broken.version += 1
    broken.positions[0].unsettled_funding = float("-inf")
    add(TOPICS["accounts"], real, broken.SerializeToString(), "invalid_input", "unsettled_funding",
        f"next version of {real} with -inf funding")
    run.refused_versions = {(real, broken.version)}
    # Reference records (one partition each; the owner of accounts partition 0 is dead).
    add(TOPICS["instruments"], "BTC-N-NEG-C", market_pb2.Instrument(
        name="BTC-N-NEG-C", underlying="BTC", kind=market_pb2.INSTRUMENT_KIND_OPTION, settlement=market_pb2.SETTLEMENT_LINEAR,
        contract_size=1, lot_size=0.1, tick_size=0.5, expiry_ms=run.market.expiries[0], strike=-50000,
        option_right=market_pb2.OPTION_RIGHT_CALL).SerializeToString(), None, "strike", "option with a negative strike")
    add(TOPICS["instruments"], "BTC-NAN-SIZE", market_pb2.Instrument(
        name="BTC-NAN-SIZE", underlying="BTC", kind=market_pb2.INSTRUMENT_KIND_PERPETUAL,
        settlement=market_pb2.SETTLEMENT_LINEAR, contract_size=float("nan")).SerializeToString(), None, "contract_size",
        "perpetual with a NaN contract size")
    add(TOPICS["instruments"], "BTC-GARBAGE", garbage, None, None, "undecodable instrument bytes")
    nan_index = run.market.snapshot("BTC", ts, 0.5, 1.0, -0.5)
    nan_index.index_price = float("nan")
    add(TOPICS["market"], "BTC", nan_index.SerializeToString(), None, "index_price", "BTC snapshot with a NaN index")
    negative = run.market.snapshot("ETH", ts, 0.5, 1.0, -0.5)
    negative.index_price = -1500.0
    add(TOPICS["market"], "ETH", negative.SerializeToString(), None, "index_price", "ETH snapshot with a negative index")
    huge = run.market.snapshot("BTC", ts + 1, 1.0, 0.6, -0.3)
    huge.index_price = 5e12
    add(TOPICS["market"], "BTC", huge.SerializeToString(), "invalid_input", "index_price",
        "BTC snapshot with a 5e12 index > max_price")
    inf_forward = run.market.snapshot("ETH", ts + 1, 0.5, 1.0, -0.5)
    inf_forward.expiries[0].forward = float("inf")
    add(TOPICS["market"], "ETH", inf_forward.SerializeToString(), None, "forward", "ETH snapshot with an infinite forward")
    future = run.market.snapshot("BTC", ts + DAY_MS, 1.5, 0.6, -0.3)
    add(TOPICS["market"], "BTC", future.SerializeToString(), "invalid_input", "market.timestamp_ms",
        "BTC snapshot dated one day ahead")
    add(TOPICS["market"], "BTC", garbage, None, None, "undecodable market bytes")
    add(TOPICS["params"], "junk-params", garbage, None, None, "undecodable parameter set")
    return bad
