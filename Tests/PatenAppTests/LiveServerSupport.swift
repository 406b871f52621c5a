import Foundation
import Logging
import NIOCore
import NIOPosix
import PatenApp
import PatenCore
import PatenTestSupport
import ServiceLifecycle
import Synchronization

/// Runs the real `paten serve` application (server limits included) on a free port of 127.0.0.1 over a fresh test
/// environment, and shuts it down gracefully after the body.
func withLiveServer(
    backend: Backend = .sqlite, configure: (inout PatenConfiguration) -> Void = { _ in },
    _ body: @escaping @Sendable (TestEnvironment, Int) async throws -> Void
) async throws {
    try await withTestEnvironment(
        backend: backend,
        configure: { configuration in
            configuration.host = "127.0.0.1"
            configuration.port = 0
            configure(&configuration)
        }
    ) { env in
        var logger = Logger(label: "paten-test")
        logger.logLevel = .critical
        let (ports, listening) = AsyncStream.makeStream(of: Int.self)
        let app = buildApplication(env.runtime, logger: logger) { port in listening.yield(port) }
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { return }
            do {
                try await body(env, port)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}

/// A bare TCP connection to a test server, for what an HTTP client library will not do: send a request byte by
/// byte, hold a connection without sending, or watch exactly when the server closes it.
final class RawConnection: Sendable {
    let channel: any Channel
    private let received: ReceivedBytes

    private init(channel: any Channel, received: ReceivedBytes) {
        self.channel = channel
        self.received = received
    }

    /// Connects to 127.0.0.1 at the port.
    static func open(port: Int) async throws -> RawConnection {
        let received = ReceivedBytes()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(received) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return RawConnection(channel: channel, received: received)
    }

    /// Everything received so far, as text.
    var text: String { received.text }

    /// Whether the server (or this side) has closed the connection.
    var isClosed: Bool { !channel.isActive }

    /// Sends text; false when the connection is closed.
    @discardableResult
    func send(_ text: String) async -> Bool {
        (try? await channel.writeAndFlush(ByteBuffer(string: text))) != nil
    }

    /// Sends a GET with the headers, asking the server to close the connection after the response.
    func get(_ path: String, token: String? = nil, keepAlive: Bool = false) async {
        var head = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        if !keepAlive { head += "Connection: close\r\n" }
        await send(head + "\r\n")
    }

    /// Waits until the received text contains `fragment`; false after `limit`.
    func waitFor(_ fragment: String, within limit: Duration) async -> Bool {
        await poll(within: limit) { self.text.contains(fragment) }
    }

    /// Waits until the connection is closed; false after `limit`.
    func waitUntilClosed(within limit: Duration) async -> Bool {
        await poll(within: limit) { self.isClosed }
    }

    /// Closes this side.
    func close() async {
        try? await channel.close()
    }
}

/// Polls a condition every 20 ms until it holds (true) or `limit` passes (false).
func poll(within limit: Duration, _ condition: @Sendable () async -> Bool) async -> Bool {
    let end = ContinuousClock.now.advanced(by: limit)
    while ContinuousClock.now < end {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
}

/// Collects what a connection receives.
private final class ReceivedBytes: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    private let bytes = Mutex<[UInt8]>([])

    var text: String { String(decoding: bytes.withLock { $0 }, as: UTF8.self) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        bytes.withLock { $0.append(contentsOf: buffer.readableBytesView) }
    }
}
