import Foundation
import Hummingbird
import MarginCore

/// Requires `Authorization: Bearer <token>` when a token is configured.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let token {
            guard Self.constantTimeEqual(request.headers[.authorization] ?? "", "Bearer \(token)") else {
                return HTTPError.response(.unauthorized, "missing or wrong bearer token")
            }
        }
        return try await next(request, context)
    }

    /// Compares without an early exit on the first differing byte (the time does not tell how
    /// much of a guessed token was right; only the length may differ).
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference: UInt8 = x.count == y.count ? 0 : 1
        for index in 0..<max(x.count, y.count) {
            difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
        }
        return difference == 0
    }
}

/// A JSON response.
func json(_ data: Data, status: HTTPResponse.Status = .ok) -> Response {
    Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

/// An error answer: `{"error": reason}` with the status.
enum HTTPError {
    static func response(_ status: HTTPResponse.Status, _ reason: String) -> Response {
        let body = (try? JSONSerialization.data(withJSONObject: ["error": reason])) ?? Data(#"{"error":"unencodable reason"}"#.utf8)
        return json(body, status: status)
    }
}

/// The `{id}` path parameter, percent-decoded once: the router matches the raw path, so an id with
/// reserved characters arrives encoded (`acct x/1` as `acct%20x%2F1`). Nil when missing or malformed.
func accountID(_ context: some RequestContext) -> String? {
    guard let raw = context.parameters.get("id"), let id = raw.removingPercentEncoding, !id.isEmpty else { return nil }
    return id
}

/// Reads a JSON body of at most `limit` bytes and answers with `handle`'s response: an oversized
/// body is 413; a `MarginError` or an undecodable body is 400 naming the problem.
func answer(_ request: Request, limit: Int, _ handle: (Data) async throws -> Response) async -> Response {
    var request = request
    let body: ByteBuffer
    do {
        body = try await request.collectBody(upTo: limit)
    } catch {
        return HTTPError.response(.contentTooLarge, "body larger than \(limit) bytes")
    }
    do {
        return try await handle(Data(body.readableBytesView))
    } catch let error as MarginError {
        return HTTPError.response(.badRequest, error.description)
    } catch {
        return HTTPError.response(.badRequest, "\(error)")
    }
}
