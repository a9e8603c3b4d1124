#!/usr/bin/env python3
"""Inputs for scripts/ops-test's running worker, as `key<TAB>JSON` lines for `kcat -P -l -K '\t'`
(protobuf JSON mapping, produced with content-type application/json; see Schemas/README.md).

A BTC market (fresh, an option chain 30 days out with books), an ETH market 30 minutes old (stale
for a worker with stale_after_ms below that), USDC, and seeded accounts: well-collateralised
perpetuals, covered calls and short strangles with collateral spread around their requirements,
so that a few are below IM, liquidatable or bankrupt, and some ETH accounts that go stale.

Usage: ops_inputs.py OUTDIR NOW_MS   (writes instruments.txt, market.txt, accounts.txt, and
expected.json with the account ids and which ones depend on the stale market)
"""
import json
import random
import sys
from pathlib import Path

DAY = 86_400_000


def main(out, now):
    out = Path(out)
    rng = random.Random(7)
    expiry = now + 30 * DAY
    strikes = [50_000, 55_000, 60_000, 65_000, 70_000]
    instruments = [
        {"name": "BTC", "underlying": "BTC", "kind": "INSTRUMENT_KIND_SPOT"},
        {"name": "ETH", "underlying": "ETH", "kind": "INSTRUMENT_KIND_SPOT"},
        {"name": "USDC", "underlying": "USDC", "kind": "INSTRUMENT_KIND_SPOT"},
        {"name": "BTC-PERPETUAL", "underlying": "BTC", "kind": "INSTRUMENT_KIND_PERPETUAL", "settlement": "SETTLEMENT_LINEAR",
         "contract_size": 1, "lot_size": 0.001, "tick_size": 0.5},
        {"name": "ETH-PERPETUAL", "underlying": "ETH", "kind": "INSTRUMENT_KIND_PERPETUAL", "settlement": "SETTLEMENT_LINEAR",
         "contract_size": 1, "lot_size": 0.01, "tick_size": 0.05},
    ]
    for strike in strikes:
        for right, letter in (("OPTION_RIGHT_CALL", "C"), ("OPTION_RIGHT_PUT", "P")):
            instruments.append({"name": f"BTC-{letter}-{strike}", "underlying": "BTC", "kind": "INSTRUMENT_KIND_OPTION",
                                "settlement": "SETTLEMENT_LINEAR", "contract_size": 1, "lot_size": 0.1, "tick_size": 0.5,
                                "expiry_ms": str(expiry), "strike": strike, "option_right": right})
    books = [{"instrument": "BTC-PERPETUAL", "bid_price": 59_995, "bid_size": 40, "ask_price": 60_005, "ask_size": 40}]
    for strike in strikes:  # linear options: prices in USDC, a few contracts displayed
        books.append({"instrument": f"BTC-C-{strike}", "bid_price": max(50.0, 60_000 - strike + 3_000), "bid_size": 6,
                      "ask_price": max(60.0, 60_000 - strike + 3_300), "ask_size": 6})
        books.append({"instrument": f"BTC-P-{strike}", "bid_price": max(50.0, strike - 60_000 + 3_000), "bid_size": 6,
                      "ask_price": max(60.0, strike - 60_000 + 3_300), "ask_size": 6})
    markets = [
        {"underlying": "BTC", "timestamp_ms": str(now), "index_price": 60_000, "perpetual_mark": 60_000,
         "expiries": [{"expiry_ms": str(expiry), "forward": 60_250, "rate": 0.03,
                       "svi": {"a": 0.02, "b": 0.05, "rho": -0.2, "m": 0, "sigma": 0.2}}],
         "books": books},
        {"underlying": "ETH", "timestamp_ms": str(now - 30 * 60_000), "index_price": 3_000, "perpetual_mark": 3_000,
         "books": [{"instrument": "ETH-PERPETUAL", "bid_price": 2_999.5, "bid_size": 500, "ask_price": 3_000.5, "ask_size": 500}]},
        {"underlying": "USDC", "timestamp_ms": str(now), "index_price": 1},
    ]
    accounts, stale = [], []

    def account(kind, positions, usdc):
        account_id = f"acct-{len(accounts):02d}-{kind}"
        accounts.append({"account_id": account_id, "version": "1", "balances": {"USDC": round(usdc, 2)}, "positions": positions})
        return account_id

    for _ in range(6):  # long perpetuals, comfortably collateralised
        size = round(rng.uniform(0.5, 3), 3)
        account("perp", [{"instrument": "BTC-PERPETUAL", "quantity": size, "average_entry_price": 59_000}], size * 60_000 * rng.uniform(0.3, 0.6))
    for _ in range(8):  # covered calls, collateral from thin to ample
        size = round(rng.uniform(1, 4), 1)
        account("covered", [{"instrument": "BTC-PERPETUAL", "quantity": size, "average_entry_price": 60_000},
                            {"instrument": f"BTC-C-{rng.choice(strikes[2:])}", "quantity": -size}], size * 60_000 * rng.uniform(0.25, 0.6))
    for _ in range(10):  # short strangles (MM ≈ 78,000 a contract on deribit-like, its +500% tail binds): some
        size = round(rng.uniform(1, 5), 1)  # below IM, some liquidatable
        account("strangle", [{"instrument": "BTC-C-65000", "quantity": -size}, {"instrument": "BTC-P-55000", "quantity": -size}],
                size * rng.uniform(60_000, 130_000))
    account("strangle", [{"instrument": "BTC-C-60000", "quantity": -3}, {"instrument": "BTC-P-60000", "quantity": -3}], 2_000)  # bankrupt
    for _ in range(4):  # ETH perpetuals: stale while the ETH market is
        size = round(rng.uniform(5, 40), 2)
        stale.append(account("eth", [{"instrument": "ETH-PERPETUAL", "quantity": size, "average_entry_price": 3_000}], size * 3_000 * 0.3))

    def lines(records, key):
        return "".join(f"{r[key]}\t{json.dumps(r, separators=(',', ':'))}\n" for r in records)
    (out / "instruments.txt").write_text(lines(instruments, "name"))
    (out / "market.txt").write_text(lines(markets, "underlying"))
    (out / "accounts.txt").write_text(lines(accounts, "account_id"))
    (out / "expected.json").write_text(json.dumps({"accounts": [a["account_id"] for a in accounts], "stale": stale}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
