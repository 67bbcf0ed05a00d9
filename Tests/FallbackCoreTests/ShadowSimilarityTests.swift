import Testing

@testable import FallbackCore

@Suite("Shadow: token-set Jaccard similarity")
struct ShadowSimilarityTests {
    func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) < 1e-12 }

    @Test("identical texts are 1, disjoint ones 0")
    func identicalAndDisjoint() {
        #expect(Similarity.jaccard("The quick brown fox", "The quick brown fox") == 1)
        #expect(Similarity.jaccard("alpha beta", "gamma delta") == 0)
    }

    @Test("case, punctuation, whitespace, order and repetition do not matter")
    func normalisation() {
        #expect(Similarity.jaccard("The cat sat.", "the CAT, sat!") == 1)
        #expect(Similarity.jaccard("sat cat the", "The   cat\n\tsat") == 1)
        #expect(Similarity.jaccard("the the the cat", "cat the") == 1)
        #expect(Similarity.jaccard("GPT-4o", "gpt 4o") == 1)
        #expect(Similarity.jaccard("Café Ÿ", "café ÿ") == 1)
    }

    @Test("partial overlap: shared over union")
    func partial() {
        #expect(close(Similarity.jaccard("a b c", "b c d"), 0.5))  // {b, c} of {a, b, c, d}
        #expect(close(Similarity.jaccard("one two three", "one"), 1.0 / 3))
        #expect(close(Similarity.jaccard("x1 y2", "X1 z3 w4"), 0.25))
        #expect(close(Similarity.jaccard("a b c", "b c d"), Similarity.jaccard("b c d", "a b c")))
    }

    @Test("two empty texts are 1 (also texts with no words); only one empty is 0")
    func empties() {
        #expect(Similarity.jaccard("", "") == 1)
        #expect(Similarity.jaccard("...", "  !? ") == 1)
        #expect(Similarity.jaccard("", "hello") == 0)
        #expect(Similarity.jaccard("hello", "") == 0)
        #expect(Similarity.jaccard("--", "hello") == 0)
    }

    @Test("words are runs of letters and digits, lowercased")
    func words() {
        #expect(Similarity.words("Don't stop: 42 times, DON'T!") == ["don", "t", "stop", "42", "times"])
        #expect(Similarity.words("") == [])
        #expect(Similarity.words("a1b2_c3") == ["a1b2", "c3"])
    }
}
