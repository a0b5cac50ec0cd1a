// Growing a sweep after it was planned: runs added by key, for pilots and adaptive grids.
import Foundation

extension SQLRunStore {
    public func addRuns(sweep: Int64, runs: [PlannedRun]) throws -> Int {
        try database.inTransaction {
            try lockSweepCreation()
            var stored: [String: String] = [:]
            try database.perform("SELECT key, config FROM runs WHERE sweep = ?", [.int(Int(sweep))]) {
                stored[$0.text(0)] = $0.text(1)
            }
            var name = "\(sweep)"
            try database.perform("SELECT name FROM sweeps WHERE id = ?", [.int(Int(sweep))]) { name = $0.text(0) }
            let insert = "INSERT INTO runs(\(StoreSchema.runInsertColumns)) VALUES (\(StoreSchema.runInsertPlaceholders))"
            var added = 0
            for r in runs {
                let json = try StoreSchema.json(r)
                if let old = stored[r.key] {
                    guard old == json else {
                        throw StoreError.sweepConflict(name: name, message: "run '\(r.key)' is already stored with a different plan")
                    }
                    continue
                }
                try database.perform(insert, try StoreSchema.runValues(sweep: sweep, r))
                stored[r.key] = json
                added += 1
            }
            return added
        }
    }
}
