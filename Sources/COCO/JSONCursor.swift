import Foundation

/// A pull parser over JSON bytes: the COCO readers ask for the value they expect next and
/// store it straight into their columns, so no document tree is ever built.
///
/// Why not Foundation's `JSONSerialization` or `JSONDecoder`: on a 450 MB instances file they
/// build a tree of boxed objects several times the file's size. Why not Debian's simdjson: it is
/// faster, but it is C++ (the project's first C++ dependency, through Swift's C++ interop), its
/// DOM API holds a tape about the input's size, and its On-Demand API would still leave the
/// typed checks below to write. This parser reads COCO's train file in about 4 s of CPU time with
/// nothing but the parsed columns in memory (Benchmarks/coco_reader.md), which is what the
/// training data path needs.
///
/// Safety: every read checks the end of the input (a truncated file is an error, not a read
/// past the end); skipping an unknown value nests at most `maxDepth` levels (a hostile file of
/// a million `[` is an error, not a stack overflow); integers must fit in `Int64`, numbers must
/// be finite and at most `maxNumberLength` characters, strings must be valid UTF-8.
struct JSONCursor {
    let base: UnsafePointer<UInt8>
    let count: Int
    let file: String
    private(set) var pos = 0

    static let maxDepth = 256
    static let maxNumberLength = 400

    /// What the next value is.
    enum Kind: Equatable, CustomStringConvertible {
        case object, array, string, number, bool, null
        var description: String {
            switch self {
            case .object: return "an object"
            case .array: return "an array"
            case .string: return "a string"
            case .number: return "a number"
            case .bool: return "true/false"
            case .null: return "null"
            }
        }
    }

    init(_ bytes: UnsafeRawBufferPointer, file: String) {
        base = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        count = bytes.count
        self.file = file
    }

    // MARK: errors

    func syntax(_ problem: String) -> COCOError { .syntax(file: file, offset: pos, problem: problem) }

    private func unexpected(_ expecting: String) -> COCOError {
        if pos >= count { return syntax("the file ends where \(expecting) should follow (truncated?)") }
        let b = base[pos]
        let shown = b >= 32 && b < 127 ? "'\(Character(Unicode.Scalar(b)))'" : "byte \(b)"
        return syntax("expected \(expecting), found \(shown)")
    }

    // MARK: structure

    @inline(__always) mutating func skipWhitespace() {
        while pos < count {
            let b = base[pos]
            if b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { pos += 1 } else { return }
        }
    }

