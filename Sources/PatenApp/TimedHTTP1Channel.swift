import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// HTTP/1.1 as Hummingbird serves it, plus deadlines for reading each request: its line and headers must arrive
/// within `headerTimeout` of its start, and the whole request (body included) within `readTimeout`, or the
/// connection is closed. A connection's first request starts when the connection opens, so a client that connects
/// and sends nothing is closed after `headerTimeout`, not after the idle timeout. A later request on a keep-alive
/// connection starts at its first byte: waiting between requests is the idle timeout's business. A response being
/// written (an escalation stream, an export) is never cut.
struct TimedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let base: HTTP1Channel
    let headerTimeout: TimeAmount
    let readTimeout: TimeAmount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let deadline = RequestReadDeadline(headerTimeout: headerTimeout, readTimeout: readTimeout)
            let pipeline = channel.pipeline.syncOperations
            // Raw bytes at the front tell when a request starts; decoded parts after the decoder tell when its head
            // and its end arrived and when its response ended.
            let decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try pipeline.addHandler(RequestBytesWatcher(deadline: deadline), position: .first)
            try pipeline.addHandler(RequestPartsWatcher(deadline: deadline), position: .after(decoder))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

/// The read deadline of one connection's current request; used only on the connection's event loop.
final class RequestReadDeadline {
    let headerTimeout: TimeAmount
    let readTimeout: TimeAmount
    private var headsReceived = 0
    private var responsesEnded = 0
    private var opened = false
    private var requestStartedAt: NIODeadline?
    private var timer: Scheduled<Void>?

    init(headerTimeout: TimeAmount, readTimeout: TimeAmount) {
        self.headerTimeout = headerTimeout
        self.readTimeout = readTimeout
    }

    /// The connection opened: its first request starts now, so a client that sends nothing is closed once the head
    /// is due.
    func connectionOpened(_ context: ChannelHandlerContext) {
        guard !opened else { return }
        opened = true
        startRequest(context)
    }

    /// Bytes came in: when no request is under way, they start one.
    func bytesArrived(_ context: ChannelHandlerContext) {
        guard headsReceived == responsesEnded, timer == nil else { return }
        startRequest(context)
    }

    /// The request's head is complete: the rest of the request is due `readTimeout` after its start.
    func headArrived(_ context: ChannelHandlerContext) {
        headsReceived += 1
        cancel()
        closeConnection(context, at: (requestStartedAt ?? .now()) + readTimeout)
        requestStartedAt = nil
    }

    /// The request has been read whole; its response may take as long as it needs.
    func requestEnded() { cancel() }

    /// A response ended; the next bytes start the next request.
    func responseEnded() { responsesEnded += 1 }

    func cancel() {
        timer?.cancel()
        timer = nil
    }

    /// A request starts: its head is due `headerTimeout` from now.
    private func startRequest(_ context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        requestStartedAt = now
        closeConnection(context, at: now + headerTimeout)
    }

    private func closeConnection(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(deadline: deadline) { channel.close(promise: nil) }
    }
}

/// Sees the connection open and the raw bytes as they arrive, before the HTTP decoder.
final class RequestBytesWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let deadline: RequestReadDeadline

    init(deadline: RequestReadDeadline) {
        self.deadline = deadline
    }

    // An accepted connection may already be active when the handler is added, or become active just after.
    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { deadline.connectionOpened(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        deadline.connectionOpened(context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        deadline.bytesArrived(context)
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline.cancel()
        context.fireChannelInactive()
    }
}

/// Sees decoded request parts and the response parts written back.
final class RequestPartsWatcher: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let deadline: RequestReadDeadline

    init(deadline: RequestReadDeadline) {
        self.deadline = deadline
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: deadline.headArrived(context)
        case .end: deadline.requestEnded()
        case .body: break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { deadline.responseEnded() }
        context.write(data, promise: promise)
    }
}
