// The C bridge to librdkafka: the public headers (client, then mock cluster) and a few inline
// helpers that build rd_kafka_vu_t entries for rd_kafka_produceva (the variadic producev cannot be
// called from Swift).
#ifndef CRDKAFKA_SHIM_H
#define CRDKAFKA_SHIM_H

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static inline rd_kafka_vu_t crdkafka_vu_topic(const char *topic) {
    rd_kafka_vu_t vu; vu.vtype = RD_KAFKA_VTYPE_TOPIC; vu.u.cstr = topic; return vu;
}
static inline rd_kafka_vu_t crdkafka_vu_partition(int32_t partition) {
    rd_kafka_vu_t vu; vu.vtype = RD_KAFKA_VTYPE_PARTITION; vu.u.i32 = partition; return vu;
}
static inline rd_kafka_vu_t crdkafka_vu_value(const void *value, size_t size) {
    rd_kafka_vu_t vu; vu.vtype = RD_KAFKA_VTYPE_VALUE; vu.u.mem.ptr = (void *)value; vu.u.mem.size = size; return vu;
}
static inline rd_kafka_vu_t crdkafka_vu_key(const void *key, size_t size) {
    rd_kafka_vu_t vu; vu.vtype = RD_KAFKA_VTYPE_KEY; vu.u.mem.ptr = (void *)key; vu.u.mem.size = size; return vu;
}
static inline rd_kafka_vu_t crdkafka_vu_opaque(void *opaque) {
    rd_kafka_vu_t vu; vu.vtype = RD_KAFKA_VTYPE_OPAQUE; vu.u.ptr = opaque; return vu;
}
static inline rd_kafka_vu_t crdkafka_vu_msgflags(int flags) {
    rd_kafka_vu_t vu; vu.vtype = RD_KAFKA_VTYPE_MSGFLAGS; vu.u.i = flags; return vu;
}
static inline rd_kafka_vu_t crdkafka_vu_timestamp(int64_t timestamp) {
    rd_kafka_vu_t vu; vu.vtype = RD_KAFKA_VTYPE_TIMESTAMP; vu.u.i64 = timestamp; return vu;
}
static inline rd_kafka_vu_t crdkafka_vu_header(const char *name, const void *value, ssize_t size) {
    rd_kafka_vu_t vu; vu.vtype = RD_KAFKA_VTYPE_HEADER; vu.u.header.name = name; vu.u.header.val = value; vu.u.header.size = size; return vu;
}

/// One (error, round-trip delay) for the variadic rd_kafka_mock_broker_push_request_error_rtts.
static inline rd_kafka_resp_err_t crdkafka_mock_broker_push_error_rtt(rd_kafka_mock_cluster_t *mcluster, int32_t broker_id,
                                                                      int16_t api_key, rd_kafka_resp_err_t err, int32_t rtt_ms) {
    return rd_kafka_mock_broker_push_request_error_rtts(mcluster, broker_id, api_key, 1, err, rtt_ms);
}

/// RD_KAFKA_PARTITION_UA (a macro Swift cannot import as a typed constant).
static inline int32_t crdkafka_partition_unassigned(void) { return RD_KAFKA_PARTITION_UA; }
static inline int64_t crdkafka_offset_beginning(void) { return RD_KAFKA_OFFSET_BEGINNING; }
static inline int64_t crdkafka_offset_end(void) { return RD_KAFKA_OFFSET_END; }
static inline int64_t crdkafka_offset_stored(void) { return RD_KAFKA_OFFSET_STORED; }
static inline int64_t crdkafka_offset_invalid(void) { return RD_KAFKA_OFFSET_INVALID; }

#endif
