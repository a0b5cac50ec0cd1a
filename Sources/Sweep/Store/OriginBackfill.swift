// The data half of the schema step `StoreSchema.runOrigins`: what stores written before it kept
// as prose (an adaptive run's "reason" in its plan's JSON, a pilot's LR multiplier in its key,
// "copied from run N" in a ladder run's message) moved into the typed columns, once, in the
// migration's transaction.
import Foundation

extension StoreSchema {
    /// Work a schema step does in Swift after its SQL, inside the same transaction.
    static func finish<D: StoreDatabase>(step: String, in db: D) throws {
        if step == runOrigins { try backfillRunOrigins(db) }
    }

    /// The prefix of the message `copyResult` wrote before `copied_from` existed.
    static let copiedMessagePrefix = "copied from run "

    private struct OldReason: Decodable { var reason: String? }

    static func backfillRunOrigins<D: StoreDatabase>(_ db: D) throws {
        var rows: [(id: Int, key: String, config: String, message: String?)] = []
        try db.perform("""
            SELECT id, key, config, message FROM runs
            WHERE config LIKE '%"reason":%' OR key LIKE '% lr*%' OR message LIKE 'copied from run %'
            """, []) { rows.append((id: $0.int(0), key: $0.text(1), config: $0.text(2), message: $0.optionalText(3))) }
        for row in rows {
            var origin = RunOrigin.grid
            var config = row.config
            if let reason = try? JSONDecoder().decode(OldReason.self, from: Data(row.config.utf8)).reason {
                origin = reason.hasPrefix("extra shape") ? .extraShape : reason.hasPrefix("grid centred") ? .centred : .grid
                // The plan as this isoflop writes it (without the reason), so that planning the
                // sweep again finds the same runs.
                config = try json(JSONDecoder().decode(PlannedRun.self, from: Data(row.config.utf8)))
            }
            if let mark = row.key.range(of: " lr*", options: .backwards), let m = Double(row.key[mark.upperBound...]) {
                origin = .pilot(multiplier: m)
            }
            var copiedFrom: Int?
            var message = row.message
            if let text = message, text.hasPrefix(copiedMessagePrefix) {
                copiedFrom = Int(text.dropFirst(copiedMessagePrefix.count).prefix { $0.isNumber })
                message = nil
            }
            try db.perform("UPDATE runs SET config = ?, origin = ?, lr_multiplier = ?, copied_from = ?, message = ? WHERE id = ?",
                           [.text(config), .text(origin.column), origin.multiplier.map { .double($0) } ?? .null,
                            copiedFrom.map { .int($0) } ?? .null, message.map { .text($0) } ?? .null, .int(row.id)])
        }
    }
}
