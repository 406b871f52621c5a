import Hummingbird
import PatenCore

extension Request {
    /// A query parameter read as one of an enumeration's values; 400 naming the parameter when it is not one.
    func query<T: RawRepresentable & CaseIterable>(_ name: String, as type: T.Type) throws -> T?
    where T.RawValue == String {
        guard let text = uri.queryParameters.get(name) else { return nil }
        guard let value = T(rawValue: text) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw PatenError.malformed("invalid_query", "Query parameter '\(name)' must be one of: \(allowed).")
        }
        return value
    }

    /// A whole-number query parameter; 400 naming the parameter when it is not one.
    func query(_ name: String, default value: Int) throws -> Int {
        guard let text = uri.queryParameters.get(name) else { return value }
        guard let number = Int(text) else {
            throw PatenError.malformed("invalid_query", "Query parameter '\(name)' must be a whole number.")
        }
        return number
    }

    /// An optional whole-number query parameter that must lie in `range`; 400 naming the parameter and the range
    /// otherwise.
    func query(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = uri.queryParameters.get(name) else { return nil }
        guard let number = Int(text), range.contains(number) else {
            throw PatenError.malformed(
                "invalid_query", "Query parameter '\(name)' must be a whole number from \(range.lowerBound) to \(range.upperBound)."
            )
        }
        return number
    }
}

extension PatenRequestContext {
    /// The `{id}` path parameter.
    func pathID() throws -> String {
        try parameters.require("id")
    }
}
