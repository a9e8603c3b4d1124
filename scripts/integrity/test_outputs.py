"""Contracts on every output record's envelope (README.md, Schemas/README.md): headers, decoding,
placement on the account's partition, and a result's message-id."""

from .analysis import where
from .kafka_io import partition_of
from .topics import TOPICS

OUTPUT_CONTENT_TYPES = ("application/x-protobuf", "application/json")


def _envelope_records(outputs):
    """Every results and liquidations record, decoded or not, in topic order."""
    return [(topic, r) for topic in (TOPICS["results"], TOPICS["liquidations"]) for r in outputs.records[topic]]


def test_every_output_carries_content_type_and_message_id(outputs):
    """Consumers pick the decoder from `content-type` and deduplicate on `message-id`."""
    problems = [f"{topic}[{r['partition']}]@{r['offset']} key {r['key']!r}: content-type {r['content_type']!r}, "
                f"message-id {r['message_id']!r}"
                for topic, r in _envelope_records(outputs)
                if r["content_type"] not in OUTPUT_CONTENT_TYPES or not r["message_id"]]
    problems += [f"deadletter@{r['offset']}: no message-id header" for r in outputs.dead_letters if not r["message_id"]]
    if problems:
        outputs.fail("contract: output headers", f"{len(problems)} output record(s) lack content-type/message-id", problems)


def test_every_result_and_instruction_decodes(outputs):
    """A result or instruction that does not decode as its message (or a tombstone) is lost to every consumer."""
    problems = []
    for topic, r in _envelope_records(outputs):
        if r["value"] is None:
            problems.append(f"{topic}[{r['partition']}]@{r['offset']}: tombstone")
        elif r["message"] is None:
            cls = "MarginResult" if topic == TOPICS["results"] else "LiquidationInstruction"
            problems.append(f"{topic}[{r['partition']}]@{r['offset']} key {r['key']!r}: does not decode as {cls}")
    if problems:
        outputs.fail("contract: decodable outputs", f"{len(problems)} output record(s) do not decode", problems)


def test_results_and_instructions_are_keyed_by_account_on_its_partition(outputs):
    """Co-partitioning: an account's results and instructions are keyed by its id and land on the
    partition of its accounts records, so one consumer sees an account's whole story in order."""
    partitions = outputs.run.partitions
    problems = []
    for topic, r in _envelope_records(outputs):
        message = r["message"]
        if message is None:
            continue
        if r["key"] is not None and r["partition"] != partition_of(r["key"], partitions):
            problems.append(f"{topic}[{r['partition']}]@{r['offset']} key {r['key']!r}: account partition is "
                            f"{partition_of(r['key'], partitions)}")
        if message.account_id != r["key"]:
            problems.append(f"{topic}[{r['partition']}]@{r['offset']}: key {r['key']!r} but account_id {message.account_id!r}")
    if problems:
        outputs.fail("contract: co-partitioning", f"{len(problems)} output record(s) off their account's partition or key",
                     problems)


def test_result_message_id_is_its_result_id(outputs):
    mismatch = [f"{where(r)}: message-id {r['message_id']!r} != result_id {r['message'].result_id!r}"
                for r in outputs.results if r["message_id"] != r["message"].result_id]
    if mismatch:
        outputs.fail("contract: result message-id", f"{len(mismatch)} result(s) whose message-id is not their result_id",
                     mismatch)
