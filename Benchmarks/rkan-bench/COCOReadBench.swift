import COCO
import Foundation

/// `rkan-bench coco-read FILE`: reads a COCO instances file once and prints the wall time, the
/// counts, the process's peak resident memory (`ru_maxrss`) and CPU time (on a loaded machine
/// the CPU time is the steadier number), for Benchmarks/coco_reader.md.
enum COCOReadBench {
    static func run(file path: String, index buildIndex: Bool) {
        let t0 = Date()
        do {
            let instances = try Instances.read(URL(fileURLWithPath: path))
            let read = Date().timeIntervalSince(t0)
            var line = "read \(path): \(instances.images.count) images, \(instances.annotationCount) annotations, "
                + "\(instances.coordinateCount) polygon coordinates (\(instances.coordinateSlots.count) Int32 slots), \(instances.rleCounts.count) RLE counts in \(String(format: "%.2f", read)) s"
            if buildIndex {
                let t1 = Date()
                let index = instances.imageIndex()
                line += "; image index in \(String(format: "%.2f", Date().timeIntervalSince(t1))) s (\(index.annotations.count) annotations)"
            }
            var usage = rusage()
            getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
            let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            print(line)
            let cpu = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) * 1e-6 + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) * 1e-6
            print(String(format: "file %.1f MB, peak RSS %.1f MB, CPU time (user + system) %.2f s", Double(bytes) / 1e6, Double(usage.ru_maxrss) / 1024, cpu))
        } catch {
            print("error: \(error)")
        }
    }
}
