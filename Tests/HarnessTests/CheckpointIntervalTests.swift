import Foundation
import XCTest
@testable import Harness

/// `--checkpoint-every` and the test hooks the command line hands to the trainer.
final class CheckpointIntervalTests: XCTestCase {
    func testParsesSecondsMinutesHoursAndOff() {
        XCTAssertEqual(CheckpointInterval.parse("30s")?.seconds, 30)
        XCTAssertEqual(CheckpointInterval.parse("10m")?.seconds, 600)
        XCTAssertEqual(CheckpointInterval.parse("2h")?.seconds, 7200)
        XCTAssertEqual(CheckpointInterval.parse("1.5m")?.seconds, 90)
        XCTAssertEqual(CheckpointInterval.parse(" 0.25s ")?.seconds, 0.25)
        XCTAssertEqual(CheckpointInterval.parse("45M")?.seconds, 2700)
        for off in ["0", "off", "OFF", "0s", "0m"] {
            XCTAssertEqual(CheckpointInterval.parse(off), .off, off)
            XCTAssertNil(CheckpointInterval.parse(off)?.seconds, off)
        }
        XCTAssertEqual(CheckpointInterval.standard.seconds, 600, "the default is 10 minutes")
        XCTAssertEqual(CheckpointInterval.parse("10m"), .standard)
    }

    func testRefusesValuesWithoutAUnitOrWithJunk() {
        for bad in ["", "10", "m", "-5m", "5d", "10 m", "1e3s", "ten m", "nans", "infm", "5mm", "0x10s", "+5m"] {
            XCTAssertNil(CheckpointInterval.parse(bad), "'\(bad)' should be refused")
        }
        let message = CheckpointInterval.usage("10")
        for part in ["--checkpoint-every", "30s", "off", "'10'"] { XCTAssertTrue(message.contains(part), message) }
    }

    func testDescriptionRoundTrips() {
        for text in ["30s", "10m", "2h", "off", "0.5s", "90s"] {
            let i = CheckpointInterval.parse(text)!
            XCTAssertEqual(CheckpointInterval.parse(i.description), i, text)
        }
        XCTAssertEqual(CheckpointInterval.parse("120m")?.description, "2h")
    }

    /// The command line maps the test variables of a child process to hooks; nothing below it
    /// reads the environment.
    func testHooksFromEnvironment() {
        let none = TrainingHooks(environment: [:])
        XCTAssertNil(none.afterStep)
        XCTAssertNil(none.nanLossAtStep)
        XCTAssertNil(none.nanLogitsAtEvaluation)
        let h = TrainingHooks(environment: ["RKAN_CRASH_AFTER_STEPS": "3", "RKAN_INJECT_NAN_AT_STEP": "4",
                                            "RKAN_INJECT_NAN_LOGITS_AT_EVAL": "0"])
        XCTAssertNotNil(h.afterStep)
        XCTAssertEqual(h.nanLossAtStep, 4)
        XCTAssertEqual(h.nanLogitsAtEvaluation, 0)
        XCTAssertNil(TrainingHooks(environment: ["RKAN_INJECT_NAN_AT_STEP": "x"]).nanLossAtStep)
    }
}
