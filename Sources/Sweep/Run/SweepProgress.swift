// Where a sweep stands, from its stored runs alone (so any machine can ask): runs by state,
// FLOPs done, the recent FLOP rate, the time left at that rate, and the workers alive.
import Foundation

/// The part of a stored run that progress needs; tests make these by hand.
public struct RunProgress: Sendable {
    public var status: RunStatus
    /// Planned FLOPs of the whole run, and its steps.
    public var flops: Double
    public var steps: Int
    /// Last step whose metrics are stored.
    public var step: Int
    /// When it was first claimed and when it ended (seconds since 1970).
    public var started: Double?
    public var ended: Double?
    public var worker: String?
    public var host: String?
    public var pid: Int?
    public var leaseExpiry: Double?
    /// The step its own training starts from (a wsd branch's branch step, else 0); `flops`
    /// are those of its steps from there.
    public var firstStep = 0

    public init(status: RunStatus, flops: Double, steps: Int, step: Int = 0, started: Double? = nil,
                ended: Double? = nil, worker: String? = nil, host: String? = nil, pid: Int? = nil,
                leaseExpiry: Double? = nil, firstStep: Int = 0) {
        self.status = status
        self.flops = flops
        self.steps = steps
        self.step = step
        self.started = started
        self.ended = ended
        self.worker = worker
        self.host = host
        self.pid = pid
        self.leaseExpiry = leaseExpiry
        self.firstStep = firstStep
    }

    /// A run read from a shared run counts no FLOPs of its own: they are its shared run's; a
    /// wsd branch counts those of its cooldown, the steps before being its trunk's.
    public init(_ r: RunRecord) {
        self.init(status: r.status, flops: r.plan.trainedFLOPs, steps: r.plan.steps, step: r.step, started: r.started,
                  ended: r.ended, worker: r.worker, host: r.host, pid: r.pid, leaseExpiry: r.leaseExpiry,
                  firstStep: min(r.plan.firstTrainedStep, r.plan.steps))
    }

    /// FLOPs computed so far: all of a done run, the logged share of any other.
    var computedFLOPs: Double {
        let own = Double(max(steps - firstStep, 1))
        return status == .done ? flops : flops * Double(max(0, min(step, steps) - firstStep)) / own
    }
}

/// A worker holding an unexpired lease.
public struct LiveWorker: Equatable, Sendable {
    public var name: String
    public var host: String
    public var pid: Int
    /// Runs it holds (one per worker process, normally).
    public var runs: Int

    public init(name: String, host: String, pid: Int, runs: Int) {
        self.name = name
        self.host = host
        self.pid = pid
        self.runs = runs
    }
}

public struct SweepProgress: Sendable {
    public var total = 0
    public var byStatus: [RunStatus: Int] = [:]
    public var totalFLOPs = 0.0
    /// Finished runs (done, diverged, failed) count whole; planned and running ones their logged share.
    public var doneFLOPs = 0.0
    /// FLOPs per second over the recent window; nil before any work was done in it.
    public var recentFLOPsPerSecond: Double?
    /// Seconds the window actually covered (shorter than asked early in a sweep).
    public var windowSeconds = 0.0
    /// Remaining FLOPs at the recent rate; 0 when no run is left, nil when the rate is unknown.
    public var etaSeconds: Double?
    public var workers: [LiveWorker] = []

    public var remainingFLOPs: Double { max(0, totalFLOPs - doneFLOPs) }

    public init() {}

    /// Progress of a sweep's stored runs, now.
    public init(_ runs: [RunRecord]) {
        self.init(runs.map(RunProgress.init), now: Date().timeIntervalSince1970)
    }

    /// Progress at time `now` (seconds since 1970). The recent rate assumes each run advanced
    /// evenly from its first claim to its end (or to `now` for one still running) and counts the
    /// part of that work inside the last `window` seconds, divided by the part of the window
    /// since the sweep's first claim.
    public init(_ runs: [RunProgress], now: Double, window: Double = 300) {
        var workersByName: [String: LiveWorker] = [:]
        var recentFLOPs = 0.0
        var firstStart = Double.infinity
        let from = now - window
        for r in runs {
            total += 1
            byStatus[r.status, default: 0] += 1
            totalFLOPs += r.flops
            doneFLOPs += [.done, .diverged, .failed].contains(r.status) ? r.flops : r.computedFLOPs
            // A planned run that was started once (stopped, or released) is not advancing now.
            if let start = r.started, r.status != .planned {
                firstStart = min(firstStart, start)
                let end = r.status == .running ? now : (r.ended ?? now)
                if end > start {
                    let overlap = max(0, min(end, now) - max(start, from))
                    recentFLOPs += r.computedFLOPs * overlap / (end - start)
                }
            }
            if r.status == .running, let expiry = r.leaseExpiry, expiry > now, let name = r.worker {
                workersByName[name, default: LiveWorker(name: name, host: r.host ?? "?", pid: r.pid ?? 0, runs: 0)].runs += 1
            }
        }
        workers = workersByName.values.sorted { ($0.host, $0.pid) < ($1.host, $1.pid) }
        windowSeconds = firstStart.isFinite ? max(0, min(window, now - firstStart)) : 0
        if windowSeconds > 0, recentFLOPs > 0 { recentFLOPsPerSecond = recentFLOPs / windowSeconds }
        if byStatus[.planned, default: 0] + byStatus[.running, default: 0] == 0 {
            etaSeconds = 0
        } else if let rate = recentFLOPsPerSecond {
            etaSeconds = remainingFLOPs / rate
        }
    }
}
