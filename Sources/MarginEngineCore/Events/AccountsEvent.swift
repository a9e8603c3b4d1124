import MarginCore

/// What the accounts consumer delivers, decoded at the edge: the engine's state never touches a
/// client's message type or generated protobuf.
public enum AccountsEvent: Sendable {
    /// One record of an owned partition: the account (nil for a tombstone) keyed by `id`, or why the
    /// record could not be decoded (it is dead-lettered).
    case record(RecordSource, id: String, account: Result<Account?, MarginError>)
    /// The partition's end was reached at `next` (past any transaction marker).
    case partitionEnd(partition: Int32, next: Int64)
    /// Partitions taken away (their outputs were flushed first).
    case revoked([Int32])
    /// A consumer error, logged.
    case error(String)
}
