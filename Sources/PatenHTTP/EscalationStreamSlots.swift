import Foundation
import PatenCore
import Synchronization

/// The escalation streams each account holds open in this process, so that one account (or a stolen token) cannot
/// tie up the server with streams.
public final class EscalationStreamSlots: Sendable {
    /// Streams one account may hold open at once.
    public let limit: Int
    private let open = Mutex<[String: Int]>([:])

    /// Creates an empty register allowing `limit` streams per account.
    public init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// The streams the account holds open now.
    public func count(for account: String) -> Int {
        open.withLock { $0[account] ?? 0 }
    }

    /// Takes a slot for a new stream, or refuses with 429 `too_many_streams` when the account holds `limit` already.
    func claim(for account: String, retryAfter: Duration) throws -> Slot {
        let granted = open.withLock { open -> Bool in
            let held = open[account] ?? 0
            guard held < limit else { return false }
            open[account] = held + 1
            return true
        }
        guard granted else {
            throw PatenError.tooManyRequests(
                "too_many_streams",
                "This account already has \(limit) escalation streams open; close one (or reuse it) before opening another.",
                retryAfter: Int(retryAfter.timeInterval.rounded(.up))
            )
        }
        return Slot(slots: self, account: account)
    }

    private func free(_ account: String) {
        open.withLock { open in
            let held = (open[account] ?? 1) - 1
            open[account] = held > 0 ? held : nil
        }
    }

    /// One open stream's place; given back once, when the stream ends or, at the latest, when it is dropped.
    final class Slot: Sendable {
        private let slots: EscalationStreamSlots
        private let account: String
        private let released = Atomic<Bool>(false)

        fileprivate init(slots: EscalationStreamSlots, account: String) {
            self.slots = slots
            self.account = account
        }

        /// Gives the slot back; later calls do nothing.
        func release() {
            guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
            slots.free(account)
        }

        // A response whose body never ran (the client left before the head was written) must not keep its slot.
        deinit { release() }
    }
}
