import CRdKafka
import Logging
import Synchronization

/// librdkafka's rebalance callback: a file-scope C function that reaches its consumer through the
/// opaque pointer, applies the assignment change and reports it as an event.
func kafkaRebalanceCallback(_ rk: OpaquePointer?, _ error: rd_kafka_resp_err_t,
                                    _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
                                    _ opaque: UnsafeMutableRawPointer?) {
    guard let rk, let context = KafkaCallbackContext.from(opaque) else { return }
    let cooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
    let changed = TopicPartitionList.read(partitions).map(\.partition).sorted()
    switch error {
    case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
        if let start = context.assignmentStartOffset, let partitions, let elements = partitions.pointee.elems {
            for index in 0..<Int(partitions.pointee.cnt) { elements[index].offset = start.value }
        }
        if cooperative {
            if let failure = rd_kafka_incremental_assign(rk, partitions) {
                context.events?.push(.error(KafkaError(consuming: failure)))
            }
        } else {
            rd_kafka_assign(rk, partitions)
        }
        if let failure = KafkaConsumer.run(context.flow.withLock { $0.assigned(changed) }, on: rk) {
            context.events?.push(.error(failure))
        }
        context.logger.info("partitions assigned", metadata: ["client": "\(context.name)", "partitions": "\(changed)"])
        context.events?.push(.partitionsAssigned(changed))
    case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
        // Report first, so that the revocation is ordered after every record already delivered.
        context.events?.push(.partitionsRevoked(changed))
        if cooperative {
            if let failure = rd_kafka_incremental_unassign(rk, partitions) {
                context.events?.push(.error(KafkaError(consuming: failure)))
            }
        } else {
            rd_kafka_assign(rk, nil)
        }
        let lost = rd_kafka_assignment_lost(rk) != 0
        context.logger.info("partitions revoked", metadata: ["client": "\(context.name)", "partitions": "\(changed)", "lost": "\(lost)"])
    default:
        context.logger.error("rebalance error: \(KafkaError(code: error))")
        rd_kafka_assign(rk, nil)
        context.events?.push(.error(KafkaError(code: error, context: "rebalance")))
    }
}
