"""End-to-end integrity check of `margin-engine run` with independent tooling only.

Inputs are encoded and outputs decoded with Python classes that `protoc --python_out` generates
from Schemas/margin/v1/*.proto at run time (into a temporary directory), and every Kafka record is
produced and consumed with confluent-kafka (PyPI). Nothing of this project's Swift code is used
except the binary under test (`dev-broker` and two `run` workers).

Scenario (seeded; scenario.py): instruments, market snapshots (BTC, ETH, USDC) and a few hundred
accounts (option spreads, short puts and strangles, perpetuals, linear and inverse, futures, USDC
and coin balances); two workers; a market crash; partial fills of some instructions (new account
versions); a rebound that makes some accounts recover (cancels); a SIGKILL of the worker owning
accounts partition 0; bad records (accounts, instruments, markets, params) produced while its
partitions have no owner; its restart with the same instance id; a second crash. Then every output
topic is read from the beginning (isolation.level=read_committed; collect.py) and the tests assert:

  A. no id with two different contents (test_ids.py): result_id, instruction (id, cancel), and
     every output's `message-id` header (results, instructions, dead letters);
  B. every bad record is dead-lettered (test_dead_letters.py), matched by dlq-source-topic/
     partition/offset, with its original key and bytes, and the documented reason where
     Schemas/README.md documents one;
  C. every account liquidatable in its latest result (LIQUIDATABLE or BANKRUPT; STALE is its own
     health) has an outstanding instruction for that account version (not cancelled, not
     superseded), or its `GET /v1/accounts/{id}` liquidation status (MarginResult.liquidation) is
     `waiting` with a documented reason (budget, no_depth, plan_error) and a detail
     (test_liquidations.py);
  D. no NaN or infinity in any double of any output message (results, instructions: every field,
     found by walking the protobuf descriptors), in the liquidation-state JSON, or in any JSON
     answer fetched over HTTP (/ready, /health, /v1/accounts/{id} for every account)
     (test_finiteness.py);

plus contract checks the same data allows (documented in README.md / Schemas/README.md;
test_outputs.py, test_results.py, test_liquidations.py, test_workers.py), and checks that the
scenario exercised what it claims (test_scenario.py).

Run: scripts/integrity-check [path/to/margin-engine] [--seed N] [--accounts N] [--partitions N]
     [--crash-during-rejoin] [--keep] [--evidence-limit N]   (installs the PyPI packages, then
     runs `python3 -m pytest scripts/integrity -q` with these options)."""
