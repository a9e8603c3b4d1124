"""B. Every bad record is dead-lettered, and nothing else is.

The bad records (bad_records.py) are produced while the partitions they land on have no owner (its
worker was SIGKILLed): whoever owns them next must still dead-letter each one. A dead letter is
matched to its source by its dlq-source-topic/partition/offset headers."""


def _label(b):
    return f"{b['meta']['bad']} ({b['topic']}[{b['partition']}]@{b['offset']}, key {b['key']!r})"


def _source(b):
    return (b["topic"], b["partition"], b["offset"])


def test_every_bad_record_is_dead_lettered(outputs):
    bad = outputs.run.bad
    missing = [_label(b) for b in bad if not outputs.dead_letters_by_source.get(_source(b))]
    if missing:
        outputs.fail("B. every bad record dead-lettered", f"{len(missing)} of {len(bad)} bad records never dead-lettered",
                     missing)


def test_dead_letters_keep_the_original_key_and_bytes_and_the_documented_reason(outputs):
    """A dead letter carries the source record's key and bytes unchanged (so it can be replayed),
    a non-empty dlq-reason and dlq-error, the reason Schemas/README.md documents for that kind of
    bad record, and an error that names the offending field."""
    wrong = []
    for b in outputs.run.bad:
        found = outputs.dead_letters_by_source.get(_source(b))
        if not found:
            continue  # reported by test_every_bad_record_is_dead_lettered
        d = found[0]
        reason = (d["headers"].get("dlq-reason") or [""])[0]
        error = (d["headers"].get("dlq-error") or [""])[0]
        problems = []
        expected_key = b["key"].encode() if isinstance(b["key"], str) else b["key"]
        if d["key_bytes"] != expected_key:
            problems.append(f"key {d['key_bytes']!r} != source key {expected_key!r}")
        if d["value"] != b["value"]:
            problems.append("value is not the original bytes")
        if not reason or not error:
            problems.append(f"dlq-reason {reason!r} / dlq-error {error!r} empty")
        if b["meta"]["reason"] and reason != b["meta"]["reason"]:
            problems.append(f"dlq-reason {reason!r}, documented {b['meta']['reason']!r}")
        if b["meta"]["field"] and b["meta"]["field"] not in error:
            problems.append(f"dlq-error {error!r} does not name {b['meta']['field']!r}")
        if problems:
            wrong.append(f"{_label(b)}: " + "; ".join(problems))
    if wrong:
        outputs.fail("B. dead letters as documented", f"{len(wrong)} dead letter(s) not as documented", wrong)


def test_only_bad_records_are_dead_lettered(outputs):
    """A valid input dead-lettered is an input the worker dropped."""
    bad_sources = {_source(b) for b in outputs.run.bad}
    unexpected = [f"{k}: reason {(v[0]['headers'].get('dlq-reason') or [''])[0]!r}, "
                  f"error {(v[0]['headers'].get('dlq-error') or [''])[0]!r}"
                  for k, v in outputs.dead_letters_by_source.items() if k not in bad_sources]
    if unexpected:
        outputs.fail("contract: only bad records dead-lettered", f"{len(unexpected)} valid input record(s) dead-lettered",
                     unexpected)
