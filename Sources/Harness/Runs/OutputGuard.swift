import Foundation

/// Refuses to write an output over one of the command's inputs (`forward --output` over the
/// weights, `report --out` over a run file, `check --junit` over the baseline, ...).
///
/// Files are compared by device and inode after following symbolic links (stat(2)), not by
/// their names, so `./w.h5`, `w.h5`, a symlink to it and a hard link all count as the same
/// file. An output that does not exist yet cannot be an input.
public enum OutputGuard {
    /// The (device, inode) of the file `url` names, nil when there is none.
    static func identity(_ url: URL) -> (dev_t, ino_t)? {
        var st = stat()
        guard stat(url.path, &st) == 0 else { return nil }
        return (st.st_dev, st.st_ino)
    }

    /// Whether `a` and `b` name the same existing file.
    public static func same(_ a: URL, _ b: URL) -> Bool {
        guard let x = identity(a), let y = identity(b) else { return false }
        return x == y
    }

    /// - Parameters:
    ///   - output: the file about to be written.
    ///   - option: its option, e.g. `--output`.
    ///   - inputs: the files the command reads, with what they are (`--weights`, `run file`).
    /// - Throws: `HarnessError.badConfig` naming both and the fix.
    public static func check(output: URL, option: String, inputs: [(URL, String)]) throws {
        guard identity(output) != nil else { return }
        for (input, what) in inputs where same(output, input) {
            throw HarnessError.badConfig(what: "\(option) \(output.path)", detail:
                "it is the same file as the \(what) \(input.path), which this command reads; writing it would destroy that input. Pass another \(option)")
        }
    }
}
