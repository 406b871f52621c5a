import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import Metrics
import NIOCore
import PatenCore
import PatenHTTP
import PatenStorage
import Prometheus
import ServiceLifecycle

/// Wires the routes: operations at the root, the API under `/v1` behind bearer authentication, one error
/// middleware in front of everything, and 405 with `Allow` for a known path asked with a method it does not serve.
public func buildRouter(
    _ runtime: PatenRuntime, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
    accessLog: Logger = Logger(label: "paten.access")
) -> Router<PatenRequestContext> {
    let router = Router(context: PatenRequestContext.self)
    router.add(middleware: RequestLogMiddleware(logger: accessLog))
    router.add(middleware: PatenErrorMiddleware())
    router.add(middleware: MetricsMiddleware())
    OperationsController(policy: runtime.policy, readiness: { try await runtime.store.isReady() }).addRoutes(to: router)
    HookController(receiver: runtime.receiver).addRoutes(to: router)
    let configuration = runtime.configuration
    PrometheusEndpoint(
        registry: registry, metrics: runtime.metrics, escalations: runtime.escalations,
        integrations: runtime.integrations, programme: runtime.programme, clock: runtime.clock,
        cacheDuration: configuration.metricsCacheDuration,
        token: configuration.metricsToken
    )
    .addRoutes(to: router)
    let api = router.group("v1").add(middleware: BearerAuthenticator(directory: runtime.directory))
    QuestionController(
        desk: runtime.desk, idempotency: IdempotentRequests(store: runtime.store, clock: runtime.clock),
        incidents: runtime.incidents
    )
    .addRoutes(to: api)
    HelperController(directory: runtime.directory).addRoutes(to: api)
    EscalationController(
        desk: runtime.desk, escalations: runtime.escalations, directory: runtime.directory,
        heartbeatInterval: configuration.streamHeartbeatInterval, recheckInterval: configuration.streamRecheckInterval,
        streamsPerAccount: configuration.streamsPerAccount
    )
    .addRoutes(to: api)
    let pages = HTMLPages()
    RatingController(desk: runtime.desk, links: runtime.store, pages: pages).addRoutes(to: api)
    MetricsController(metrics: runtime.metrics).addRoutes(to: api)
    ProgrammeController(programme: runtime.programme, metrics: runtime.metrics).addRoutes(to: api)
    IntegrationController(integrations: runtime.integrations).addRoutes(to: api)
    IncidentController(incidents: runtime.incidents).addRoutes(to: api)
    CustomerController(privacy: runtime.privacy).addRoutes(to: api)
    let store = runtime.store
    ConsoleController(
        desk: runtime.desk, escalations: runtime.escalations, incidents: runtime.incidents,
        programme: runtime.programme, metrics: runtime.metrics, directory: runtime.directory,
        sessions: runtime.consoleSessions, console: store,
        feed: ConsoleFeed(escalations: runtime.escalations, counts: { try await ConsoleController.figures(store) }),
        charts: ConsoleCharts(metrics: runtime.metrics, clock: runtime.clock), pages: pages,
        secureCookies: configuration.externalURL.lowercased().hasPrefix("https:"),
        heartbeatInterval: configuration.streamHeartbeatInterval, recheckInterval: configuration.streamRecheckInterval,
        streamsPerAccount: configuration.streamsPerAccount
    )
    .addRoutes(to: router)
    router.add(middleware: MethodNotAllowedMiddleware(routes: router.routes))
    return router
}

/// The HTTP service with its background services, ready to run.
///
/// The server closes connections idle for `http_idle_timeout`, and those whose request head or whole request is
/// slower than `http_read_header_timeout` or `http_read_timeout` (a connection's first request counts from its
/// opening, so one that sends nothing is closed after the header timeout); it holds at most `http_max_connections`
/// open, and accepts no more until one closes. `onListening` receives the bound port once the server accepts connections
/// (useful with port 0).
public func buildApplication(
    _ runtime: PatenRuntime, logger: Logger, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
    onListening: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let configuration = runtime.configuration
    return Application(
        router: buildRouter(runtime, registry: registry),
        server: HTTPServerBuilder { responder in
            TimedHTTP1Channel(
                base: HTTP1Channel(
                    responder: responder, configuration: .init(idleTimeout: TimeAmount(configuration.httpIdleTimeout))
                ),
                headerTimeout: TimeAmount(configuration.httpReadHeaderTimeout),
                readTimeout: TimeAmount(configuration.httpReadTimeout)
            )
        },
        configuration: ApplicationConfiguration(
            address: .hostname(configuration.host, port: configuration.port), serverName: "paten",
            availableConnectionsDelegate: MaximumAvailableConnections(configuration.httpMaxConnections, logger: logger)
        ),
        services: backgroundServices(runtime, logger: logger),
        onServerRunning: { channel in await onListening(channel.localAddress?.port ?? configuration.port) },
        logger: logger
    )
}

/// `paten serve`: opens the runtime, creates the first admin on an empty database, and serves until SIGTERM or
/// SIGINT.
public func runServer(_ configuration: PatenConfiguration) async throws {
    LogOutput.bootstrap(format: configuration.logFormat, level: configuration.logLevel)
    var logger = Logger(label: "paten")
    logger.logLevel = configuration.logLevel
    try await PatenRuntime.with(configuration) { runtime in
        // One registry for the process: swift-metrics (HTTP, first responses, ratings) and the scrape-time gauges.
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(makePrometheusMetricsFactory(registry: registry))
        if let token = try await runtime.directory.bootstrapAdminIfEmpty() {
            FileHandle.standardError.write(Data("admin token: \(token.secret)\n".utf8))
        }
        let app = buildApplication(runtime, logger: logger, registry: registry) { port in
            FileHandle.standardError.write(
                Data("paten listening on http://\(configuration.host):\(port) (\(runtime.store.location))\n".utf8)
            )
        }
        // The database pool runs around the service group: it stops after the HTTP server and the background
        // services have drained.
        try await app.runService()
    }
}
