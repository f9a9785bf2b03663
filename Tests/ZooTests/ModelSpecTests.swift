import XCTest
@testable import Zoo

final class ModelSpecTests: XCTestCase {
    func testCanonicalText() throws {
        XCTAssertEqual(try ModelSpec(parsing: " resnet50( width=0.5 ,stem=small)+rkan(mech=gating,stages=4/3) ").description,
                       "resnet50(stem=small,width=0.5)+rkan(stages=3/4,mech=gating)")
        XCTAssertEqual(try ModelSpec(parsing: "densenet121+rkan(kan=rbf)").description, "densenet121+rkan(kan=rbf)")
    }

    func testRejectsUnknownNamesWithTheValidChoices() {
        XCTAssertThrowsError(try ModelSpec(parsing: "resnet17")) { e in
            XCTAssertTrue("\(e)".contains("valid backbones: resnet18"), "\(e)")
        }
        XCTAssertThrowsError(try ModelSpec(parsing: "resnet18+rkan(kan=fourier)")) { e in
            XCTAssertTrue("\(e)".contains("chebyshev, rbf, b_spline"), "\(e)")
        }
    }

    func testStemSmallIsRejectedForTheDeepStem() {
        XCTAssertThrowsError(try Model("resnet101d(stem=small)", classes: 10)) { e in
            XCTAssertTrue("\(e)".contains("backbones with stem=small: resnet18"), "\(e)")
            XCTAssertFalse("\(e)".contains("resnet101d,"), "\(e)")
        }
    }

    func testWidthThatStarvesAttentionIsRejected() {
        XCTAssertThrowsError(try Model("ela_l_resnet50(width=0.03)", classes: 10)) { e in
            XCTAssertTrue("\(e)".contains("ELA needs a multiple of 16"), "\(e)")
        }
        XCTAssertThrowsError(try Model("seresnet50(width=0.01)", classes: 10)) { e in
            XCTAssertTrue("\(e)".contains("too few for SE"), "\(e)")
        }
    }

    func testDetectorWrapsABackboneSpec() throws {
        let s = try ModelSpec(parsing: " maskrcnn( resnet50(width=0.5)+rkan(inv=2) )")
        XCTAssertEqual(s.detector, .maskrcnn)
        XCTAssertEqual(s.description, "maskrcnn(resnet50(width=0.5)+rkan(inv=2))")
        XCTAssertEqual(s.classifierSpec.description, "resnet50(width=0.5)+rkan(inv=2)")
        XCTAssertEqual(try ModelSpec(parsing: s.description), s)
        for (bad, says) in [("maskrcnn(resnet50", "unbalanced"), ("maskrcnn(resnet50)x", "after its ')'"),
                            ("maskrcnn(maskrcnn(resnet50))", "cannot itself be a detector"),
                            ("maskrcnn(resnet5)", "its backbone: unknown backbone 'resnet5'"), ("maskrcnn", "maskrcnn(backbone…)")] {
            XCTAssertThrowsError(try ModelSpec(parsing: bad), bad) { e in XCTAssertTrue("\(e)".contains(says), "\(bad): \(e)") }
        }
        XCTAssertThrowsError(try Model(spec: s, classes: 10)) { e in
            XCTAssertTrue("\(e)".contains("not a classifier"), "\(e)")
        }
    }
}