    /// The kind of the next value (whitespace skipped).
    mutating func peek() throws -> Kind {
        skipWhitespace()
        guard pos < count else { throw unexpected("a value") }
        switch base[pos] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        default: throw unexpected("a value")
        }
    }

    @inline(__always) private mutating func consume(_ byte: UInt8, _ what: String) throws {
        skipWhitespace()
        guard pos < count, base[pos] == byte else { throw unexpected(what) }
        pos += 1
    }

    /// Enters an object: the next value must be `{`.
    mutating func beginObject() throws { try consume(UInt8(ascii: "{"), "'{'") }
    /// Enters an array: the next value must be `[`.
    mutating func beginArray() throws { try consume(UInt8(ascii: "["), "'['") }

    /// The next key of the current object (its raw bytes, escapes decoded), or nil at its `}`.
    /// - Parameter first: true for the first call after `beginObject`.
    mutating func nextKey(first: inout Bool) throws -> [UInt8]? {
        skipWhitespace()
        guard pos < count else { throw unexpected("a key or '}'") }
        if base[pos] == UInt8(ascii: "}") { pos += 1; return nil }
        if !first { try consume(UInt8(ascii: ","), "',' or '}'") }
        first = false
        skipWhitespace()
        guard pos < count, base[pos] == UInt8(ascii: "\"") else { throw unexpected("a key (a string)") }
        let key = try readStringBytes()
        try consume(UInt8(ascii: ":"), "':'")
        return key
    }

    /// A key as the position of its bytes in the input, or its decoded bytes when it has escapes:
    /// the readers compare keys without allocating (a COCO train file has six million of them).
    struct Key {
        let start: Int
        let count: Int
        let decoded: [UInt8]?
    }

    /// Like `nextKey`, without copying the key.
    mutating func nextKeyToken(first: inout Bool) throws -> Key? {
        skipWhitespace()
        guard pos < count else { throw unexpected("a key or '}'") }
        if base[pos] == UInt8(ascii: "}") { pos += 1; return nil }
        if !first { try consume(UInt8(ascii: ","), "',' or '}'") }
        first = false
        skipWhitespace()
        guard pos < count, base[pos] == UInt8(ascii: "\"") else { throw unexpected("a key (a string)") }
        let open = pos
        var p = pos + 1
        while p < count, base[p] != UInt8(ascii: "\""), base[p] != UInt8(ascii: "\\"), base[p] >= 0x20 { p += 1 }
        let key: Key
        if p < count, base[p] == UInt8(ascii: "\"") {
            key = Key(start: open + 1, count: p - open - 1, decoded: nil)
            pos = p + 1
        } else {
            key = Key(start: 0, count: 0, decoded: try readStringBytes())
        }
        try consume(UInt8(ascii: ":"), "':'")
        return key
    }

    /// Whether `key` is `name`.
    @inline(__always)
    func key(_ key: Key, is name: StaticString) -> Bool {
        let n = name.utf8CodeUnitCount
        if let d = key.decoded { return d.count == n && d.elementsEqual(UnsafeBufferPointer(start: name.utf8Start, count: n)) }
        return key.count == n && memcmp(base + key.start, name.utf8Start, n) == 0
    }

    /// True while the current array has another element (consumes the separating `,`), false
    /// at its `]`.
    mutating func nextElement(first: inout Bool) throws -> Bool {
        skipWhitespace()
        guard pos < count else { throw unexpected("a value or ']'") }
        if base[pos] == UInt8(ascii: "]") { pos += 1; return false }
        if !first { try consume(UInt8(ascii: ","), "',' or ']'") }
        first = false
        return true
    }

    /// Moves back to `offset`, a position this cursor has been at (to look at a value again).
    mutating func rewind(to offset: Int) { pos = offset }

    /// Requires the end of the input (only whitespace left).
    mutating func end() throws {
        skipWhitespace()
        guard pos >= count else { throw syntax("text follows the end of the JSON value") }
    }

    // MARK: scalars

    /// Reads `true`, `false` or `null` literally.
    private mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        guard pos + n <= count, memcmp(base + pos, word.utf8Start, n) == 0 else { throw unexpected("'\(word)'") }
        pos += n
    }

    mutating func readBool() throws -> Bool {
        skipWhitespace()
        if pos < count && base[pos] == UInt8(ascii: "t") { try literal("true"); return true }
        try literal("false")
        return false
    }

    mutating func readNull() throws { skipWhitespace(); try literal("null") }

    private static let powersOf10: [Double] = (0...22).map { pow(10.0, Double($0)) }

    /// Reads a number as a correctly rounded Double (what Python's `float()` gives): exact
    /// arithmetic when the digits fit in 2^53 and the power of ten is exact (Clinger's fast
    /// path), else the C library's `strtod` on the token.
    mutating func readDouble() throws -> Double {
        skipWhitespace()
        let start = pos
        var negative = false
        if pos < count && base[pos] == UInt8(ascii: "-") { negative = true; pos += 1 }
        guard pos < count, base[pos] >= 48 && base[pos] <= 57 else { throw unexpected("a number") }
        var mantissa: UInt64 = 0, digits = 0, exp10 = 0
        if base[pos] == 48 {
            pos += 1
        } else {
            while pos < count, base[pos] >= 48 && base[pos] <= 57 {
                if digits < 19 { mantissa = mantissa * 10 + UInt64(base[pos] - 48); digits += 1 } else { exp10 += 1 }
                pos += 1
            }
        }
        if pos < count && base[pos] == UInt8(ascii: ".") {
            pos += 1
            guard pos < count, base[pos] >= 48 && base[pos] <= 57 else { throw unexpected("a digit after '.'") }
            while pos < count, base[pos] >= 48 && base[pos] <= 57 {
                if digits < 19 { mantissa = mantissa * 10 + UInt64(base[pos] - 48); if mantissa != 0 { digits += 1 }; exp10 -= 1 }
                pos += 1
            }
        }
        var explicitExponent = 0
        if pos < count && (base[pos] | 0x20) == UInt8(ascii: "e") {
            pos += 1
            var expNegative = false
            if pos < count && (base[pos] == UInt8(ascii: "+") || base[pos] == UInt8(ascii: "-")) { expNegative = base[pos] == UInt8(ascii: "-"); pos += 1 }
            guard pos < count, base[pos] >= 48 && base[pos] <= 57 else { throw unexpected("a digit in the exponent") }
            while pos < count, base[pos] >= 48 && base[pos] <= 57 {
                if explicitExponent < 100_000 { explicitExponent = explicitExponent * 10 + Int(base[pos] - 48) }
                pos += 1
            }
            if expNegative { explicitExponent = -explicitExponent }
        }
        let length = pos - start
        guard length <= Self.maxNumberLength else { throw syntax("a number of \(length) characters (at most \(Self.maxNumberLength))") }
        let e = exp10 + explicitExponent
        var value: Double
        if digits <= 15 && mantissa < (1 << 53) && e >= -22 && e <= 22 {
            value = e < 0 ? Double(mantissa) / Self.powersOf10[-e] : Double(mantissa) * Self.powersOf10[e]
        } else {
            var token = [CChar](repeating: 0, count: length + 1)
            for i in 0..<length { token[i] = CChar(bitPattern: base[start + i]) }
            value = strtod(token, nil)
            negative = false
        }
        if negative { value = -value }
        guard value.isFinite else { pos = start; throw syntax("the number is out of range (not a finite double)") }
        return value
    }

    /// Reads an integer that fits in `Int64` (no fraction, no exponent).
    mutating func readInt() throws -> Int64 {
        skipWhitespace()
        let start = pos
        var negative = false
        if pos < count && base[pos] == UInt8(ascii: "-") { negative = true; pos += 1 }
        guard pos < count, base[pos] >= 48 && base[pos] <= 57 else { throw unexpected("an integer") }
        var magnitude: UInt64 = 0
        var overflow = false
        while pos < count, base[pos] >= 48 && base[pos] <= 57 {
            let (m1, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (m2, o2) = m1.addingReportingOverflow(UInt64(base[pos] - 48))
            overflow = overflow || o1 || o2
            magnitude = m2
            pos += 1
            if pos - start > Self.maxNumberLength { throw syntax("a number of more than \(Self.maxNumberLength) characters") }
        }
        if pos < count, base[pos] == UInt8(ascii: ".") || (base[pos] | 0x20) == UInt8(ascii: "e") {
            pos = start
            throw syntax("expected an integer, found a number with a fraction or exponent")
        }
        let limit: UInt64 = negative ? UInt64(Int64.max) + 1 : UInt64(Int64.max)
        guard !overflow, magnitude <= limit else { pos = start; throw syntax("the integer is out of range (64-bit)") }
        return negative ? Int64(truncatingIfNeeded: 0 &- magnitude) : Int64(magnitude)
    }

    /// Reads a string's bytes (UTF-8, escapes decoded).
    mutating func readStringBytes() throws -> [UInt8] {
        try consume(UInt8(ascii: "\""), "a string")
        var out: [UInt8] = []
        var runStart = pos
        while true {
            guard pos < count else { throw syntax("the file ends inside a string (truncated?)") }
            let b = base[pos]
            if b == UInt8(ascii: "\"") {
                out.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: pos - runStart))
                pos += 1
                break
            }
            if b < 0x20 { throw syntax("a control character (byte \(b)) inside a string") }
            if b == UInt8(ascii: "\\") {
                out.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: pos - runStart))
                pos += 1
                guard pos < count else { throw syntax("the file ends inside a string (truncated?)") }
                let e = base[pos]
                pos += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(8)
                case UInt8(ascii: "f"): out.append(12)
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "r"): out.append(13)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if scalar >= 0xD800 && scalar < 0xDC00 {
                        guard pos + 1 < count, base[pos] == UInt8(ascii: "\\"), base[pos + 1] == UInt8(ascii: "u") else {
                            throw syntax("an unpaired UTF-16 surrogate escape in a string")
                        }
                        pos += 2
                        let low = try hex4()
                        guard low >= 0xDC00 && low < 0xE000 else { throw syntax("an unpaired UTF-16 surrogate escape in a string") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if scalar >= 0xDC00 && scalar < 0xE000 {
                        throw syntax("an unpaired UTF-16 surrogate escape in a string")
                    }
                    out.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar)!)).utf8))
                default:
                    pos -= 1
                    throw syntax("an invalid escape '\\\(Character(Unicode.Scalar(e)))' in a string")
                }
                runStart = pos
                continue
            }
            pos += 1
        }
        guard String(validating: out, as: UTF8.self) != nil else { throw syntax("a string that is not valid UTF-8") }
        return out
    }

    private mutating func hex4() throws -> UInt32 {
        guard pos + 4 <= count else { throw syntax("the file ends inside a \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = base[pos]
            let d: UInt32
            switch c {
            case 48...57: d = UInt32(c - 48)
            case 65...70: d = UInt32(c - 55)
            case 97...102: d = UInt32(c - 87)
            default: throw syntax("a \\u escape with a non-hex digit")
            }
            v = v * 16 + d
            pos += 1
        }
        return v
    }

    mutating func readString() throws -> String { String(decoding: try readStringBytes(), as: UTF8.self) }

    /// Skips the next value of any kind, nesting at most `maxDepth` levels.
    mutating func skipValue() throws {
        var stack: [UInt8] = []   // the closing bracket of each open container
        var firstInContainer = true
        repeat {
            // One value.
            switch try peek() {
            case .object:
                pos += 1
                guard stack.count < Self.maxDepth else { throw syntax("nested more than \(Self.maxDepth) levels deep") }
                stack.append(UInt8(ascii: "}"))
                firstInContainer = true
            case .array:
                pos += 1
                guard stack.count < Self.maxDepth else { throw syntax("nested more than \(Self.maxDepth) levels deep") }
                stack.append(UInt8(ascii: "]"))
                firstInContainer = true
            case .string: _ = try skipString()
                firstInContainer = false
            case .number: _ = try readDouble(); firstInContainer = false
            case .bool: _ = try readBool(); firstInContainer = false
            case .null: try readNull(); firstInContainer = false
            }
            // Close finished containers; position before the next value.
            while let close = stack.last {
                skipWhitespace()
                guard pos < count else { throw unexpected(close == UInt8(ascii: "}") ? "a key or '}'" : "a value or ']'") }
                if base[pos] == close { pos += 1; stack.removeLast(); firstInContainer = false; continue }
                if !firstInContainer { try consume(UInt8(ascii: ","), close == UInt8(ascii: "}") ? "',' or '}'" : "',' or ']'") }
                if close == UInt8(ascii: "}") {
                    skipWhitespace()
                    guard pos < count, base[pos] == UInt8(ascii: "\"") else { throw unexpected("a key (a string)") }
                    try skipString()
                    try consume(UInt8(ascii: ":"), "':'")
                }
                break
            }
        } while !stack.isEmpty
    }

    /// Skips a string without decoding it (escapes are still checked for their syntax).
    private mutating func skipString() throws {
        // Strings in skipped values are rare (COCO's info/licenses); decode and drop.
        _ = try readStringBytes()
    }
}
