import Foundation
import GRDB
import PatenCore

extension SQLiteStore {
    /// Fills the database with `count` open volunteer-tier questions for benchmarks (see `StoreDiagnostics`), in
    /// batches of 10,000 per transaction.
    public func seedOpenQuestions(
        count: Int, dueCount: Int, spread: Bool, createdBy: String, at now: Date
    ) async throws -> Int {
        let batch = 10_000
        var written = 0
        let nowMs = now.millisecondsSince1970
        let runId = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        while written < count {
            let start = written
            let end = min(count, start + batch)
            try await pool.write { db in
                let question = try db.makeStatement(
                    sql: """
                        INSERT INTO questions (id, subject, customer_id, customer_name, channel, topic, language, priority,
                        priority_rank, tier, state, peer_deadline_at, created_by, created_at, updated_at)
                        VALUES (?, ?, ?, 'Seed Customer', 'api', 'general', 'en', 'normal', 1, 'volunteer', 'open', ?, ?, ?, ?)
                        """
                )
                let timer = try db.makeStatement(
                    sql: """
                        INSERT INTO sla_timers (question_id, target, started_at, due_at, next_check_at, status)
                        VALUES (?, 'peer_window', ?, ?, ?, 'running')
                        """
                )
                for index in start..<end {
                    let id = "q_seed\(runId)_" + String(format: "%09d", index)
                    let step = max(1, count / max(1, dueCount))
                    let isDue = spread ? dueCount > 0 && index % step == 0 && index / step < dueCount : index < dueCount
                    let created = nowMs - 3_600_000 - Int64(count - index)
                    let due = isDue ? nowMs - 1000 : nowMs + 86_400_000
                    try question.execute(arguments: [id, "Seeded question \(index)", "cust-\(index)", due, createdBy, created, created])
                    try timer.execute(arguments: [id, created, due, due])
                }
            }
            written = end
        }
        return written
    }
}
