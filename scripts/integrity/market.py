"""The seeded market: instruments and snapshots of BTC and ETH (and USDC, index only)."""

import math

from . import proto

DAY_MS = 86_400_000
YEAR_MS = 365 * DAY_MS


class Market:
    """Seeded instruments and snapshots of BTC and ETH (and USDC, index only)."""

    def __init__(self, now_ms):
        market_pb2 = proto.market_pb2
        base = now_ms - now_ms % 3_600_000
        self.expiries = [base + 14 * DAY_MS + 8 * 3_600_000, base + 45 * DAY_MS + 8 * 3_600_000]
        self.spec = {
            "BTC": {"spot": 60000.0, "strikes": [40000 + 2500 * i for i in range(17)], "lot": 0.1, "tick": 0.5,
                    "perp_lot": 0.001, "levels": [2.0, 3.0, 5.0, 8.0], "oi": 40000.0, "vol24h": 60000.0},
            "ETH": {"spot": 3000.0, "strikes": [2000 + 200 * i for i in range(11)], "lot": 1.0, "tick": 0.1,
                    "perp_lot": 0.01, "levels": [30.0, 50.0, 80.0, 120.0], "oi": 400000.0, "vol24h": 900000.0},
        }
        self.instruments = []
        for u in ("BTC", "ETH", "USDC"):
            self.instruments.append(market_pb2.Instrument(name=u, underlying=u, kind=market_pb2.INSTRUMENT_KIND_SPOT))
        for u, s in self.spec.items():
            self.instruments.append(market_pb2.Instrument(
                name=f"{u}-PERPETUAL", underlying=u, kind=market_pb2.INSTRUMENT_KIND_PERPETUAL,
                settlement=market_pb2.SETTLEMENT_LINEAR, contract_size=1, lot_size=s["perp_lot"], tick_size=s["tick"]))
            self.instruments.append(market_pb2.Instrument(
                name=f"{u}-FUT-L", underlying=u, kind=market_pb2.INSTRUMENT_KIND_FUTURE,
                settlement=market_pb2.SETTLEMENT_LINEAR, contract_size=1, lot_size=s["perp_lot"], tick_size=s["tick"],
                expiry_ms=self.expiries[1]))
            for e, tag in zip(self.expiries, ("N", "L")):
                for k in s["strikes"]:
                    for right, letter in ((market_pb2.OPTION_RIGHT_CALL, "C"), (market_pb2.OPTION_RIGHT_PUT, "P")):
                        self.instruments.append(market_pb2.Instrument(
                            name=self.option(u, tag, k, letter), underlying=u, kind=market_pb2.INSTRUMENT_KIND_OPTION,
                            settlement=market_pb2.SETTLEMENT_LINEAR, contract_size=1, lot_size=s["lot"],
                            tick_size=s["tick"], expiry_ms=e, strike=k, option_right=right))
        # An inverse perpetual, USD 10 face per contract (PnL in BTC).
        self.instruments.append(market_pb2.Instrument(
            name="BTC-PERP-INV", underlying="BTC", kind=market_pb2.INSTRUMENT_KIND_PERPETUAL,
            settlement=market_pb2.SETTLEMENT_INVERSE, contract_size=10, lot_size=1, tick_size=0.5))
        # A perpetual whose market never comes: accounts holding it cannot be margined (error results).
        self.instruments.append(market_pb2.Instrument(
            name="SOL-PERPETUAL", underlying="SOL", kind=market_pb2.INSTRUMENT_KIND_PERPETUAL,
            settlement=market_pb2.SETTLEMENT_LINEAR, contract_size=1, lot_size=0.1, tick_size=0.01))
        self.names = {i.name for i in self.instruments}

    @staticmethod
    def option(u, tag, strike, letter):
        return f"{u}-{tag}-{int(strike)}-{letter}"

    def snapshot(self, u, ts, move, vol, rho):
        """Full snapshot of `u` at `move` x its opening spot, ATM vol `vol`, skew `rho`."""
        market_pb2 = proto.market_pb2
        if u == "USDC":
            return market_pb2.MarketSnapshot(underlying="USDC", timestamp_ms=ts, index_price=1.0)
        s = self.spec[u]
        spot = s["spot"] * move
        tick = s["tick"]
        snap = market_pb2.MarketSnapshot(underlying=u, timestamp_ms=ts, index_price=spot)
        snap.perpetual_mark = round(spot * 1.0002 / tick) * tick
        forwards = {}
        for e in self.expiries:
            t = (e - ts) / YEAR_MS
            f = spot * math.exp(0.03 * t)
            forwards[e] = f
            b, sigma = 0.25 * t, 0.1
            a = vol * vol * t - b * sigma
            snap.expiries.add(expiry_ms=e, forward=f, rate=0.0,
                              svi=market_pb2.SviParameters(a=a, b=b, rho=rho, m=0.0, sigma=sigma))
        # Thin books on the near expiry's options (the far expiry has none: the no-book rules).
        e = self.expiries[0]
        x = snap.expiries[0]
        for k in s["strikes"]:
            for letter in ("C", "P"):
                w = svi_variance(x.svi, math.log(k / x.forward))
                value = black76(x.forward, k, w, letter == "C")
                bid = math.floor(value * 0.97 / tick) * tick
                ask = math.ceil(max(value * 1.03, value + tick) / tick) * tick
                if bid < tick:
                    continue
                book = snap.books.add(instrument=self.option(u, "N", k, letter), volume_24h=s["levels"][0] * 20,
                                      open_interest=s["levels"][0] * 200)
                for i, size in enumerate((0.5, 1.0, 2.0)):
                    if bid - i * tick * 4 >= tick:
                        book.bids.add(price=bid - i * tick * 4, size=size * s["levels"][0] / 2)
                    book.asks.add(price=ask + i * tick * 4, size=size * s["levels"][0] / 2)
                book.bid_price, book.bid_size = book.bids[0].price, book.bids[0].size
                book.ask_price, book.ask_size = book.asks[0].price, book.asks[0].size
        for name, mid in ((f"{u}-PERPETUAL", snap.perpetual_mark), (f"{u}-FUT-L", forwards[self.expiries[1]]),
                          ("BTC-PERP-INV", snap.perpetual_mark)):
            if name == "BTC-PERP-INV" and u != "BTC":
                continue
            # Inverse contracts are USD 10 each: ten times more of them per BTC of depth.
            scale = 6000.0 if name == "BTC-PERP-INV" else 1.0
            step = max(tick, round(mid * 0.0005 / tick) * tick)
            best_bid = math.floor((mid - tick) / tick) * tick
            best_ask = math.ceil((mid + tick) / tick) * tick
            book = snap.books.add(instrument=name, volume_24h=s["vol24h"] * scale, open_interest=s["oi"] * scale)
            for i, size in enumerate(s["levels"]):
                book.bids.add(price=best_bid - i * step, size=size * scale)
                book.asks.add(price=best_ask + i * step, size=size * scale)
            book.bid_price, book.bid_size = book.bids[0].price, book.bids[0].size
            book.ask_price, book.ask_size = book.asks[0].price, book.asks[0].size
        return snap


def svi_variance(svi, k):
    return svi.a + svi.b * (svi.rho * (k - svi.m) + math.sqrt((k - svi.m) ** 2 + svi.sigma ** 2))


def black76(forward, strike, total_variance, call):
    """Undiscounted Black-76 value per unit (rate 0), for the option books' mids."""
    v = math.sqrt(max(total_variance, 1e-12))
    d1 = (math.log(forward / strike) + v * v / 2) / v
    n = lambda x: 0.5 * math.erfc(-x / math.sqrt(2))  # noqa: E731
    if call:
        return forward * n(d1) - strike * n(d1 - v)
    return strike * n(v - d1) - forward * n(-d1)
