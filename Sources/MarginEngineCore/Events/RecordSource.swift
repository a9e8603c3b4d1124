/// Where a consumed record came from, with its bytes: what a dead letter carries and names.
public struct RecordSource: Sendable, Hashable {
    public var partition: InputPartition
    public var offset: Int64
    public var key: [UInt8]?
    public var value: [UInt8]?
    /// The record's `content-type` header, when it has one.
    public var contentType: String?

    public init(partition: InputPartition, offset: Int64, key: [UInt8]?, value: [UInt8]?, contentType: String? = nil) {
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.contentType = contentType
    }
}
