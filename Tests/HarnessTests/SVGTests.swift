import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import Harness

/// Parses XML and counts elements and selected attributes.
private final class SVGInspector: NSObject, XMLParserDelegate {
    var elements: [String: Int] = [:]
    var dashed = 0
    /// `line` elements drawn 1.5 wide: CI whiskers and the legend's whisker sample.
    var thickLines = 0
    var root: [String: String] = [:]
    var texts: [String] = []
    private var inText = false

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if elements.isEmpty { root = attributes.merging(["name": name]) { a, _ in a } }
        elements[name, default: 0] += 1
        if name == "polyline", attributes["stroke-dasharray"] != nil { dashed += 1 }
        if name == "line", attributes["stroke-width"] == "1.50" { thickLines += 1 }
        if name == "text" { inText = true; texts.append("") }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inText { texts[texts.count - 1] += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" { inText = false }
    }

    static func inspect(_ svg: String, file: StaticString = #filePath, line: UInt = #line) -> SVGInspector {
        let inspector = SVGInspector()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = inspector
        XCTAssertTrue(parser.parse(), "SVG does not parse: \(String(describing: parser.parserError))", file: file, line: line)
        XCTAssertEqual(inspector.root["name"], "svg", file: file, line: line)
        XCTAssertEqual(inspector.root["version"], "1.1", file: file, line: line)
        return inspector
    }
}

final class SVGTests: XCTestCase {
    private var suite: Suite { get throws { try Suite.decode(yaml: demoYAML, file: "Suites/demo.yaml") } }

    func testLearningCurvesParseAndDrawOneLinePerRun() throws {
        let svg = SVGLearningCurves.render(suite: try suite, runs: SyntheticRuns.runs, profile: "nightly")
        let doc = SVGInspector.inspect(svg)
        // 3 baseline runs (dashed) + 2 finished RKAN runs; the diverged run has one finite point → a circle.
        XCTAssertEqual(doc.elements["polyline"], 5)
        XCTAssertEqual(doc.dashed, 3)
        XCTAssertEqual(doc.elements["circle"], 1)
        XCTAssertTrue(doc.texts.contains("epoch"))
        XCTAssertTrue(doc.texts.contains("resnet101 (baseline)"))
        XCTAssertTrue(doc.texts.contains("rkanet101 (rkan)"))
        // y ticks are nice numbers covering 10 … 86: 0, 20, …, 100; x ticks are epochs 1, 2, 3.
        for tick in ["0", "20", "40", "60", "80", "100", "1", "2", "3"] { XCTAssertTrue(doc.texts.contains(tick), tick) }
        XCTAssertEqual(svg, SVGLearningCurves.render(suite: try suite, runs: SyntheticRuns.runs.reversed(), profile: "nightly"),
                       "same runs, same bytes")
    }

    func testDeltaChartHasBarWhiskersAndPublishedMarker() throws {
        let svg = SVGDeltaChart.render(suite: try suite, runs: SyntheticRuns.runs, profile: "nightly", seeds: [0, 1, 2])
        let doc = SVGInspector.inspect(svg)
        XCTAssertEqual(doc.elements["rect"], 3, "background, one bar, legend swatch")
        XCTAssertEqual(doc.elements["path"], 2, "published marker + legend marker")
        XCTAssertTrue(doc.texts.contains("+1.25 (n=2)"))
        XCTAssertTrue(doc.texts.contains("rkanet101"))
        // The interval [-1.93, 4.43] sets the ticks: -2 … 6 in steps of 2.
        for tick in ["-2", "0", "2", "4", "6"] { XCTAssertTrue(doc.texts.contains(tick), tick) }
        XCTAssertEqual(svg, SVGDeltaChart.render(suite: try suite, runs: SyntheticRuns.runs, profile: "nightly", seeds: [0, 1, 2]))
    }

    func testDeltaChartWithOneSeedHasNoWhiskers() throws {
        let runs = SyntheticRuns.runs.filter { $0.seed == 0 }
        let one = SVGInspector.inspect(SVGDeltaChart.render(suite: try suite, runs: runs, profile: "nightly", seeds: [0]))
        let two = SVGInspector.inspect(SVGDeltaChart.render(suite: try suite, runs: SyntheticRuns.runs, profile: "nightly",
                                                            seeds: [0, 1, 2]))
        XCTAssertEqual(two.thickLines, 4, "whisker (3 lines) + legend sample")
        XCTAssertEqual(one.thickLines, 1, "n = 1: legend sample only, no whisker")
        XCTAssertTrue(one.texts.contains("+1.00 (n=1)"))
    }

    func testEmptyChartsAreStillValid() throws {
        let curves = SVGInspector.inspect(SVGLearningCurves.render(suite: try suite, runs: [], profile: "smoke"))
        XCTAssertTrue(curves.texts.contains("no val_top1 values yet"))
        let deltas = SVGInspector.inspect(SVGDeltaChart.render(suite: try suite, runs: [], profile: "smoke", seeds: [0]))
        XCTAssertTrue(deltas.texts.contains("no paired runs"))
    }

    func testTextIsEscaped() throws {
        var suite = try self.suite
        suite.title = "A <b> & \"c\""
        let svg = SVGLearningCurves.render(suite: suite, runs: SyntheticRuns.runs, profile: "nightly")
        let doc = SVGInspector.inspect(svg)
        XCTAssertTrue(doc.texts.contains { $0.hasPrefix("A <b> & \"c\":") })
    }

    func testScaleTicks() {
        // Range 2.9 over 5 intervals = 0.58 → the next nice step is 1.
        let scale = SVGScale(min: 83.2, max: 86.1, start: 0, end: 100)
        XCTAssertEqual(scale.ticks, [83, 84, 85, 86, 87])
        XCTAssertEqual(scale.label(84), "84")
        XCTAssertEqual(scale(83), 0)
        XCTAssertEqual(scale(87), 100, accuracy: 1e-9)
        XCTAssertEqual(scale(85), 50, accuracy: 1e-9)
        // 0.37 / 5 = 0.074 → step 0.1, one decimal.
        let small = SVGScale(min: 0.12, max: 0.49, start: 100, end: 0)
        XCTAssertEqual(small.ticks.count, 5)
        XCTAssertEqual(small.ticks.first!, 0.1, accuracy: 1e-12)
        XCTAssertEqual(small.ticks.last!, 0.5, accuracy: 1e-12)
        XCTAssertEqual(small.ticks.map(small.label), ["0.1", "0.2", "0.3", "0.4", "0.5"])
        XCTAssertEqual(small(0.5), 0, accuracy: 1e-9)
        XCTAssertEqual(SVGScale(min: 1, max: 4, start: 0, end: 1, integer: true).ticks, [1, 2, 3, 4])
    }
}
