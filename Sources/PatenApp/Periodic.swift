import PatenCore
import ServiceLifecycle

/// Runs `pass` every `interval` of `clock` until graceful shutdown, which cancels the wait: the loop of every
/// background service.
func runPeriodically(every interval: Duration, on clock: any Clock, _ pass: @escaping @Sendable () async -> Void) async {
    await cancelWhenGracefulShutdown {
        // Shutdown cancels the sleep; that is the normal way out, not a failure.
        while (try? await clock.sleep(for: interval)) != nil {
            await pass()
        }
    }
}
