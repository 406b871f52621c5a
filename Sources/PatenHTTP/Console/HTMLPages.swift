import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import PatenCore

/// Renders the console's and the rating page's templates into responses with the headers every page carries: no
/// inline script (Content-Security-Policy), no framing, no referrer (rating links carry their token in the path), no
/// caching.
public struct HTMLPages: Sendable {
    let library: MustacheLibrary

    /// Parses the templates; a template that does not parse is a programming error caught by every test.
    public init() {
        var library = MustacheLibrary()
        for (name, text) in ConsoleTemplates.all {
            do {
                try library.register(text, named: name)
            } catch {
                preconditionFailure("console template \(name) does not parse: \(error)")
            }
        }
        self.library = library
    }

    /// The headers of every HTML page.
    static let securityHeaders: HTTPFields = {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.contentSecurityPolicy] =
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
            + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        headers[.xFrameOptions] = "DENY"
        headers[.xContentTypeOptions] = "nosniff"
        headers[.referrerPolicy] = "no-referrer"
        headers[.cacheControl] = "no-store"
        return headers
    }()

    /// The template rendered with the values, as a response.
    func response(_ template: String, _ values: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        var values = values
        if values["lang"] == nil { values["lang"] = "en" }
        guard let html = library.render(values, withTemplate: template) else {
            preconditionFailure("no console template \(template)")
        }
        return Response(status: status, headers: Self.securityHeaders, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// A page that only says something.
    func message(
        _ heading: String, _ text: String, status: HTTPResponse.Status, link: (href: String, label: String)? = nil,
        base: [String: Any] = [:], lang: String = "en"
    ) -> Response {
        var values = base
        values["title"] = heading
        values["heading"] = heading
        values["text"] = text
        values["lang"] = lang
        if let link { values["link"] = ["href": link.href, "label": link.label] }
        return response("message", values, status: status)
    }
}

extension HTTPField.Name {
    static var contentSecurityPolicy: Self { Self("Content-Security-Policy") ?? .cacheControl }
    static var xFrameOptions: Self { Self("X-Frame-Options") ?? .cacheControl }
    static var xContentTypeOptions: Self { Self("X-Content-Type-Options") ?? .cacheControl }
    static var referrerPolicy: Self { Self("Referrer-Policy") ?? .cacheControl }
}

/// A form body (`application/x-www-form-urlencoded`) as names and values; the last of a repeated name wins.
struct FormBody {
    /// Largest form accepted.
    static let limit = 64 * 1024

    var values: [String: String]

    subscript(_ name: String) -> String? { values[name] }

    /// Whether the request says it carries a form.
    static func isForm(_ request: Request) -> Bool {
        request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") ?? false
    }

    /// Reads the request's form: 415 `unsupported_media_type` for another body, 413 when larger than `limit`.
    static func read(_ request: Request) async throws -> FormBody {
        guard isForm(request) else {
            throw PatenError(
                .malformed, code: "unsupported_media_type",
                message: "Send the form as application/x-www-form-urlencoded."
            )
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw PatenError(.tooLarge, code: "body_too_large", message: "The form is larger than \(limit / 1024) KiB.")
        }
        return FormBody(parsing: String(buffer: buffer))
    }

    /// Parses `a=1&b=two+words` with percent escapes.
    init(parsing text: String) {
        var values: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String? {
                String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
            }
            guard let name = decode(parts[0]) else { continue }
            values[name] = parts.count > 1 ? decode(parts[1]) ?? "" : ""
        }
        self.values = values
    }
}
