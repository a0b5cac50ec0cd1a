import XCTest
import Model

/// Parameter and FLOP counts against the worked values in DESIGN.md (computed by hand from
/// Hoffmann et al. 2022, Appendix F).
final class CountingTests: XCTestCase {
    func testWorkedValuesSmall() {
        let c = GPTConfig(vocabSize: 2048, context: 128, d: 64, layers: 2)
        XCTAssertEqual(c.parameters, 238_208)
        XCTAssertEqual(c.nonEmbeddingParameters, 98_944)
        XCTAssertEqual(c.trainingFLOPsPerToken, 2_363_904)
    }

    func testWorkedValuesMedium() {
        let c = GPTConfig(vocabSize: 2048, context: 128, d: 128, layers: 3)
        XCTAssertEqual(c.parameters, 870_144)
        XCTAssertEqual(c.nonEmbeddingParameters, 591_616)
        XCTAssertEqual(c.trainingFLOPsPerToken, 7_288_320)
    }

    func testReferenceShapes() {
        // Counts of a PyTorch implementation: d=32, L=1 at V=2048 has 82,112 parameters; at V=512, 32,960;
        // d=16, L=1 with one head of 16 at V=512 has 13,408.
        XCTAssertEqual(GPTConfig(vocabSize: 2048, d: 32, layers: 1).parameters, 82_112)
        XCTAssertEqual(GPTConfig(vocabSize: 512, d: 32, layers: 1).parameters, 32_960)
        XCTAssertEqual(GPTConfig(vocabSize: 512, d: 16, layers: 1, headSize: 16).parameters, 13_408)
    }

    func testValidation() {
        XCTAssertThrowsError(try GPTConfig(d: 48, layers: 1).validate())
        XCTAssertNoThrow(try GPTConfig(d: 48, layers: 1, headSize: 48).validate())
        XCTAssertNoThrow(try GPTConfig(d: 96, layers: 2).validate())
        XCTAssertThrowsError(try GPTConfig(d: 64, layers: 0).validate())
    }
}
