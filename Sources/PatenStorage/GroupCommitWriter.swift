import Foundation
import GRDB

/// SQLite's one writer, shared by every change: whatever is waiting when the writer comes free is committed in one
/// transaction, each change in a savepoint of its own, so a change that throws (a refusal, a constraint) rolls back
/// alone and the others still commit. A caller is answered only after the transaction that holds its change has
/// committed, so an acknowledged change is as durable as it was with a transaction of its own.
///
/// Why: each commit appends every page it touched to the WAL. Changes arriving together touch the same pages (the
/// right-hand leaves of the time-ordered id indexes, the events and outbox tables' last pages), so one commit for a
/// group writes each page once instead of once per change, and the writer queue is entered once per group.
final class GroupCommitWriter: @unchecked Sendable {
    /// Most changes one transaction takes; a burst larger than this is committed in several.
    static let maxGroup = 64

    private struct Job {
        let run: @Sendable (Database) throws -> Void
        let finish: @Sendable (Result<Void, any Error>) -> Void
    }

    private let pool: DatabasePool
    private let lock = NSLock()
    private var waiting: [Job] = []
    private var draining = false

    init(pool: DatabasePool) {
        self.pool = pool
    }

    /// Runs `body` in the next group's transaction, in a savepoint of its own; returns its value after the commit.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let box = ValueBox<T>()
            let job = Job(
                run: { db in box.value = try body(db) },
                finish: { result in
                    switch result {
                    case .success:
                        // Set before the commit by `run`, which succeeded.
                        guard let value = box.value else {
                            continuation.resume(throwing: CancellationError())
                            return
                        }
                        continuation.resume(returning: value)
                    case .failure(let error):
                        continuation.resume(throwing: error)
                    }
                }
            )
            let start = lock.withLock {
                waiting.append(job)
                if draining { return false }
                draining = true
                return true
            }
            if start { Task { await self.drain() } }
        }
    }

    /// Commits groups until nothing waits.
    private func drain() async {
        while true {
            let group: [Job] = lock.withLock {
                let taken = Array(waiting.prefix(Self.maxGroup))
                waiting.removeFirst(taken.count)
                if taken.isEmpty { draining = false }
                return taken
            }
            if group.isEmpty { return }
            await commit(group)
        }
    }

    private func commit(_ group: [Job]) async {
        let runs = group.map(\.run)
        let failures = FailureBox(count: runs.count)
        do {
            try await pool.write { db in
                if runs.count == 1 {
                    // Alone: no savepoint needed; a failure rolls the transaction back and reaches the caller below.
                    try runs[0](db)
                    return
                }
                for (index, run) in runs.enumerated() {
                    try db.inSavepoint {
                        do {
                            try run(db)
                            return .commit
                        } catch {
                            failures.errors[index] = error
                            return .rollback
                        }
                    }
                }
            }
            for (job, failure) in zip(group, failures.errors) {
                job.finish(failure.map { .failure($0) } ?? .success(()))
            }
        } catch {
            // The transaction itself failed: none of the group's changes is stored. When a change's own failure (a
            // full disk, an I/O error) rolled the whole transaction back, the savepoint's rollback fails next with
            // "transaction was aborted": the change's error says what happened, so every caller gets that one.
            let cause = failures.errors.compactMap { $0 as? DatabaseError }.first { $0.resultCode != .SQLITE_CONSTRAINT }
            for job in group { job.finish(.failure(cause ?? error)) }
        }
    }
}

/// The failures of a group's changes, by position, out of the writer's transaction.
private final class FailureBox: @unchecked Sendable {
    var errors: [(any Error)?]

    init(count: Int) { errors = Array(repeating: nil, count: count) }
}

/// Carries a change's value out of the writer's transaction.
private final class ValueBox<T>: @unchecked Sendable {
    var value: T?
}
