"""Seeded accounts, and an account's next version after a partial fill."""

import time

from . import proto


def lot(x, size):
    return round(max(size, round(x / size) * size), 8)


def generate_accounts(rng, market, count):
    """Seeded accounts; each kind below is meant to react to the crash and the rebound differently."""
    account_pb2 = proto.account_pb2
    kinds = [("perp_long", 20), ("perp_short", 8), ("future_long", 9), ("bull_call", 8), ("short_put", 16),
             ("put_spread", 10), ("strangle", 6), ("eth_mix", 10), ("inverse_perp", 6), ("cash", 7)]
    total = sum(w for _, w in kinds)
    btc, eth = market.spec["BTC"], market.spec["ETH"]
    accounts = []

    def nearest(strikes, x):
        return min(strikes, key=lambda k: abs(k - x))

    for n in range(count):
        account_id = f"acct-{n:04d}" if n != 7 else "acct x/7"  # one id that needs percent-encoding
        pick = rng.uniform(0, total)
        for kind, w in kinds:
            pick -= w
            if pick <= 0:
                break
        notional = min(2_000_000.0, 5000.0 * (1.0 / (1.0 - rng.random())) ** (1 / 1.4))
        state = account_pb2.AccountState(account_id=account_id, version=1, updated_at_ms=int(time.time() * 1000))
        tag = rng.choice(("N", "L"))
        S = btc["spot"]
        if kind in ("perp_long", "perp_short", "future_long"):
            q = lot(notional / S, btc["perp_lot"]) * (-1 if kind == "perp_short" else 1)
            name = "BTC-FUT-L" if kind == "future_long" else "BTC-PERPETUAL"
            ref = S * (1.01 if kind == "future_long" else 1.0)
            state.positions.add(instrument=name, quantity=q, average_entry_price=round(ref * rng.uniform(0.98, 1.02) * 2) / 2,
                                unsettled_funding=round(rng.uniform(-20, 20), 2) if name == "BTC-PERPETUAL" else 0.0)
            # deribit-like's +500 % extended move (dampened by 0.33) margins shorts at ~1.3x notional.
            collateral = rng.uniform(1.4, 2.2) if q < 0 else rng.uniform(0.2, 0.6)
            state.balances["USDC"] = round(collateral * notional, 2)
        elif kind == "bull_call":
            k1 = nearest(btc["strikes"], S * rng.uniform(0.92, 1.02))
            q = lot(notional / S, btc["lot"])
            state.positions.add(instrument=market.option("BTC", tag, k1, "C"), quantity=q)
            state.positions.add(instrument=market.option("BTC", tag, k1 + 5000, "C"), quantity=-q)
            state.balances["USDC"] = round(rng.uniform(0.03, 0.3) * notional, 2)
        elif kind == "short_put":
            k = nearest(btc["strikes"], S * rng.uniform(0.8, 0.97))
            q = lot(notional / S, btc["lot"])
            state.positions.add(instrument=market.option("BTC", tag, k, "P"), quantity=-q)
            state.balances["USDC"] = round(rng.uniform(0.25, 0.6) * k * q, 2)
        elif kind == "put_spread":
            k2 = nearest(btc["strikes"], S * rng.uniform(0.9, 1.0))
            q = lot(notional / S, btc["lot"])
            state.positions.add(instrument=market.option("BTC", tag, k2, "P"), quantity=-q)
            state.positions.add(instrument=market.option("BTC", tag, k2 - 10000, "P"), quantity=q)
            state.balances["USDC"] = round(rng.uniform(0.4, 1.2) * 10000 * q, 2)
        elif kind == "strangle":
            q = lot(notional / S, btc["lot"])
            state.positions.add(instrument=market.option("BTC", tag, nearest(btc["strikes"], S * 1.12), "C"), quantity=-q)
            state.positions.add(instrument=market.option("BTC", tag, nearest(btc["strikes"], S * 0.88), "P"), quantity=-q)
            state.balances["USDC"] = round(rng.uniform(1.5, 2.2) * S * q, 2)
        elif kind == "eth_mix":
            E = eth["spot"]
            q = lot(notional / E, eth["perp_lot"])
            state.positions.add(instrument="ETH-PERPETUAL", quantity=q, average_entry_price=round(E * rng.uniform(0.98, 1.02), 1))
            k = nearest(eth["strikes"], E * rng.uniform(0.85, 0.97))
            state.positions.add(instrument=market.option("ETH", tag, k, "P"), quantity=-lot(0.5 * q, eth["lot"]))
            state.balances["USDC"] = round(rng.uniform(0.2, 0.6) * notional, 2)
        elif kind == "inverse_perp":
            contracts = lot(notional / 10, 1)
            state.positions.add(instrument="BTC-PERP-INV", quantity=contracts, average_entry_price=round(S * rng.uniform(0.98, 1.02) * 2) / 2)
            state.balances["BTC"] = round(rng.uniform(0.25, 0.7) * notional / S, 6)
        else:  # cash
            state.balances["USDC"] = round(rng.uniform(1000, 1e6), 2)
            if rng.random() < 0.5:
                state.balances["BTC"] = round(rng.uniform(0.1, 10), 6)
        if kind not in ("cash", "inverse_perp") and rng.random() < 0.15:
            state.balances["BTC"] = round(rng.uniform(0.01, 0.1) * notional / S, 6)  # coin collateral too
        accounts.append((kind, state))
    return accounts


def deposit(state, past=()):
    """The account's next version after a 1 USDC deposit: numbered past its own version and past
    every version in `past` (ones already used, such as dead-lettered ones)."""
    new = type(state)()
    new.CopyFrom(state)
    new.version = max([state.version, *past]) + 1
    new.balances["USDC"] = new.balances["USDC"] + 1.0
    return new


def apply_first_leg(state, instruction, market):
    """The account's next version after its first leg filled at the limit price (a venue's view,
    roughly: realised PnL and premium to USDC, the expected cost paid)."""
    account_pb2, market_pb2, result_pb2 = proto.account_pb2, proto.market_pb2, proto.result_pb2
    new = account_pb2.AccountState()
    new.CopyFrom(state)
    new.version = state.version + 1
    new.updated_at_ms = int(time.time() * 1000)
    leg = instruction.legs[0]
    sign = -1 if leg.side == result_pb2.SIDE_SELL else 1
    instruments = {i.name: i for i in market.instruments}
    for p in new.positions:
        if p.instrument != leg.instrument:
            continue
        closed = min(abs(p.quantity), leg.quantity)
        inst = instruments[p.instrument]
        cash = 0.0
        if inst.kind == market_pb2.INSTRUMENT_KIND_OPTION:
            cash = -sign * closed * leg.limit_price * (inst.contract_size or 1)
        elif inst.settlement != market_pb2.SETTLEMENT_INVERSE:
            cash = (leg.limit_price - p.average_entry_price) * closed * (1 if p.quantity > 0 else -1)
        p.quantity += sign * closed
        if inst.settlement == market_pb2.SETTLEMENT_INVERSE and inst.kind != market_pb2.INSTRUMENT_KIND_OPTION:
            pnl_coins = (inst.contract_size or 1) * closed * (1 / p.average_entry_price - 1 / leg.limit_price)
            new.balances["BTC"] = new.balances["BTC"] + pnl_coins
        else:
            new.balances["USDC"] = round(new.balances["USDC"] + cash - leg.expected_cost, 2)
        break
    kept = [p for p in new.positions if abs(p.quantity) > 1e-12]
    del new.positions[:]
    new.positions.extend(kept)
    return new
