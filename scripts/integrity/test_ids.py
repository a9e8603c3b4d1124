"""A. No id with two different contents: a consumer that deduplicates on an id (result_id, an
instruction's (id, cancel), any output's `message-id`) must never drop a record whose content
differs from the one it kept. A repeat with the same content (a replay after a restart) is fine."""

from .analysis import where
from .proto import diff_paths, plain

ASSERTION = "A. no id with two different contents"


def conflicts(items, key_of, content_of, label, kill_time_ms):
    """(groups by id, evidence of ids whose records differ, those ids)."""
    groups = {}
    for r in items:
        k = key_of(r)
        if k is None:
            continue
        groups.setdefault(k, []).append(r)
    bad, keys = [], set()
    for k, group in groups.items():
        first = group[0]
        for other in group[1:]:
            if content_of(other) != content_of(first):
                diff = diff_paths(content_of(first), content_of(other))
                bad.append(f"{label} {k!r}: {where(first)} vs {where(other)} "
                           f"(kill at {kill_time_ms}); differs in {diff}")
                keys.add(k)
                break
    return groups, bad, keys


def content(r):
    return {"key": r["key"], "content-type": r["headers"].get("content-type"), "message": plain(r["message"])}


def dead_letter_content(r):
    return {"key": r["key_bytes"], "value": r["value"], "headers": r["headers"]}


def _check(outputs, bad, what):
    if bad:
        outputs.fail(ASSERTION, f"{len(bad)} {what} with different contents", bad)


def test_no_result_id_is_reused_with_different_content(outputs):
    _, bad, _ = conflicts(outputs.results, lambda r: r["message"].result_id, content, "result_id", outputs.run.kill_time_ms)
    _check(outputs, bad, "result_id(s)")


def test_no_result_message_id_is_reused_with_different_content(outputs):
    # Conflicts already reported under the same result_id are left to the test above.
    _, _, result_keys = conflicts(outputs.results, lambda r: r["message"].result_id, content, "result_id",
                                  outputs.run.kill_time_ms)
    _, bad, _ = conflicts([r for r in outputs.results if r["message_id"] not in result_keys], lambda r: r["message_id"],
                          content, "message-id (results)", outputs.run.kill_time_ms)
    _check(outputs, bad, "message-id(s) of results")


def test_no_instruction_id_is_reused_with_different_content(outputs):
    """An instruction and its cancel share the id: (id, cancel) names one record's content."""
    _, bad, _ = conflicts(outputs.instructions, lambda r: (r["message"].id, r["message"].cancel), content,
                          "instruction (id, cancel)", outputs.run.kill_time_ms)
    _check(outputs, bad, "instruction id(s)")


def test_no_liquidation_message_id_is_reused_with_different_content(outputs):
    _, bad, _ = conflicts(outputs.instructions, lambda r: r["message_id"], content, "message-id (liquidations)",
                          outputs.run.kill_time_ms)
    _check(outputs, bad, "message-id(s) of instructions")


def test_no_dead_letter_message_id_is_reused_with_different_content(outputs):
    _, bad, _ = conflicts(outputs.dead_letters, lambda r: r["message_id"], dead_letter_content, "message-id (dead letters)",
                          outputs.run.kill_time_ms)
    _check(outputs, bad, "message-id(s) of dead letters")


def test_no_message_id_is_used_on_two_output_topics(outputs):
    """Ids are meant to be unique per output: the same message-id on two topics names two contents."""
    seen_topic = {}
    cross = []
    for r in outputs.results + outputs.instructions + outputs.dead_letters:
        t = seen_topic.setdefault(r["message_id"], r["topic"])
        if t != r["topic"]:
            cross.append(f"message-id {r['message_id']!r} on {t} and {r['topic']}")
    if cross:
        outputs.fail(ASSERTION, f"{len(cross)} message-id(s) used on two output topics", cross)
