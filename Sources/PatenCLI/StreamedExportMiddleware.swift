import HTTPTypes
import OpenAPIRuntime

import struct Foundation.URL

/// Lets `paten metrics export --format json` copy the export as it arrives. The API describes that answer as one JSON
/// array, which the generated client would read whole before returning; the CLI only copies bytes, so for this one
/// operation a JSON answer is handed over as the raw byte stream that the CSV answer already is.
struct StreamedExportMiddleware: ClientMiddleware {
    /// The operation whose JSON answer is passed on as a byte stream.
    static let operationID = "metricsExport"

    /// Passes the request on; relabels a JSON export so the generated client returns its body unread.
    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var (response, responseBody) = try await next(request, body, baseURL)
        if operationID == Self.operationID, response.headerFields[.contentType]?.hasPrefix("application/json") == true {
            response.headerFields[.contentType] = "text/csv"
        }
        return (response, responseBody)
    }
}
