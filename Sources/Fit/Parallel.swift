// Spreading independent jobs (starts of a grid, bootstrap resamples) over threads.
import Foundation

/// Calls `body(i)` for i in 0..<count on up to `threads` threads; thread t takes t, t + threads, …,
/// so uneven jobs spread evenly. `body` must only write to its own i's slot.
func forEachInParallel(_ count: Int, threads: Int, _ body: (Int) -> Void) {
    let chunks = max(1, min(threads, count))
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        var i = chunk
        while i < count {
            body(i)
            i += chunks
        }
    }
}
