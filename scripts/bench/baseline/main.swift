import Foundation
import GRDB
import Hummingbird

// The benchmark baseline: the least a Swift service can do per intake request on this stack. One Hummingbird
// route reads a JSON body and inserts it as one row into a GRDB `DatabasePool` (WAL, synchronous NORMAL, as
// Paten's store), then answers 201 with the row's id. Paten's intake throughput is reported as a share of this.
//
// usage: paten-bench-baseline PORT DATABASE_FILE

struct Submission: Decodable {
    var subject: String
    var body: String
}

let arguments = CommandLine.arguments
guard arguments.count == 3, let port = Int(arguments[1]) else {
    FileHandle.standardError.write(Data("usage: paten-bench-baseline PORT DATABASE_FILE\n".utf8))
    exit(2)
}
var configuration = Configuration()
configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
let pool = try DatabasePool(path: arguments[2], configuration: configuration)
try pool.write { db in
    try db.execute(
        sql: """
            CREATE TABLE IF NOT EXISTS rows (
                id TEXT PRIMARY KEY, subject TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL)
            """
    )
}

let router = Router()
router.post("rows") { request, context -> Response in
    let submission = try await request.decode(as: Submission.self, context: context)
    let id = UUID().uuidString
    try await pool.write { db in
        try db.execute(
            sql: "INSERT INTO rows (id, subject, body, created_at) VALUES (?, ?, ?, ?)",
            arguments: [id, submission.subject, submission.body, Int64(Date().timeIntervalSince1970 * 1000)]
        )
    }
    return Response(status: .created, body: .init(byteBuffer: ByteBuffer(string: #"{"id":"\#(id)"}"#)))
}
let app = Application(
    router: router, configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "baseline")
)
FileHandle.standardError.write(Data("baseline listening on \(port)\n".utf8))
try await app.runService()
