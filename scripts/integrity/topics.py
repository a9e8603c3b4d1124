"""The worker's topic names, in this one table (the worker's defaults: the scenario sets none).

`margin-engine run` has no option that prints its effective configuration, so the names are not
read from the binary; every module of the harness takes them from here.
"""

TOPICS = {
    "instruments": "margin.instruments.v1",
    "market": "margin.market.v1",
    "params": "margin.params.v1",
    "accounts": "margin.accounts.v1",
    "results": "margin.results.v1",
    "liquidations": "margin.liquidations.v1",
    "state": "margin.liquidation-state.v1",
    "deadletter": "margin.deadletter.v1",
}

# What the workers write (followed live during the scenario, read again from the beginning at the end).
OUTPUT_TOPICS = [TOPICS["results"], TOPICS["liquidations"], TOPICS["deadletter"], TOPICS["state"]]
