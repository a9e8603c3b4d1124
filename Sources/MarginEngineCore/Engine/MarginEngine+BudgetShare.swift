extension MarginEngine {
    /// The number of partitions of the accounts topic (read by the service before it subscribes).
    public func setAccountsPartitionCount(_ count: Int) {
        accountsPartitionCount = count > 0 ? count : nil
        updateBudgetShare()
    }

    /// This instance's share of the anti-cascade budget: the partitions it owns over all of the
    /// accounts topic's, so that N instances together instruct at most the configured budget.
    func updateBudgetShare() {
        guard let total = accountsPartitionCount else {
            liquidation.budgetShare = 1
            return
        }
        liquidation.budgetShare = min(1, Double(accounts.shards.count) / Double(total))
    }
}
